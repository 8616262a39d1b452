"""The shipped results of notebook 10's experiments: DPO against naive SFT, and the feedback loop.

Each file is checked for what the notebook relies on (every arm and seed, scores that agree with
their own per-record bits), and one row is re-run from scratch: if that fails after a change to
the model or the training code, regenerate the file with its script in ``tools/``.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ftlab._data import data_dir

ROOT = Path(__file__).resolve().parent.parent
CHAT = data_dir() / "chat"
EXPERIMENTS = data_dir() / "experiments"


def _tool(name):
    sys.path.insert(0, str(ROOT / "tools"))  # the tools' shared _experiments module
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dpo_tool():
    return _tool("run_dpo_experiment")


@pytest.fixture(scope="module")
def feedback_tool():
    return _tool("run_feedback_experiment")


def _same(shipped, again, skip=("ftlab_version", "numpy_version")):
    for column, value in shipped.items():
        if column in skip or column.endswith("seconds"):
            continue
        fresh = again[column]
        same = abs(fresh - value) < 1e-12 if isinstance(value, float) else str(fresh) == str(value)
        assert same, f"{column}: the shipped file says {value!r}, a re-run gives {fresh!r}"


# ----------------------------------------------------------------------------- held-out wordings


def _pairs(name):
    return [json.loads(line) for line in (CHAT / name).open(encoding="utf-8")]


def test_reworded_pairs_ask_the_training_words_in_words_training_never_used():
    train, reworded = _pairs("synonyms_preference_train.jsonl"), _pairs(
        "synonyms_preference_reworded.jsonl")
    assert len(reworded) == len(train)
    training_prompts = {p["input"]["messages"][0]["content"] for p in train}
    wording = lambda text: re.sub(r"'[^']+'", "'…'", text)  # noqa: E731
    assert {wording(p) for p in training_prompts} == {"Give one word that means the same as '…'."}
    for old, new in zip(train, reworded):
        prompt = new["input"]["messages"][0]["content"]
        assert prompt not in training_prompts and wording(prompt) != wording(
            old["input"]["messages"][0]["content"])
        assert re.findall(r"'([^']+)'", prompt) == re.findall(
            r"'([^']+)'", old["input"]["messages"][0]["content"])  # the same word is asked
        assert new["preferred_output"] == old["preferred_output"]
        assert new["non_preferred_output"] == old["non_preferred_output"]


# ----------------------------------------------------------------------------- DPO vs naive SFT


def test_dpo_results_cover_every_arm_and_agree_with_their_bits(dpo_tool):
    t = pd.read_csv(EXPERIMENTS / "dpo_synonyms.csv", dtype={"ticket_correct": str,
                                                             "reworded_antonym": str,
                                                             "new_words_antonym": str})
    assert (t.experiment == dpo_tool.EXPERIMENT).all() and (t.model == dpo_tool.MODEL).all()
    seeds = sorted(set(t.seed))
    assert len(seeds) >= 5 and len(t) == 3 * len(seeds)
    assert sorted(set(t.arm)) == ["dpo", "naive_sft", "tickets"]
    for _, row in t.iterrows():
        assert len(row.ticket_correct) == 88
        assert row.ticket_accuracy == pytest.approx(row.ticket_correct.count("1") / 88)
        for pairs, n in (("reworded", 73), ("new_words", 32)):
            bits = row[f"{pairs}_antonym"]
            assert len(bits) == n
            assert row[f"{pairs}_prefers_antonym"] == pytest.approx(bits.count("1") / n)


def test_a_dpo_row_reproduces_exactly(dpo_tool):
    t = pd.read_csv(EXPERIMENTS / "dpo_synonyms.csv", dtype=str, keep_default_na=False)
    shipped = t[t.seed == "0"]
    again = dpo_tool.run_seed(0)
    for (_, row), fresh in zip(shipped.iterrows(), again):
        _same({k: (float(v) if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?", v) else v)
               for k, v in row.items()}, fresh)


# ----------------------------------------------------------------------------- two feedback rounds


def test_feedback_results_agree_with_their_bits(feedback_tool):
    t = pd.read_csv(EXPERIMENTS / "feedback_tickets.csv",
                    dtype={c: str for c in ("round_1_correct", "round_2_correct",
                                            "round_1_new_correct", "round_2_new_correct")})
    assert (t.experiment == feedback_tool.EXPERIMENT).all() and len(t) >= 5
    for _, row in t.iterrows():
        one, two = row.round_1_correct, row.round_2_correct
        assert row.round_1_accuracy == pytest.approx(one.count("1") / len(one))
        assert row.round_2_accuracy == pytest.approx(two.count("1") / len(two))
        assert row.fixed == sum(a == "0" and b == "1" for a, b in zip(one, two))
        assert row.broken == sum(a == "1" and b == "0" for a, b in zip(one, two))
        assert row.n_train_round_2 == row.n_train_round_1 + row.n_accepted
        assert row.learnt + row.not_learnt == row.n_accepted <= row.n_flagged
        # round 1 got wrong exactly the new messages the reviewer flagged
        assert row.round_1_new_correct.count("0") == row.n_flagged


def test_the_dpo_tool_refuses_to_overwrite_and_bad_seeds(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("mine\n")
    tool = ROOT / "tools" / "run_dpo_experiment.py"
    done = subprocess.run([sys.executable, str(tool), "-o", str(out)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "--overwrite" in done.stderr and out.read_text() == "mine\n"
    done = subprocess.run([sys.executable, str(tool), "--seeds", "1", "-o", str(tmp_path / "y")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--seeds" in done.stderr and "Traceback" not in done.stderr
