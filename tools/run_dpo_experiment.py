"""Negative examples two ways on the tiny transformer, and what they do to the ticket router.

    python tools/run_dpo_experiment.py                 # writes data/experiments/dpo_synonyms.csv
    python tools/run_dpo_experiment.py --seeds 3 -o other.csv
    python tools/run_dpo_experiment.py --overwrite     # after a change to the model or the code

For every seed the shipped transformer is first fine-tuned on the tickets (round 1, its default
settings). Three arms then start from that same model:

- ``tickets``: round 1 as it is;
- ``dpo``: plus a DPO round on ``synonyms_preference_train.jsonl`` (preferred: a synonym,
  non-preferred: an antonym), with DPO's defaults;
- ``naive_sft``: plus an ordinary fine-tuning round on ``synonyms_sft_naive.jsonl`` (the same
  pairs written as chat examples, the antonym answered with "Not 'sad' - that is the opposite."),
  for as many epochs as the DPO round.

Each arm is scored on the 88 unseen tickets (``ftlab.task_accuracy``) and on two sets of pairs it
never trained on: the training words asked in other words (``synonyms_preference_reworded.jsonl``)
and new words (``synonyms_preference_valid.jsonl``). A pair counts as "prefers the antonym" when
the model gives the non-preferred reply the higher log-probability. One row per seed × arm.
"""

import _experiments  # first: one BLAS thread before numpy loads (see it)

import copy
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ftlab import __version__, read_chat_jsonl, task_accuracy
from ftlab.tinylm.dpo import DEFAULTS as DPO_DEFAULTS
from ftlab.tinylm.dpo import dpo_finetune, reply_logprobs
from ftlab.tinylm.files import weights_hash

ROOT = _experiments.ROOT

EXPERIMENT = "negatives-dpo-vs-sft-v1"
MODEL = "tinylm-attn-v1"
CHAT = ROOT / "data" / "chat"
DEFAULT_OUT = ROOT / "data" / "experiments" / "dpo_synonyms.csv"
FILES = {"tickets_train": "tickets_train.jsonl", "tickets_valid": "tickets_valid.jsonl",
         "tickets_test": "tickets_test.jsonl", "dpo_train": "synonyms_preference_train.jsonl",
         "sft_train": "synonyms_sft_naive.jsonl", "reworded": "synonyms_preference_reworded.jsonl",
         "new_words": "synonyms_preference_valid.jsonl"}


def _bits(flags):
    return "".join("1" if f else "0" for f in flags)


def score(model, name):
    """The row's measurements: ticket routing and, on both held-out pair sets, which reply of
    each pair the model finds more likely."""
    start = time.perf_counter()
    tickets = task_accuracy(model, CHAT / FILES["tickets_test"], progress=False, name=name)
    row = {"ticket_accuracy": tickets.accuracy, "ticket_correct": _bits(tickets.table["correct"])}
    for pairs in ("reworded", "new_words"):
        chosen, rejected = reply_logprobs(model, CHAT / FILES[pairs])
        row[f"{pairs}_prefers_antonym"] = float((rejected > chosen).mean())
        row[f"{pairs}_antonym"] = _bits(rejected > chosen)
        row[f"{pairs}_margin"] = float((chosen - rejected).mean())
    row["score_seconds"] = round(time.perf_counter() - start, 2)
    return row


def run_seed(seed, *, load_model=None):
    """The three arms of one seed: a list of rows."""
    load_model = load_model or (lambda: _experiments.load_recorded_model(MODEL))
    chat = {key: read_chat_jsonl(CHAT / name) for key, name in FILES.items()
            if key in ("tickets_train", "tickets_valid", "sft_train")}
    round_1 = load_model()
    weights = weights_hash(round_1.params)[:16]  # before fine-tuning: which model the row used
    start = time.perf_counter()
    round_1.finetune(chat["tickets_train"], chat["tickets_valid"], seed=seed, progress=False)
    rows = [{"arm": "tickets", "finetune_seconds": round(time.perf_counter() - start, 2),
             **score(round_1, "tickets")}]

    dpo = copy.deepcopy(round_1)
    start = time.perf_counter()
    dpo_finetune(dpo, CHAT / FILES["dpo_train"], seed=seed, progress=False)
    rows.append({"arm": "dpo", "finetune_seconds": round(time.perf_counter() - start, 2),
                 **score(dpo, "dpo")})

    naive = copy.deepcopy(round_1)
    start = time.perf_counter()
    naive.finetune(chat["sft_train"], seed=seed, n_epochs=DPO_DEFAULTS["n_epochs"], progress=False)
    rows.append({"arm": "naive_sft", "finetune_seconds": round(time.perf_counter() - start, 2),
                 **score(naive, "naive_sft")})
    settings = {"experiment": EXPERIMENT, "model": MODEL,
                "weights": weights, **FILES,
                "beta": DPO_DEFAULTS["beta"], "dpo_epochs": DPO_DEFAULTS["n_epochs"],
                "ftlab_version": __version__, "numpy_version": np.__version__, "seed": seed}
    return [{**settings, **row} for row in rows]


def main():
    ap = _experiments.parser(__doc__, DEFAULT_OUT, seeds=5)
    args = _experiments.parse(ap)
    out = Path(args.out)
    start = time.perf_counter()
    rows = []
    for seed in range(args.seeds):
        rows += run_seed(seed)
        print(f"seed {seed} done after {time.perf_counter() - start:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(out, index=False)
    print(table.groupby("arm")[["ticket_accuracy", "reworded_prefers_antonym",
                                "new_words_prefers_antonym"]].mean().round(3))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    _experiments.run(main)
