"""The augmentation experiment: a copies control with the same sources, order and steps; paired
intervals and detectable differences computed right; the shipped results file reproduces."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ftlab
from ftlab.augment.experiment import (ARMS, EXPERIMENT, RESULTS, SETTINGS, TIMES,
                                      AugmentationExperiment, augmentation_experiment, read_results,
                                      rerun_row, score, training_sets)
from ftlab._report import paired_interval, t_quantile, two_way_bootstrap
from ftlab.chat.files import read_chat_jsonl
from ftlab.tinylm.model import Config, TinyLM, load_pretrained

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "chat"
RESULTS_FILE = ROOT / "data" / "experiments" / "augment_tickets.csv"


@pytest.fixture(scope="module")
def tickets():
    return read_chat_jsonl(DATA / "tickets_train.jsonl"), read_chat_jsonl(DATA / "tickets_test.jsonl")


# ----------------------------------------------------------------------------- the arms


def test_copies_sit_where_the_variants_sit_so_only_the_wording_differs(tickets):
    train, test = tickets
    sets = training_sets(train, ["synonym", "typo"], n_per_example=2, seed=3, held_out=test)
    original, copies, augmented = (sets[a] for a in ARMS)
    assert original == list(train)
    assert len(copies) == len(augmented) == 3 * len(train)
    assert copies[:len(train)] == augmented[:len(train)] == original
    reworded = 0
    for copy, variant in zip(copies[len(train):], augmented[len(train):]):
        assert copy["messages"][0] == variant["messages"][0]  # same system prompt
        assert copy["messages"][2] == variant["messages"][2]  # same label: same source
        assert copy in original
        reworded += copy["messages"][1] != variant["messages"][1]
    assert reworded == 2 * len(train)


def test_a_variant_equal_to_a_held_out_message_is_left_out_with_its_copy(tickets):
    train, _ = tickets
    made = training_sets(train, ["synonym"], n_per_example=1, seed=0)["original + augmented"]
    leaked = made[len(train)]  # pretend the first variant's message is in the test set
    sets = training_sets(train, ["synonym"], n_per_example=1, seed=0, held_out=[leaked])
    assert leaked not in sets["original + augmented"]
    assert len(sets["original + copies"]) == len(sets["original + augmented"]) == len(made) - 1


def _tiny_loader(calls):
    def load():  # an untrained small model: fast, and shows that any model can be plugged in
        calls.append(1)
        return TinyLM(Config(context_size=8, embedding_size=8, hidden_size=32), seed=0)
    return load


def test_runs_every_arm_with_every_seed_from_a_fresh_model_and_is_seeded(tickets):
    train, test = tickets
    calls = []
    exp = augmentation_experiment(train.subset(range(12)), test.subset(range(8)),
                                  load_model=_tiny_loader(calls), seeds=(0, 1), progress=False)
    t = exp.table
    assert list(t.columns) == [*SETTINGS, *RESULTS, *TIMES]
    assert list(t.arm) == list(ARMS) * 2 and list(t.seed) == [0, 0, 0, 1, 1, 1]
    assert len(calls) == 6  # one fresh model per run
    by = t.set_index(["seed", "arm"])
    for seed in (0, 1):
        assert by.loc[(seed, "original"), "n_examples"] == 12
        assert by.loc[(seed, "original + copies"), "n_examples"] == 36
        for col in ("n_examples", "n_epochs", "steps"):  # the control: same size, epochs, steps
            assert by.loc[(seed, "original + copies"), col] == by.loc[(seed, "original + augmented"), col]
        assert by.loc[(seed, "original + augmented"), "n_reworded"] == 24
    assert (t.n_epochs == ftlab.default_epochs(12)).all() or (t.n_examples != 12).any()
    assert t.test_correct.str.len().eq(8).all() and t.test_label_loss.gt(0).all()
    assert t.test_accuracy.tolist() == [s.count("1") / 8 for s in t.test_correct]
    again = augmentation_experiment(train.subset(range(12)), test.subset(range(8)),
                                    load_model=_tiny_loader([]), seeds=(1,), progress=False)
    columns = [*SETTINGS, *RESULTS]
    pd.testing.assert_frame_equal(again.table[columns], t[t.seed == 1][columns].reset_index(drop=True))


def test_unknown_arms_are_refused(tickets):
    train, test = tickets
    with pytest.raises(ValueError, match="unknown arm"):
        augmentation_experiment(train, test, arms=["augmented only"], progress=False)


def test_accuracy_is_task_accuracys(tickets):
    train, test = tickets
    model = load_pretrained("tinylm-char-v1")
    model.finetune(train, None, n_epochs=3, seed=0, progress=False)
    loss, accuracy, correct = score(model, test)
    reference = ftlab.task_accuracy(model, test, progress=False)
    assert accuracy == reference.accuracy
    assert correct == reference.table["correct"].tolist()
    assert loss == model.evaluate(test)["loss"]


# ----------------------------------------------------------------------------- the statistics


def test_t_quantiles_match_the_tables():
    for p, df, table in [(0.975, 1, 12.7062), (0.975, 9, 2.2622), (0.975, 19, 2.0930),
                         (0.975, 29, 2.0452), (0.8, 29, 0.8542), (0.995, 4, 4.6041)]:
        assert t_quantile(p, df) == pytest.approx(table, abs=1e-4)
    assert t_quantile(0.025, 19) == pytest.approx(-t_quantile(0.975, 19))
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)


def test_t_quantiles_match_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 3, 9, 29, 200):
        for p in (0.6, 0.8, 0.975, 0.999):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_paired_interval_is_the_mean_difference_t_interval_and_its_power():
    a = np.array([0.40, 0.42, 0.39, 0.44, 0.41])
    b = np.array([0.38, 0.41, 0.36, 0.40, 0.41])
    r = paired_interval(a, b)
    d = a - b
    se = d.std(ddof=1) / math.sqrt(5)
    assert r.mean == pytest.approx(d.mean()) and r.se == pytest.approx(se) and r.n == 5
    assert r.low == pytest.approx(d.mean() - 2.7764 * se, abs=1e-5)
    assert r.high == pytest.approx(d.mean() + 2.7764 * se, abs=1e-5)
    assert r.mde == pytest.approx((2.7764 + 0.9410) * se, abs=1e-5)
    assert r.excludes_zero
    # unpaired noise cancels: a big shared seed effect does not widen the paired interval
    shift = np.array([0.0, 0.3, -0.2, 0.1, 0.5])
    assert paired_interval(a + shift, b + shift).high == pytest.approx(r.high)
    with pytest.raises(ValueError, match="at least 2"):
        paired_interval([1.0], [0.0])


def test_two_way_bootstrap_covers_a_constant_difference_and_is_seeded():
    rng = np.random.default_rng(0)
    b = (rng.random((10, 40)) < 0.5).astype(float)
    assert two_way_bootstrap(b, b) == (0.0, 0.0)
    a = np.maximum(b, (rng.random((10, 40)) < 0.2))
    low, high = two_way_bootstrap(a, b)
    assert low < (a - b).mean() < high
    assert two_way_bootstrap(a, b) == (low, high)
    with pytest.raises(ValueError, match="shape"):
        two_way_bootstrap(a[0], b[0])


def _experiment(accuracy):
    """A results table with given accuracies per arm (lists over seeds); loss = 1 - accuracy."""
    rows = []
    for arm, values in accuracy.items():
        for seed, acc in enumerate(values):
            bits = "1" * round(acc * 10) + "0" * (10 - round(acc * 10))
            rows.append({"experiment": EXPERIMENT, "arm": arm, "seed": seed, "n_examples": 3,
                         "test_accuracy": acc, "test_label_loss": 1 - acc, "test_correct": bits})
    return AugmentationExperiment(pd.DataFrame(rows))


def test_verdicts_follow_the_interval_and_the_metric_direction():
    exp = _experiment({"original": [0.3, 0.4, 0.5, 0.4],
                       "original + copies": [0.3, 0.4, 0.5, 0.4],
                       "original + augmented": [0.5, 0.6, 0.6, 0.6]})
    acc = exp.comparisons("test_accuracy").set_index(["arm", "baseline"])
    assert acc.loc[("original + augmented", "original + copies"), "verdict"] == "better"
    assert acc.loc[("original + copies", "original"), "verdict"] == "not detected"
    loss = exp.comparisons("test_label_loss").set_index(["arm", "baseline"])
    assert loss.loc[("original + augmented", "original + copies"), "verdict"] == "better"  # lower
    assert loss.loc[("original + augmented", "original + copies"), "difference"] < 0
    text = exp.conclusion()
    assert "original + augmented is better" in text and "no difference detected" in text
    assert exp.by_seed("test_accuracy").columns.tolist() == list(ARMS)
    assert exp.correct("original").shape == (4, 10)
    assert len(exp.plot().axes) == 2


# ----------------------------------------------------------------------------- the shipped results


def test_the_shipped_results_have_ten_seeds_or_more_and_a_fair_control():
    exp = read_results(RESULTS_FILE)
    t = exp.table
    assert (t.experiment == EXPERIMENT).all()
    assert len(exp.seeds) >= 10 and len(t) == len(exp.seeds) * len(ARMS)
    assert all(sorted(arms) == sorted(ARMS) for arms in t.groupby("seed").arm.apply(list))
    by = t.set_index(["seed", "arm"])
    for seed in exp.seeds:
        for col in ("n_examples", "n_epochs", "steps"):
            assert by.loc[(seed, "original + copies"), col] == by.loc[(seed, "original + augmented"), col]
    assert t.test_correct.str.len().eq(len(read_chat_jsonl(DATA / t.test_file[0]))).all()


@pytest.mark.parametrize("arm", ["original + augmented"])
def test_a_shipped_row_reproduces_exactly(arm):
    """One seed of one arm, re-run from scratch: every column but the timings is the same. If this
    fails after a change to the model, the training code or the augmentation, the shipped file is
    out of date: run `python tools/run_augment_experiment.py --overwrite` and re-execute notebook 06."""
    t = read_results(RESULTS_FILE).table
    row = t[(t.arm == arm) & (t.seed == sorted(t.seed.unique())[-1])].iloc[0].to_dict()
    again = rerun_row(row)
    for column in (*SETTINGS, *RESULTS):
        if column in ("ftlab_version", "numpy_version"):
            continue  # recorded for the reader; a new version may still give the same numbers
        assert again[column] == row[column], (
            f"{column}: the shipped file says {row[column]!r}, a re-run gives {again[column]!r}; "
            "regenerate it with tools/run_augment_experiment.py --overwrite")


def test_read_results_refuses_another_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="run_augment_experiment"):
        read_results(path)


def test_the_tool_writes_a_results_file_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "results.csv"
    small = tmp_path / "train.jsonl"
    small.write_text("".join((DATA / "tickets_train.jsonl").read_text().splitlines(True)[:12]))
    test = tmp_path / "test.jsonl"
    test.write_text("".join((DATA / "tickets_test.jsonl").read_text().splitlines(True)[:8]))
    cmd = [sys.executable, str(ROOT / "tools" / "run_augment_experiment.py"), "--seeds", "2",
           "--train", str(small), "--test", str(test), "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "per fine-tune" in done.stdout
    assert len(read_results(out).table) == 6
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    one_seed = subprocess.run(cmd[:2] + ["--seeds", "1", "-o", str(tmp_path / "x.csv")],
                              capture_output=True, text=True)
    assert one_seed.returncode == 2 and "at least 2" in one_seed.stderr
