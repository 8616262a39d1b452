"""compare_training_sets: a fresh model per run, seeds paired across sets, scores by the one label
scorer; the summary's intervals and verdicts; results that survive a CSV round trip."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ftlab
from ftlab._report import paired_interval
from ftlab.chat.files import read_chat_jsonl
from ftlab.tinylm.model import Config, TinyLM
from ftlab.tinylm.recipes import (RecipeComparison, compare_training_sets, read_comparison,
                                  score_model)

DATA = Path(__file__).resolve().parent.parent / "data" / "chat"


@pytest.fixture(scope="module")
def tickets():
    train = read_chat_jsonl(DATA / "tickets_train.jsonl").subset(range(12))
    test = read_chat_jsonl(DATA / "tickets_test.jsonl").subset(range(6))
    return list(train), list(test)


def loader(calls=None, model=TinyLM, config=None):
    def load():  # an untrained small model: fast, and any model can be plugged in
        if calls is not None:
            calls.append(1)
        return model(config or Config(context_size=8, embedding_size=8, hidden_size=32), seed=0)
    return load


def with_system(records, text):
    return [{"messages": [{"role": "system", "content": text}]
             + [m for m in r["messages"] if m["role"] != "system"]} for r in records]


# ----------------------------------------------------------------------------- the runs


def test_one_row_per_set_and_seed_each_from_a_fresh_model(tickets):
    train, test = tickets
    calls = []
    c = compare_training_sets({"all": train, "half": train[:6]}, test, load_model=loader(calls),
                              seeds=[0, 1], n_epochs=2, progress=False)
    t = c.table
    assert len(calls) == 4
    assert list(t["set"]) == ["all", "half", "all", "half"] and list(t["seed"]) == [0, 0, 1, 1]
    assert list(t.columns[:9]) == ["set", "seed", "model", "weights", "n_examples", "n_epochs",
                                   "batch_size", "learning_rate_multiplier", "steps"]
    assert {"test_label_loss", "test_accuracy", "test_correct", "finetune_seconds",
            "score_seconds"} <= set(t.columns)
    assert t.n_examples.tolist() == [12, 6, 12, 6] and t.steps.tolist() == [6, 4, 6, 4]
    assert (t.model == "TinyLM").all() and t.weights.str.len().eq(16).all()
    assert t.test_correct.str.len().eq(len(test)).all() and t.test_label_loss.gt(0).all()
    assert t.test_accuracy.tolist() == [s.count("1") / len(test) for s in t.test_correct]
    assert c.set_names == ["all", "half"] and c.seeds == [0, 1]
    assert "2 sets × 2 seeds" in repr(c)


def test_same_seed_same_run_so_the_pairs_are_fair(tickets):
    train, test = tickets
    c = compare_training_sets({"a": train, "b": list(train)}, test, load_model=loader(),
                              seeds=[3, 4], progress=False)
    t = c.table.drop(columns=["set", "finetune_seconds", "score_seconds"])
    pd.testing.assert_frame_equal(t.iloc[::2].reset_index(drop=True),
                                  t.iloc[1::2].reset_index(drop=True))
    assert (c.summary("a", "test_label_loss").loc["b", "verdict"]) == "identical"
    again = compare_training_sets({"a": train}, test, load_model=loader(), seeds=[4],
                                  progress=False).table
    assert again.test_label_loss[0] == c.table.test_label_loss[2]  # seeded, run alone or not


def test_scores_are_the_label_scorers(tickets):
    train, test = tickets
    model = loader()()
    model.finetune(train, n_epochs=2, progress=False)
    scores = score_model(model, test, max_tokens=12)
    reference = ftlab.task_accuracy(model, test, progress=False, max_tokens=12)
    assert scores["accuracy"] == reference.accuracy
    assert scores["correct"] == reference.table["correct"].tolist()
    assert scores["label_loss"] == model.evaluate(test)["loss"]
    assert repr(scores["result"]) == repr(reference)


def test_sets_may_depend_on_the_seed_and_have_their_own_tests(tickets):
    train, test = tickets
    seen = []

    def by_seed(seed):
        seen.append(seed)
        return train[seed:seed + 6]

    sets = {"plain": train[:6], "moving": by_seed,
            "instructed": with_system(train[:6], "Reply with one label.")}
    tests = {"plain": test, "moving": test, "instructed": with_system(test, "Reply with one label.")}
    c = compare_training_sets(sets, tests, load_model=loader(), seeds=[0, 2], progress=False,
                              extra_tests={"again": test}, n_epochs="auto", max_tokens=8)
    assert seen == [0, 2]
    t = c.table
    assert t.n_epochs.tolist() == [ftlab.default_epochs(6)] * 6
    assert {"again_accuracy", "again_label_loss", "again_correct"} <= set(t.columns)
    # the MLP reads 8 characters: an instruction it never sees changes nothing
    plain, instructed = (t[t.set == s].reset_index(drop=True) for s in ("plain", "instructed"))
    assert plain.test_correct.equals(instructed.test_correct)
    assert c.correct("moving", "again").shape == (2, len(test))


def test_bad_arguments_are_named(tickets):
    train, test = tickets
    with pytest.raises(ValueError, match="sets must be a dict"):
        compare_training_sets([train], test, load_model=loader(), progress=False)
    with pytest.raises(ValueError, match=r"no records for set\(s\) \['b'\]"):
        compare_training_sets({"a": train, "b": train}, {"a": test}, load_model=loader(),
                              progress=False)
    with pytest.raises(TypeError, match="load_model must be a function"):
        compare_training_sets({"a": train}, test, load_model=TinyLM(), progress=False)
    with pytest.raises(ValueError, match="has no assistant reply"):  # before any training
        compare_training_sets({"a": train}, [{"messages": [{"role": "user", "content": "x"}]}],
                              load_model=loader(), progress=False)
    with pytest.raises(ValueError, match="may not be called 'test'"):
        compare_training_sets({"a": train}, test, extra_tests={"test": test}, load_model=loader(),
                              progress=False)


def test_works_with_the_transformer_too(tickets):
    from ftlab.tinylm.transformer import TinyTransformer, TransformerConfig

    train, test = tickets
    load = loader(model=TinyTransformer,
                  config=TransformerConfig(context_size=64, width=16, n_layers=1, n_heads=2))
    c = compare_training_sets({"a": train[:4]}, test[:3], load_model=load, seeds=[0],
                              n_epochs=1, max_tokens=6, progress=False)
    assert c.table.model[0] == "TinyTransformer" and len(c.table.test_correct[0]) == 3


# ----------------------------------------------------------------------------- the summary


def _comparison(accuracy, n=10):
    """Given accuracies per set (one per seed), a table as compare_training_sets writes it."""
    rows = []
    for name, values in accuracy.items():
        for seed, acc in enumerate(values):
            k = round(acc * n)
            rows.append({"set": name, "seed": seed, "test_accuracy": acc,
                         "test_label_loss": 1 - acc, "test_correct": "1" * k + "0" * (n - k)})
    return RecipeComparison(pd.DataFrame(rows))


def test_summary_pairs_by_seed_against_the_baseline():
    c = _comparison({"base": [0.3, 0.4, 0.5, 0.4], "same": [0.3, 0.4, 0.5, 0.4],
                     "up": [0.5, 0.6, 0.6, 0.6], "noisy": [0.2, 0.6, 0.4, 0.5]})
    s = c.summary("base")
    assert s.index.tolist() == ["base", "same", "up", "noisy"]
    assert s.loc["base", "verdict"] == "baseline" and math.isnan(s.loc["base", "diff_low"])
    assert s.loc["same", "verdict"] == "identical"
    r = paired_interval([0.5, 0.6, 0.6, 0.6], [0.3, 0.4, 0.5, 0.4])
    assert s.loc["up", ["difference", "diff_low", "diff_high", "mde"]].tolist() == pytest.approx(
        [r.mean, r.low, r.high, r.mde])
    assert s.loc["up", "verdict"] == "better" and s.loc["noisy", "verdict"] == "not detected"
    assert s.loc["up", "mean"] == pytest.approx(0.575) and s.loc["up", "seeds"] == 4
    assert s.loc["up", "low"] < 0.575 < s.loc["up", "high"]
    loss = c.summary("base", "test_label_loss")  # lower is better
    assert loss.loc["up", "verdict"] == "better" and loss.loc["up", "difference"] < 0
    assert c.by_seed().columns.tolist() == ["base", "same", "up", "noisy"]
    with pytest.raises(ValueError, match="baseline 'nope'"):
        c.summary("nope")


def test_csv_round_trip_is_exact_and_never_clobbers(tmp_path, tickets):
    train, test = tickets
    c = compare_training_sets({"a": train[:6]}, test, load_model=loader(), seeds=[0, 1],
                              progress=False)
    path = c.to_csv(tmp_path / "runs.csv")
    back = read_comparison(path).table
    pd.testing.assert_frame_equal(back, c.table, check_dtype=False)
    assert back.test_correct.tolist() == c.table.test_correct.tolist()  # text, leading 0s kept
    with pytest.raises(FileExistsError):
        c.to_csv(path)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a recipe comparison"):
        read_comparison(tmp_path / "other.csv")
    assert np.isfinite(read_comparison(path).summary()["mean"]).all()
