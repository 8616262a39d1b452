"""One label scorer: ftlab.chat.labels scores replies in hand; task_accuracy, the augmentation
experiment and the recipe comparison all go through it. Also the foundation statistics they use."""

import math

import numpy as np
import pytest

import ftlab
from ftlab._report import (PairedInterval, accuracy_interval, paired_interval, two_way_bootstrap,
                           wilson_interval)
from ftlab.chat.labels import (OTHER, TaskAccuracy, check_labels, labelled_examples,
                               normalize_label, score_labels)

REFERENCES = ["billing", "billing", "billing", "shipping", "shipping", "account"]
REPLIES = ["Billing.", "  billing\n", "shipping", "Shipping!", "I think shipping", "billing"]
MESSAGES = ["m1", "m2", "m3", "m4", "m5", "m6"]


def ticket(message, label):
    return {"messages": [{"role": "system", "content": "Route it."},
                         {"role": "user", "content": message},
                         {"role": "assistant", "content": label}]}


# ----------------------------------------------------------------------------- the scorer


def test_scores_replies_in_hand_by_hand():
    acc = score_labels(REFERENCES, REPLIES, messages=MESSAGES, name="stub")
    assert isinstance(acc, TaskAccuracy) and acc.name == "stub"
    # right: m1, m2, m4 (normalised); wrong: m3, m5 (no label: "other"), m6
    assert (acc.n, acc.correct, acc.accuracy) == (6, 3, 0.5)
    assert (acc.low, acc.high) == wilson_interval(3, 6)
    assert acc.labels == ("account", "billing", "shipping")
    assert acc.confusion.to_numpy().tolist() == [[0, 1, 0, 0], [0, 2, 1, 0], [0, 0, 1, 1]]
    assert acc.recall.to_dict() == pytest.approx({"account": 0.0, "billing": 2 / 3, "shipping": 0.5})
    assert (acc.majority_label, acc.majority_baseline, acc.chance_baseline) == ("billing", 0.5, 1 / 3)
    assert acc.mistakes.index.tolist() == [2, 4, 5]
    assert acc.table["predicted"].tolist() == ["billing", "billing", "shipping", "shipping",
                                               OTHER, "billing"]


def test_messages_are_optional_and_labels_may_be_given():
    acc = score_labels(["Billing"], ["billing"], labels=["billing", "technical"])
    assert acc.accuracy == 1.0 and acc.table["message"].tolist() == [""]
    assert acc.labels == ("billing", "technical") and acc.chance_baseline == 0.5


def test_a_label_called_other_moves_the_no_label_column():
    acc = score_labels(["other", "billing"], ["other", "no idea"])
    assert acc.confusion.columns.tolist() == ["billing", "other", "(no label)"]
    assert acc.table["predicted"].tolist() == ["other", "(no label)"]


@pytest.mark.parametrize("args, kwargs, error, match", [
    (([], []), {}, ValueError, "no references"),
    ((["billing"], ["a", "b"]), {}, ValueError, "as long as each other"),
    ((["billing"], [None]), {}, TypeError, "reply 0 is a NoneType"),
    ((["billing", "shipping"], ["x", "y"]), {"labels": ["billing"]}, ValueError,
     r"record 1: the reference reply 'shipping' is not one of labels"),
    ((["billing"], ["x"]), {"labels": "billing"}, ValueError, "must be a list"),
    ((["billing"], ["x"]), {"labels": ["billing", "..."]}, ValueError, "non-empty"),
])
def test_bad_input_is_refused_with_a_reason(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        score_labels(*args, **kwargs)


def test_check_labels_normalises_and_keeps_order():
    assert check_labels([" Billing."], ["Shipping", "billing", "BILLING"]) == ["shipping", "billing"]
    assert check_labels(["b", "a", "b"]) == ["a", "b"]


def test_labelled_examples_reads_prompt_message_and_reference():
    records, examples = labelled_examples([ticket("Where is it?", "shipping")])
    prompt, user, reference = examples[0]
    assert [m["role"] for m in prompt] == ["system", "user"]
    assert (user, reference) == ("Where is it?", "shipping")
    with pytest.raises(ValueError, match="no records: my_caller needs"):
        labelled_examples([], "my_caller")


# ----------------------------------------------------------------------------- one scorer, three users


def test_task_accuracy_is_the_scorer_on_the_models_replies():
    replies = dict(zip(MESSAGES, REPLIES))
    records = [ticket(m, r) for m, r in zip(MESSAGES, REFERENCES)]
    asked = ftlab.task_accuracy(lambda messages: replies[messages[-1]["content"]], records,
                                progress=False, name="stub")
    scored = score_labels(REFERENCES, REPLIES, messages=MESSAGES, name="stub")
    assert repr(asked) == repr(scored)
    assert asked.table.equals(scored.table) and asked.confusion.equals(scored.confusion)


def test_the_old_homes_re_export_the_same_objects():
    from ftlab.hosted import accuracy

    assert accuracy.TaskAccuracy is TaskAccuracy and accuracy.normalize_label is normalize_label
    assert ftlab.hosted.TaskAccuracy is TaskAccuracy and ftlab.chat.score_labels is score_labels


def test_the_augmentation_experiment_has_no_copy_of_the_rule():
    from ftlab.augment import experiment

    assert not hasattr(experiment, "_label")

    class Model:  # answers from a table; the loss is whatever evaluate says
        info = {}

        def generate(self, messages, *, temperature, max_tokens):
            assert temperature == 0
            return dict(zip(MESSAGES, REPLIES))[messages[-1]["content"]]

        def evaluate(self, records):
            return {"loss": 0.25}

    records = [ticket(m, r) for m, r in zip(MESSAGES, REFERENCES)]
    loss, accuracy, correct = experiment.score(Model(), records)
    assert (loss, accuracy) == (0.25, 0.5)
    assert correct == score_labels(REFERENCES, REPLIES).table["correct"].tolist()


# ----------------------------------------------------------------------------- the statistics


def test_accuracy_interval_bootstraps_unless_it_would_collapse():
    rng = np.random.default_rng(1)
    bits = (rng.random((6, 40)) < 0.6).astype(float)
    assert accuracy_interval(bits) == two_way_bootstrap(bits)
    low, high = accuracy_interval(bits)
    assert low < bits.mean() < high
    # every run right on every record: the bootstrap would have zero width, Wilson does not
    assert two_way_bootstrap(np.ones((5, 4))) == (1.0, 1.0)
    assert accuracy_interval(np.ones((5, 4))) == wilson_interval(4, 4)
    assert accuracy_interval([[1, 0, 1, 1]]) == wilson_interval(3, 4)  # one run
    assert accuracy_interval(np.zeros((3, 10)))[0] == 0.0 < accuracy_interval(np.zeros((3, 10)))[1]


def test_two_way_bootstrap_of_one_array_is_its_mean_interval():
    rng = np.random.default_rng(0)
    a = (rng.random((8, 30)) < 0.4).astype(float)
    assert two_way_bootstrap(a) == two_way_bootstrap(a, np.zeros_like(a))


def test_paired_interval_lives_in_the_foundation():
    r = paired_interval([0.30, 0.34, 0.33, 0.35], [0.28, 0.30, 0.33, 0.31])
    assert r.n == 4 and r.mean == pytest.approx(0.025)
    se = np.std([0.02, 0.04, 0.0, 0.04], ddof=1) / math.sqrt(4)
    assert r.se == pytest.approx(se) and not r.excludes_zero
