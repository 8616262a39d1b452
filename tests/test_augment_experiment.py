"""The augmentation experiment: fair step budgets, paired comparisons, a verdict from the numbers."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ftlab.augment.experiment import (CONDITIONS, AugmentationExperiment, augmentation_experiment,
                                      noisy_copy)
from ftlab.chat.files import read_chat_jsonl

DATA = Path(__file__).resolve().parent.parent / "data" / "chat"


def test_runs_every_condition_with_the_same_steps_per_original_example():
    train = read_chat_jsonl(DATA / "marv_train.jsonl").subset(range(16))
    valid = read_chat_jsonl(DATA / "marv_valid.jsonl").subset(range(4))
    exp = augmentation_experiment(train, valid, small=8, seeds=(0, 1), n_per_example=1,
                                  progress=False)
    t = exp.table
    assert list(t.condition) == list(CONDITIONS) * 2 and list(t.seed) == [0] * 4 + [1] * 4
    by = t.set_index(["seed", "condition"])
    for seed in (0, 1):
        assert by.loc[(seed, "original"), "n_examples"] == 16
        assert by.loc[(seed, "small original"), "n_examples"] == 8
        assert by.loc[(seed, "original"), "steps"] == by.loc[(seed, "original + augmented"), "steps"] == 8
        assert by.loc[(seed, "small original"), "steps"] == by.loc[(seed, "small + augmented"), "steps"] == 4
    assert np.isfinite(t.valid_loss).all() and (t.valid_loss > 0).all()
    assert np.isfinite(t.noisy_valid_loss).all() and (t.noisy_valid_loss != t.valid_loss).all()
    assert "noisy-validation loss" in exp.conclusion()
    again = augmentation_experiment(train, valid, small=8, seeds=(0,), n_per_example=1, progress=False)
    assert again.table.valid_loss.tolist() == t.valid_loss[:4].tolist()  # seeded end to end


def _experiment(original, augmented):
    rows = []
    for seed, (a, b) in enumerate(zip(original, augmented)):
        rows += [{"condition": "original", "seed": seed, "n_examples": 10, "steps": 9, "valid_loss": a},
                 {"condition": "original + augmented", "seed": seed, "n_examples": 30, "steps": 9,
                  "valid_loss": b},
                 {"condition": "small original", "seed": seed, "n_examples": 5, "steps": 3,
                  "valid_loss": 2.0},
                 {"condition": "small + augmented", "seed": seed, "n_examples": 15, "steps": 3,
                  "valid_loss": 2.0 + 0.01 * (-1) ** seed}]
    return AugmentationExperiment(pd.DataFrame(rows), {"seeds": list(range(len(original)))})


def test_comparisons_are_paired_by_seed_and_the_verdict_follows_the_rule():
    exp = _experiment([1.00, 1.10, 0.90], [0.95, 1.04, 0.86])
    c = exp.comparisons().set_index("augmented")
    d = np.array([-0.05, -0.06, -0.04])
    assert c.loc["original + augmented", "difference"] == pytest.approx(d.mean())
    assert c.loc["original + augmented", "se"] == pytest.approx(d.std(ddof=1) / np.sqrt(3))
    assert c.loc["original + augmented", "verdict"] == "helps"  # all seeds, 5 se away
    assert c.loc["small + augmented", "verdict"] == "no clear difference"  # seeds disagree
    assert "better in 3 of 3 seeds → helps" in exp.conclusion()
    assert _experiment([1.0, 1.1, 0.9], [1.05, 1.16, 0.94]).comparisons().verdict[0] == "hurts"
    # all seeds agree but the mean is within two standard errors: not enough
    assert _experiment([1.0, 1.0, 1.0], [0.999, 0.99, 0.9]).comparisons().verdict[0] == "no clear difference"


def test_summary_and_plot():
    exp = _experiment([1.0, 1.2, 1.1], [1.0, 1.1, 1.0])
    s = exp.summary()
    assert list(s.index) == list(CONDITIONS)
    assert s.loc["original", "mean"] == pytest.approx(1.1) and s.loc["original", "std"] == pytest.approx(0.1)
    fig = exp.plot()
    assert len(fig.axes[0].get_xticklabels()) == 4


def test_small_must_be_smaller_than_the_training_set():
    train = read_chat_jsonl(DATA / "marv_train.jsonl").subset(range(10))
    with pytest.raises(ValueError, match="small=10"):
        augmentation_experiment(train, train, small=10, progress=False)


def test_noisy_copy_changes_questions_only():
    valid = read_chat_jsonl(DATA / "marv_valid.jsonl")
    noisy = noisy_copy(valid)
    assert len(noisy) == len(valid)
    for a, b in zip(valid, noisy):
        assert a["messages"][2] == b["messages"][2] and a["messages"][0] == b["messages"][0]
    assert sum(a["messages"][1] != b["messages"][1] for a, b in zip(valid, noisy)) == len(valid)
    assert noisy == noisy_copy(valid)  # one fixed copy
