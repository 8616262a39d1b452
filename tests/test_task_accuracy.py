"""task_accuracy, wilson_interval and mean_token_accuracy, and the unseen test set of tickets."""

import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftlab
from ftlab._report import wilson_interval
from ftlab.hosted.accuracy import TaskAccuracy, mean_token_accuracy, normalize_label, task_accuracy

from content_words import content_words  # tests/, beside this file

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "data" / "chat"
TEST_FILE = CHAT / "tickets_test.jsonl"
LABELS = {"billing", "technical", "account", "shipping"}


def ticket(message, label, system=None):
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": messages + [{"role": "user", "content": message},
                                    {"role": "assistant", "content": label}]}


# Six messages; the stub below answers from a table, with the reply shapes models really give.
SMALL = [ticket("m1", "billing"), ticket("m2", "billing"), ticket("m3", "billing"),
         ticket("m4", "shipping"), ticket("m5", "shipping"), ticket("m6", "account")]
REPLIES = {"m1": "Billing.", "m2": "  billing\n", "m3": "shipping", "m4": "Shipping!",
           "m5": "I think shipping", "m6": "billing"}


def stub(messages):
    return REPLIES[messages[-1]["content"]]


# ----------------------------------------------------------------------------- Wilson interval

# Wilson: centre = (p + z²/2n) / (1 + z²/n), half = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²),
# with z = 1.959964 and z² = 3.841459 for 95 %. Worked by hand:
#   8/10:  p = 0.8, z²/n = 0.384146, 1 + z²/n = 1.384146
#          centre = (0.8 + 0.192073) / 1.384146 = 0.716740
#          half   = 1.959964 · √(0.016 + 0.009604) / 1.384146 = 1.959964 · 0.160011 / 1.384146
#                 = 0.226578                              -> (0.490162, 0.943318)
#   0/5:   p = 0, 1 + z²/n = 1.768292, centre = 0.384146 / 1.768292 = 0.217241
#          half = 1.959964 · √(3.841459/100) / 1.768292 = 0.384146 / 1.768292 = 0.217241
#                                                         -> (0, 0.434482)
#   5/5:   the mirror image of 0/5                         -> (0.565518, 1)
#   45/50: p = 0.9, 1 + z²/n = 1.076829, centre = (0.9 + 0.038415) / 1.076829 = 0.871461
#          half = 1.959964 · √(0.0018 + 0.000384146) / 1.076829 = 1.959964 · 0.046735 / 1.076829
#               = 0.085063                                -> (0.786398, 0.956524)
@pytest.mark.parametrize("k, n, low, high", [
    (8, 10, 0.490162, 0.943318),
    (0, 5, 0.0, 0.434482),
    (5, 5, 0.565518, 1.0),
    (45, 50, 0.786398, 0.956524),
])
def test_wilson_interval_by_hand(k, n, low, high):
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=2e-6)


def test_wilson_interval_ends_are_exact_and_confidence_widens_it():
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    narrow, wide = wilson_interval(8, 10, 0.80), wilson_interval(8, 10, 0.99)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]


def test_wilson_interval_matches_statsmodels():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    assert wilson_interval(45, 50) == pytest.approx(
        proportion.proportion_confint(45, 50, alpha=0.05, method="wilson"), abs=1e-9)


@pytest.mark.parametrize("args, match", [
    ((3, 0), "n must be at least 1"), ((6, 5), "between 0 and n=5"), ((-1, 5), "between 0"),
    ((2.5, 5), "whole numbers"), ((1, 5, 1.5), "confidence"), ((1, 5, 0), "confidence"),
])
def test_wilson_interval_refuses_impossible_counts(args, match):
    with pytest.raises(ValueError, match=match):
        wilson_interval(*args)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), data=st.data(), confidence=st.floats(0.5, 0.999))
def test_wilson_interval_holds_the_estimate_inside_zero_one(n, data, confidence):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n, confidence)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert high - low > 0  # never zero-width, even at 0 or n


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 400), data=st.data(), factor=st.integers(2, 50))
def test_wilson_interval_narrows_with_more_examples_at_the_same_rate(n, data, factor):
    k = data.draw(st.integers(0, n))
    small, large = wilson_interval(k, n), wilson_interval(k * factor, n * factor)
    assert large[1] - large[0] < small[1] - small[0]


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("reply, label", [
    ("billing", "billing"), ("Billing.", "billing"), ("  SHIPPING!\n", "shipping"),
    ("account?!", "account"), ("technical …", "technical"), ("billing team", "billing team"),
    (".billing", ".billing"), ("", ""), ("?!", ""),
])
def test_normalize_label(reply, label):
    assert normalize_label(reply) == label


# ----------------------------------------------------------------------------- task_accuracy


def test_confusion_recall_baselines_and_mistakes_by_hand():
    acc = task_accuracy(stub, SMALL, progress=False)
    assert isinstance(acc, TaskAccuracy)
    # right: m1, m2 (normalised), m4 (normalised); wrong: m3, m5 ("other"), m6
    assert (acc.n, acc.correct, acc.accuracy) == (6, 3, 0.5)
    assert acc.labels == ("account", "billing", "shipping")  # the references seen, sorted
    assert acc.confusion.index.tolist() == ["account", "billing", "shipping"]
    assert acc.confusion.columns.tolist() == ["account", "billing", "shipping", "other"]
    assert acc.confusion.to_numpy().tolist() == [[0, 1, 0, 0],   # account -> billing
                                                 [0, 2, 1, 0],   # billing: 2 right, 1 shipping
                                                 [0, 0, 1, 1]]   # shipping: 1 right, 1 no label
    assert acc.confusion.to_numpy().sum() == acc.n
    assert acc.recall.to_dict() == pytest.approx({"account": 0.0, "billing": 2 / 3, "shipping": 0.5})
    assert acc.majority_label == "billing" and acc.majority_baseline == pytest.approx(3 / 6)
    assert acc.chance_baseline == pytest.approx(1 / 3)
    assert (acc.low, acc.high) == wilson_interval(3, 6)
    assert acc.mistakes.columns.tolist() == ["message", "reference", "reply"]
    assert acc.mistakes.index.tolist() == [2, 4, 5]  # record numbers
    assert acc.mistakes.to_dict("records") == [
        {"message": "m3", "reference": "billing", "reply": "shipping"},
        {"message": "m5", "reference": "shipping", "reply": "I think shipping"},
        {"message": "m6", "reference": "account", "reply": "billing"}]
    assert acc.table["predicted"].tolist() == ["billing", "billing", "shipping", "shipping",
                                               "other", "billing"]


def test_repr_is_one_readable_line():
    acc = task_accuracy(stub, SMALL, progress=False)
    low, high = wilson_interval(3, 6)
    assert repr(acc) == (f"accuracy 0.50 (95% CI {low:.2f}–{high:.2f}) on 6 examples; "
                         "majority 0.50, chance 0.33")
    assert "\n" not in repr(acc)
    html = acc._repr_html_()
    assert "accuracy 0.50" in html and "<table" in html and "other" in html
    assert repr(task_accuracy(stub, SMALL[:1], progress=False)).endswith(
        "on 1 example; majority 1.00, chance 1.00")


def test_labels_given_set_chance_and_keep_unused_labels():
    acc = task_accuracy(stub, SMALL, labels=["Billing", "technical", "account", "shipping"],
                        progress=False)
    assert acc.labels == ("billing", "technical", "account", "shipping")  # normalised, in order
    assert acc.chance_baseline == 0.25
    assert acc.confusion.loc["technical"].sum() == 0 and math.isnan(acc.recall["technical"])
    with pytest.raises(ValueError, match=r"record 5: the reference reply 'account' is not one of"):
        task_accuracy(stub, SMALL, labels=["billing", "shipping"], progress=False)
    with pytest.raises(ValueError, match="labels must be"):
        task_accuracy(stub, SMALL, labels="billing", progress=False)


def test_a_label_called_other_keeps_its_own_column():
    records = [ticket("a", "other"), ticket("b", "spam")]
    acc = task_accuracy(lambda m: "nonsense", records, progress=False)
    assert acc.confusion.columns.tolist() == ["other", "spam", "(no label)"]
    assert acc.accuracy == 0.0 and acc.confusion["(no label)"].sum() == 2


def test_prompt_is_everything_before_the_reference_and_references_are_normalised():
    seen = []
    record = ticket("Where is my book?", " Shipping. ", system="Route it.")
    acc = task_accuracy(lambda m: seen.append(m) or "shipping", [record], progress=False)
    assert seen == [record["messages"][:2]] and acc.accuracy == 1.0
    assert acc.labels == ("shipping",)


class Model:
    """Anything with generate(messages, temperature=, max_tokens=): a tiny model's interface."""

    name = "stub-model"

    def __init__(self):
        self.calls = []

    def generate(self, messages, *, temperature=1.0, max_tokens=200):
        self.calls.append((temperature, max_tokens))
        return stub(messages)


def test_works_with_a_model_object_greedy_and_short():
    model = Model()
    acc = task_accuracy(model, SMALL, progress=False, max_tokens=12)
    assert acc.accuracy == 0.5 and acc.name == "stub-model"
    assert model.calls == [(0, 12)] * len(SMALL)


def test_works_with_replies_given_as_dicts_and_many_workers():
    acc = task_accuracy(lambda m: {"text": stub(m), "logprobs": None}, SMALL, workers=3,
                        progress=False, name="dicts")
    assert acc.accuracy == 0.5 and acc.name == "dicts"
    assert acc.mistakes.index.tolist() == [2, 4, 5]  # order kept across threads


def test_works_with_a_hosted_chat_model():
    openai = pytest.importorskip("openai")
    from fake_openai import FakeServer

    from ftlab.hosted.evaluate import _CACHE, chat_model

    _CACHE.clear()
    with FakeServer() as server:
        server.api.chat_reply = lambda model, messages: ("Billing", None)
        client = openai.OpenAI(api_key="test-key-0000", base_url=server.url + "/v1", max_retries=0)
        acc = task_accuracy(chat_model(client, "gpt-4o-mini"), SMALL, progress=False)
    assert acc.accuracy == 0.5 and acc.name == "gpt-4o-mini"  # every billing right, nothing else


def test_progress_bar_can_be_shown(capsys):
    task_accuracy(stub, SMALL, progress=True)
    assert "6/6" in capsys.readouterr().err


def test_the_tiny_model_is_scored_end_to_end():
    from ftlab.tinylm.model import load_pretrained

    model = load_pretrained()
    acc = task_accuracy(model, SMALL[:2], progress=False, max_tokens=5)
    assert acc.n == 2 and acc.correct + len(acc.mistakes) == 2
    assert all(len(reply) <= 5 for reply in acc.table["reply"])


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("records, match", [
    ([], "no records: task_accuracy needs at least one chat record"),
    ([SMALL[0], "billing"], r"record 1: a str, not a chat record"),
    ([SMALL[0], {"prompt": "x", "completion": "billing"}],
     r"record 1: field 'messages' is missing.*ftlab.to_chat"),
    ([{"messages": []}], r"record 0: field 'messages' must be a non-empty list"),
    ([{"messages": [{"content": "hi"}]}], r"record 0: messages\[0\] has no 'role'"),
    ([SMALL[0], {"messages": [{"role": "user", "content": "hi"}]}],
     r"record 1: field 'messages' has no assistant reply"),
    ([{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " ."}]}],
     r"record 0: messages\[1\]\.content \(the assistant reply\) must be non-empty text"),
    (SMALL[0], "got one record"),
])
def test_bad_records_are_named(records, match):
    with pytest.raises(ValueError, match=match):
        task_accuracy(stub, records, progress=False)


def test_a_bad_line_of_a_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(ticket("m1", "billing")) + "\n"
                    + json.dumps({"messages": [{"role": "user", "content": "m2"}]}) + "\n")
    with pytest.raises(ValueError, match=r"record 1 \(line 2 of test.jsonl\): field 'messages' has no"):
        task_accuracy(stub, path, progress=False)
    path.write_text(json.dumps(ticket("m1", "billing")) + "\n{not json\n")
    with pytest.raises(ValueError, match="line 2"):  # a skipped line would change n: refuse
        task_accuracy(stub, path, progress=False)


def test_bad_models_and_replies():
    with pytest.raises(TypeError, match="generate must be a function"):
        task_accuracy("gpt-4o-mini", SMALL)
    with pytest.raises(TypeError, match="must return a str"):
        task_accuracy(lambda m: None, SMALL, progress=False)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        task_accuracy(stub, SMALL, workers=-1)


# ----------------------------------------------------------------------------- mean token accuracy


def test_mean_token_accuracy_is_the_share_of_assistant_tokens_predicted():
    """Recomputed from the MLP's logits: argmax at every counted (assistant) position."""
    from ftlab.losses import token_accuracy
    from ftlab.tinylm.model import Config, TinyLM
    from ftlab.tinylm.text import contexts, render_chat

    model = TinyLM(Config(context_size=4, embedding_size=8, hidden_size=16), seed=3)
    records = SMALL[:3] + [{"messages": [{"role": "user", "content": "x"},
                                         {"role": "assistant", "content": "skip me", "weight": 0},
                                         {"role": "user", "content": "y"},
                                         {"role": "assistant", "content": "account"}]}]
    logits, targets = [], []
    for record in records:
        tokens, target = render_chat(record)
        logits.append(model.forward(contexts(tokens, 4))[0])
        targets.append(target)
    expected = float(token_accuracy(np.concatenate(logits), np.concatenate(targets)))
    assert mean_token_accuracy(model, records) == pytest.approx(expected)
    assert 0.0 <= expected <= 1.0


def test_mean_token_accuracy_counts_a_perfectly_learnt_label():
    from ftlab.tinylm.model import load_pretrained

    model = load_pretrained().copy()
    records = [ticket("charged twice", "billing")] * 4
    before = mean_token_accuracy(model, records)
    model.finetune(records, n_epochs=8, batch_size=4, learning_rate_multiplier=4.0, seed=0,
                   progress=False)
    assert mean_token_accuracy(model, records) == 1.0 > before


def test_mean_token_accuracy_needs_a_tiny_model_and_chat_records():
    with pytest.raises(TypeError, match="needs a tiny ftlab model"):
        mean_token_accuracy(stub, SMALL)
    from ftlab.tinylm.model import load_pretrained

    with pytest.raises(ValueError, match="record 1: field 'messages' has no assistant reply"):
        mean_token_accuracy(load_pretrained(), [SMALL[0], {"messages": [{"role": "user", "content": "x"}]}])
    with pytest.raises(ValueError, match="no records"):
        mean_token_accuracy(load_pretrained(), [])


# ----------------------------------------------------------------------------- the public face


def test_exported_from_the_faces():
    assert ftlab.task_accuracy is task_accuracy and ftlab.mean_token_accuracy is mean_token_accuracy
    assert ftlab.wilson_interval is wilson_interval
    assert {"task_accuracy", "mean_token_accuracy"} <= set(ftlab.__all__)


# ----------------------------------------------------------------------------- the test set


def _read(name):
    return [json.loads(line) for line in (CHAT / name).read_text(encoding="utf-8").splitlines()]


def _words(text):
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def _key(text):
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_the_test_set_is_a_clean_chat_file():
    report = ftlab.validate_chat(TEST_FILE)
    assert report.ok and report.problems == [], report.problems
    test = _read("tickets_test.jsonl")
    train = _read("tickets_train.jsonl")
    assert len(test) >= 80
    systems = {r["messages"][0]["content"] for r in test}
    assert systems == {r["messages"][0]["content"] for r in train}  # the training system prompt
    for r in test:
        assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant"]
        assert r["messages"][2]["content"] in LABELS
    counts = Counter(r["messages"][2]["content"] for r in test)
    assert set(counts) == LABELS and min(counts.values()) >= 20, counts
    assert len({_key(r["messages"][1]["content"]) for r in test}) == len(test)  # no repeats


def test_the_test_set_is_unseen():
    seen = [r["messages"][1]["content"] for name in ("tickets_train.jsonl", "tickets_valid.jsonl")
            for r in _read(name)]
    test = [r["messages"][1]["content"] for r in _read("tickets_test.jsonl")]
    assert not {_key(t) for t in test} & {_key(s) for s in seen}  # not even after normalising
    for t in test:  # no near copy: at most half of the words shared with any seen message
        overlap = max(len(_words(t) & _words(s)) / len(_words(t) | _words(s)) for s in seen)
        assert overlap < 0.5, t
    records = _read("tickets_train.jsonl") + _read("tickets_valid.jsonl") + _read("tickets_test.jsonl")
    assert ftlab.find_duplicates(records, threshold=0.5, roles=("user",), progress=False).groups == []


def test_more_training_tickets_are_clean_balanced_and_far_from_every_held_out_message():
    more = _read("tickets_more.jsonl")
    assert ftlab.validate_chat(CHAT / "tickets_more.jsonl").ok
    assert {r["messages"][0]["content"] for r in more} == {
        r["messages"][0]["content"] for r in _read("tickets_train.jsonl")}
    counts = Counter(r["messages"][2]["content"] for r in more)
    assert set(counts) == LABELS and min(counts.values()) >= 300, counts
    messages = [r["messages"][1]["content"] for r in more]
    assert len({_key(m) for m in messages}) == len(messages)  # no repeats
    held_out = [r["messages"][1]["content"] for name in (
        "tickets_train.jsonl", "tickets_valid.jsonl", "tickets_test.jsonl",
        "tickets_new_messages.jsonl") for r in _read(name)]
    held_out += [r["message"] for r in _read("tickets_feedback.jsonl")]
    for m in messages:
        overlap = max(len(_words(m) & _words(h)) / len(_words(m) | _words(h)) for h in held_out)
        assert overlap < 0.5, m
    records = more + _read("tickets_valid.jsonl") + _read("tickets_test.jsonl")
    groups = ftlab.find_duplicates(records, threshold=0.5, roles=("user",), progress=False).groups
    assert all(max(group) < len(more) for group in groups)  # near pairs stay inside the file


def test_the_second_batch_of_training_tickets_does_not_say_a_test_message_again():
    """The 923 messages appended after line 385 share less than 30% of their content words with
    any test message: no test message written again in other words."""
    second = [r["messages"][1]["content"] for r in _read("tickets_more.jsonl")[385:]]
    assert len(second) == 923
    test = [content_words(r["messages"][1]["content"]) for r in _read("tickets_test.jsonl")]
    for message in second:
        words = content_words(message)
        assert max(len(words & t) / len(words | t) for t in test) < 0.3, message


def test_the_test_set_scores_as_documented():
    acc = task_accuracy(lambda m: "Billing", TEST_FILE, progress=False)
    assert repr(acc) == "accuracy 0.25 (95% CI 0.17–0.35) on 88 examples; majority 0.25, chance 0.25"
