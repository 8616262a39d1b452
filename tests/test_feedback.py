"""The feedback loop: corrections checked before they join the training set, the recorded batch of
new messages and its reviewer's feedback, and the widget driven from Python (flag, correct,
round 2, the regression check)."""

import json
from pathlib import Path

import matplotlib
import pytest

from ftlab.chat.corrections import examples_from_corrections, training_labels
from ftlab.chat.duplicates import find_duplicates, normalize
from ftlab.chat.labels import normalize_label
from ftlab.chat.files import read_chat_jsonl
from ftlab.chat.validate import validate_chat
from ftlab.widgets.feedback import FeedbackLoop, feedback_loop

matplotlib.use("Agg")

CHAT = Path(__file__).resolve().parent.parent / "data" / "chat"
LABELS = ["account", "billing", "shipping", "technical"]


def tickets(name):
    return read_chat_jsonl(CHAT / f"tickets_{name}.jsonl", strict=True)


@pytest.fixture(scope="module")
def sets():
    return {name: tickets(name) for name in ("train", "valid", "test", "new_messages")}


def user(record):
    return record["messages"][1]["content"]


def check(corrections, sets, **kwargs):
    return examples_from_corrections(corrections, sets["train"], valid=sets["valid"],
                                     test=sets["test"], labels=LABELS, **kwargs)


# ----------------------------------------------------------------------------- corrections


def test_an_accepted_correction_is_a_training_example_in_the_files_format(sets):
    assert training_labels(sets["train"]) == LABELS
    result = check([{"message": "  The poetry ebook I bought shows every line twice. ",
                     "reply": " Technical."}], sets)
    assert not result.refused and result.accepted_index == [0]
    example = result.accepted[0]
    assert example["messages"][0] == sets["train"][0]["messages"][0]      # same system prompt
    assert example["messages"][1:] == [
        {"role": "user", "content": "The poetry ebook I bought shows every line twice."},
        {"role": "assistant", "content": "technical"}]                    # stored as the label
    assert validate_chat(sets["train"] + result.accepted).ok


def test_duplicates_of_training_messages_are_refused_and_conflicts_named(sets):
    same = user(sets["train"][45])                       # "I was charged twice ... this morning."
    result = check([(same.upper(), "billing"), (same, "shipping"),
                    ("The app crashes each time I open my library.", "technical")], sets)
    assert not result.accepted
    codes = [r.code for r in result.refused]
    assert codes == ["duplicate_of_training", "conflicts_with_training", "duplicate_of_training"]
    assert "the same message as line 46 of tickets_train.jsonl" in result.refused[0].reason
    assert "whose reply is 'billing'" in result.refused[1].reason
    assert "nearly the same message (similarity" in result.refused[2].reason


def test_leakage_into_the_validation_or_test_set_is_refused_with_which_and_why(sets):
    result = check([("Do you take Apple Pay?", "billing"),
                    ("Do you take Apple Pay at all?", "billing"),
                    (user(sets["valid"][0]), "account")], sets)
    assert not result.accepted and [r.code for r in result.refused] == ["leakage"] * 3
    test_line = 1 + [user(r) for r in sets["test"]].index("Do you take Apple Pay?")
    assert f"the same message as line {test_line} of tickets_test.jsonl" in result.refused[0].reason
    assert "nearly the same message (similarity" in result.refused[1].reason
    assert "scored on" in result.refused[1].reason
    assert "line 1 of tickets_valid.jsonl" in result.refused[2].reason


def test_near_duplicates_within_the_batch_keep_the_first():
    train = [{"messages": [{"role": "user", "content": f"training message number {i}"},
                           {"role": "assistant", "content": "billing"}]} for i in range(3)]
    first = "My gift card code says it has already been redeemed, but I've never used it."
    again = "Sorry to write again: my gift card code says it has already been redeemed, but I have never used it!"
    result = examples_from_corrections([(first, "billing"), (again, "billing"), ("Other.", "billing")],
                                       train)
    assert result.accepted_index == [0, 2]
    assert result.refused[0].code == "duplicate_in_batch" and "correction 0" in result.refused[0].reason
    assert "system" not in [m["role"] for m in result.accepted[0]["messages"]]  # train has none


def test_invalid_labels_and_empty_replies_are_refused_with_the_validators_reason(sets):
    result = check([("A brand new question about my parcel.", "biling"),
                    ("Another brand new question.", "   "),
                    ("", "billing"),
                    ("Yet another one.", None)], sets)
    assert not result.accepted
    assert [r.code for r in result.refused] == ["not_a_label", "invalid", "invalid", "invalid"]
    assert "'biling' is not a label" in result.refused[0].reason and "billing" in result.refused[0].reason
    assert result.refused[1].reason.startswith("the reply: content is empty. (missing_content)")
    assert result.refused[2].reason.startswith("the message: content is empty.")
    frame = result.to_frame()
    assert list(frame["index"]) == [0, 1, 2, 3] and not frame["accepted"].any()


def test_without_labels_any_non_empty_reply_is_accepted_and_bad_input_is_named(sets):
    result = examples_from_corrections([("A fresh question.", "a free-text reply")], sets["train"])
    assert len(result.accepted) == 1
    with pytest.raises(ValueError, match="correction 0 .*'message'"):
        examples_from_corrections([{"text": "x", "reply": "billing"}], sets["train"])
    with pytest.raises(ValueError, match="threshold"):
        examples_from_corrections([], sets["train"], threshold=0)
    assert examples_from_corrections([], sets["train"]).n == 0


# ----------------------------------------------------------------------------- the recorded files


def test_the_new_messages_are_valid_balanced_and_unseen(sets):
    new = sets["new_messages"]
    assert len(new) == 24 and validate_chat(CHAT / "tickets_new_messages.jsonl").ok
    assert sorted(r["messages"][-1]["content"] for r in new) == sorted(LABELS * 6)
    assert all(r["messages"][0] == sets["train"][0]["messages"][0] for r in new)
    old = [user(r) for name in ("train", "valid", "test") for r in sets[name]]
    assert not {normalize(user(r)) for r in new} & {normalize(t) for t in old}

    def words(text):
        return set(normalize(text).split())
    overlap = max(len(words(a) & words(b)) / len(words(a) | words(b))
                  for a in map(user, new) for b in old)
    assert overlap < 0.39                     # below the test set's own largest overlap
    found = find_duplicates(list(sets["train"]) + sets["valid"] + sets["test"] + new,
                            threshold=0.5, roles=("user",))
    n_old = len(old)
    groups = [g for g in found.groups if any(i >= n_old for i in g)]
    # only the one message a customer sent twice, and nothing of train/valid/test
    assert [[i - n_old for i in g] for g in groups] == [[2, 20]]


def test_the_feedback_file_holds_the_right_label_of_every_new_message(sets):
    rows = [json.loads(line) for line in (CHAT / "tickets_feedback.jsonl").read_text("utf-8").splitlines()]
    assert [sorted(row) for row in rows] == [["message", "reply"]] * len(sets["new_messages"])
    assert [(row["message"], row["reply"]) for row in rows] == [
        (user(r), r["messages"][-1]["content"]) for r in sets["new_messages"]]


def test_the_readme_documents_both_files():
    readme = (CHAT / "README.md").read_text("utf-8")
    assert "tickets_new_messages.jsonl" in readme and "tickets_feedback.jsonl" in readme


# ----------------------------------------------------------------------------- the widget


@pytest.fixture(scope="module")
def recorded():
    """The default loop, flagged from the recorded feedback, after round 2."""
    fb = feedback_loop()
    fb.buttons["use_recorded"].click()
    fb.buttons["round_2"].click()
    return fb


def test_round_1_shows_a_reply_a_checkbox_and_an_empty_correction_per_message(recorded, sets):
    loop = recorded.loop
    assert loop.messages == [user(r) for r in sets["new_messages"]]
    assert len(recorded.wrong) == len(recorded.correction) == len(loop.round_1.replies) == 24
    fresh = feedback_loop(train=sets["train"][:24], test=sets["test"][:20],
                          new_messages=sets["new_messages"][:3])
    assert [box.value for box in fresh.wrong] == [False] * 3
    assert [text.value for text in fresh.correction] == [""] * 3
    assert "test accuracy" in fresh.header.value and fresh.result is None
    assert len(fresh.figure.axes) == 2


def test_recorded_feedback_flags_exactly_the_replies_the_reviewer_disagrees_with(recorded):
    loop = recorded.loop
    truth = loop.recorded()
    wrong = [normalize_label(a) != normalize_label(b) for a, b in zip(loop.round_1.replies, truth)]
    assert [box.value for box in recorded.wrong] == wrong and any(wrong)
    assert [text.value for text in recorded.correction] == [t if w else "" for t, w in zip(truth, wrong)]
    recorded.use_recorded_feedback()                    # again: the same flags, and its note
    assert [box.value for box in recorded.wrong] == wrong
    assert f"{sum(wrong)} of 24 replies flagged wrong" in recorded.status.value


def test_round_2_trains_on_the_accepted_corrections_and_runs_the_regression_check(recorded):
    result, loop = recorded.result, recorded.loop
    one, two = result.round_1, result.round_2
    checked = result.corrections
    assert two.n_train == len(loop.train) + len(checked.accepted)
    assert two.run.meta["n_train_examples"] == two.n_train
    assert one.run.meta["hyperparameters"] == two.run.meta["hyperparameters"]
    a, b = one.test.table["correct"], two.test.table["correct"]
    assert list(result.fixed.index) == list(a.index[~a & b])
    assert list(result.broken.index) == list(a.index[a & ~b])
    assert two.test.correct - one.test.correct == len(result.fixed) - len(result.broken)
    assert len(result.learnt) + len(result.not_learnt) == len(checked.accepted)
    # the batch holds one message sent twice: its second correction is refused as a duplicate
    assert [r.code for r in checked.refused] == ["duplicate_in_batch"]
    text = recorded.readout.value
    assert f"round 1 {one.test.accuracy:.2f} (95% CI {one.test.low:.2f}" in text
    assert f"round 2 {two.test.accuracy:.2f} (95% CI {two.test.low:.2f}" in text
    assert f"fixed {len(result.fixed)} and broke {len(result.broken)}" in text
    assert "Refused corrections" in recorded.details.value and "duplicate" in recorded.details.value
    assert len(recorded.figure.axes[0].lines) >= 2 and recorded.png()[:4] == b"\x89PNG"


def test_typed_corrections_are_checked_and_refusals_shown(sets):
    leaked = sets["test"][:1]                           # a "new" message that is a test message
    fb = feedback_loop(train=sets["train"][:40], test=sets["test"][:30],
                       new_messages=sets["new_messages"][:3] + leaked)
    fb.correction[0].value = "Billing"                  # typing ticks "wrong"
    assert fb.wrong[0].value
    fb.wrong[1].value = True                            # flagged, but no right reply typed
    fb.wrong[3].value, fb.correction[3].value = True, "billing"
    result = fb.run_round_2()
    assert result.corrections.accepted_index == [0]
    assert [r.code for r in result.corrections.refused] == ["invalid", "leakage"]
    assert result.round_2.n_train == 41
    assert "leakage" in fb.details.value and "content is empty" in fb.details.value
    assert "1 accepted, 2 refused" in fb.status.value


def test_both_rounds_start_from_the_same_model_with_the_same_seed(sets):
    loop = FeedbackLoop(train=sets["train"][:24], test=sets["test"][:20],
                        new_messages=["Where is my parcel?"], seed=3, n_epochs=1)
    again = loop.fine_tune(loop.train, "again")         # no corrections: the same model again
    assert again.replies == loop.round_1.replies
    assert list(again.test.table["reply"]) == list(loop.round_1.test.table["reply"])
    assert loop.round_1.run.meta["hyperparameters"]["n_epochs"] == 1
    assert loop.round_2([]).corrections.n == 0
