"""What notebooks 01-03 and their exercises say about the data stays true of the data.

The exercise texts of notebook 03 describe the shipped `patent-insights` run in words (a module
cannot compute its explanations); these tests hold those words to the numbers.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import ftlab
from ftlab.course.exercise import EXERCISES

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def patent():
    return ftlab.load_sample("patent-insights")


def test_patent_turns_in_epoch_1_as_the_exercise_says(patent):
    valid = patent.metrics["valid_loss"].dropna()
    epochs = patent.epochs()
    epoch_1_end = epochs.loc[1, "last_step"]
    assert valid.idxmin() == 100 and epoch_1_end == 555 == patent.meta["steps_per_epoch"]
    in_epoch_1 = valid.loc[200:500]
    assert list(in_epoch_1.index) == [200, 300, 400, 500] and (in_epoch_1 > valid.min()).all()
    assert epochs["train_loss"].is_monotonic_decreasing            # option (d)'s explanation
    first4, last4 = valid.iloc[:4].mean(), valid.iloc[-4:].mean()   # option (c)'s explanation
    assert last4 - first4 > valid.diff().abs().median()


def test_patent_validation_is_not_monotone_so_no_exercise_says_it_rose_all_along(patent):
    valid = patent.metrics["valid_loss"].dropna()
    assert (valid.diff() < 0).sum() > 0
    for name in ftlab.exercises("03"):
        text = EXERCISES[name].why + " ".join(e for _, e in EXERCISES[name].mistakes)
        assert "for 1500 steps" not in text


def test_the_judgement_follows_the_data():
    assert ftlab.check("03-reading", "b").correct
    assert "Memorising needs repeats" in ftlab.check("03-reading", "a").message


def test_the_run_that_memorises_turns_only_after_examples_repeat():
    # the run of notebook 03: the transformer, 16 Marv examples, 12 epochs, batch 4, lr x4, seed 0
    from ftlab._data import data_dir

    few = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_train.jsonl")[:16]
    valid = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_valid.jsonl")
    run = ftlab.tinylm.load_pretrained().finetune(few, valid, n_epochs=12, batch_size=4,
                                                  learning_rate_multiplier=4, seed=0,
                                                  eval_every=4, progress=False)
    full = run.epochs()["full_valid_loss"]
    assert full.idxmin() > 1 and full.iloc[-1] > full.min()
    d = ftlab.diagnose(run)
    assert d.valid_column == "full_valid_loss" and d.verdict == "overfitting"
    assert d.best_before_repeat is False and "memorising repeated examples" in d.advice


def test_perplexity_of_a_set_is_exp_of_the_token_weighted_mean_loss():
    rng = np.random.default_rng(0)
    batches = [rng.exponential(1.5, size=n) for n in (3, 40, 500)]   # per-token losses
    whole = ftlab.perplexity(np.concatenate(batches).mean())
    weighted = ftlab.perplexity(np.average([b.mean() for b in batches],
                                           weights=[len(b) for b in batches]))
    assert math.isclose(whole, weighted)
    assert not math.isclose(whole, np.mean([ftlab.perplexity(b.mean()) for b in batches]))


@pytest.mark.parametrize("notebook, number", [("01_cross_entropy.ipynb", "01"),
                                              ("02_perplexity.ipynb", "02"),
                                              ("03_loss_curves.ipynb", "03")])
def test_each_exercise_is_asked_in_the_markdown_just_before_it(notebook, number):
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    for before, cell in zip(cells, cells[1:]):
        source = "".join(cell["source"])
        for name in ftlab.exercises(number):
            if f'ftlab.check("{name}"' in source:
                markdown = "".join(before["source"])
                assert before["cell_type"] == "markdown" and EXERCISES[name].question in markdown
                for key, (option, _) in EXERCISES[name].choices.items():
                    assert f"({key}) {option}" in markdown
