"""Two rounds of the ticket router on the tiny transformer, the second fixing what users flagged.

    python tools/run_feedback_experiment.py             # writes data/experiments/feedback_tickets.csv
    python tools/run_feedback_experiment.py --seeds 3 -o other.csv
    python tools/run_feedback_experiment.py --overwrite  # after a change to the model or the code

For every seed, ``ftlab.widgets.feedback.FeedbackLoop`` fine-tunes the shipped transformer on the
tickets with its default settings (round 1) and asks it to route the 24 new customer messages of
``tickets_new_messages.jsonl``. Every reply the recorded reviewer (``tickets_feedback.jsonl``)
disagrees with is flagged with the reviewer's label, exactly as the widget's "use recorded
feedback" button does; the corrections are checked (``ftlab.chat.corrections``) and round 2
fine-tunes a fresh copy on the training set plus the accepted ones, with the same seed and
settings. Both rounds are scored on the 88 unseen test tickets. One row per seed.
"""

import _experiments  # first: one BLAS thread before numpy loads (see it)

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ftlab import __version__
from ftlab.chat.labels import normalize_label
from ftlab.tinylm.files import weights_hash
from ftlab.widgets.feedback import FeedbackLoop

ROOT = _experiments.ROOT

EXPERIMENT = "feedback-two-rounds-v1"
MODEL = "tinylm-attn-v1"
DEFAULT_OUT = ROOT / "data" / "experiments" / "feedback_tickets.csv"


def _bits(flags):
    return "".join("1" if f else "0" for f in flags)


def flagged_by_reviewer(loop):
    """(row, right label) for every new message whose round-1 reply the reviewer corrects."""
    return [(row, right) for row, (reply, right) in enumerate(zip(loop.round_1.replies,
                                                                  loop.recorded()))
            if right is not None and normalize_label(reply) != normalize_label(right)]


def run_seed(seed, *, load_model=None):
    """One row: both rounds' test accuracy and what round 2 fixed, broke and learnt."""
    load_model = load_model or (lambda: _experiments.load_recorded_model(MODEL))
    weights = weights_hash(load_model().params)[:16]
    start = time.perf_counter()
    loop = FeedbackLoop(load_model, seed=seed)
    flagged = flagged_by_reviewer(loop)
    result = loop.round_2(flagged)
    right = loop.recorded()

    def new_correct(replies):
        return [r is not None and normalize_label(reply) == normalize_label(r)
                for reply, r in zip(replies, right)]

    return {
        "experiment": EXPERIMENT, "model": MODEL, "weights": weights,
        "ftlab_version": __version__, "numpy_version": np.__version__, "seed": seed,
        "n_train_round_1": result.round_1.n_train, "n_train_round_2": result.round_2.n_train,
        "n_flagged": len(flagged), "n_accepted": len(result.corrections.accepted),
        "round_1_accuracy": result.round_1.test.accuracy,
        "round_2_accuracy": result.round_2.test.accuracy,
        "round_1_correct": _bits(result.round_1.test.table["correct"]),
        "round_2_correct": _bits(result.round_2.test.table["correct"]),
        "fixed": len(result.fixed), "broken": len(result.broken),
        "mcnemar_p": result.mcnemar_p,
        "learnt": int(result.learnt.shape[0]), "not_learnt": int(result.not_learnt.shape[0]),
        "round_1_new_correct": _bits(new_correct(result.round_1.replies)),
        "round_2_new_correct": _bits(new_correct(result.round_2.replies)),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main():
    ap = _experiments.parser(__doc__, DEFAULT_OUT, seeds=5)
    args = _experiments.parse(ap)
    out = Path(args.out)
    rows = []
    for seed in range(args.seeds):
        rows.append(run_seed(seed))
        print(f"seed {seed}: round 1 {rows[-1]['round_1_accuracy']:.3f}, round 2 "
              f"{rows[-1]['round_2_accuracy']:.3f} ({rows[-1]['seconds']:.0f} s)", flush=True)
    pd.DataFrame(rows).to_csv(out, index=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    _experiments.run(main)
