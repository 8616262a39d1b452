"""Run notebook 06's augmentation experiment and write its results CSV (one row per seed × arm).

    python tools/run_augment_experiment.py                   # writes data/experiments/augment_tickets.csv
    python tools/run_augment_experiment.py --model tinylm-attn-v1 --seeds 10 -o other.csv
    python tools/run_augment_experiment.py --overwrite        # after a change to the model or the code

Three arms (original, original + exact copies, original + augmented variants) are fine-tuned on
``data/chat/tickets_train.jsonl`` with every seed and scored on ``data/chat/tickets_test.jsonl``
(``ftlab.augment.experiment`` says why and how). Each row keeps the settings, the model's name and
weights hash and the versions, so ``tests/test_augment_experiment.py`` can re-run a row and check
that it comes out the same. The notebook reads the file; it does not re-run the experiment.
"""

import _experiments  # first: one BLAS thread before numpy loads (see it)

import time
from pathlib import Path

from ftlab.augment.experiment import RESULTS_NAME, augmentation_experiment
from ftlab.tinylm.model import PRETRAINED_NAME

ROOT = _experiments.ROOT

DEFAULT_OUT = ROOT / "data" / "experiments" / RESULTS_NAME


def main():
    ap = _experiments.parser(__doc__, DEFAULT_OUT, seeds=30)
    _experiments.add_ticket_arguments(ap, PRETRAINED_NAME)  # the MLP: notebook 06's 30 seeds × 3 arms
    args = _experiments.parse(ap)
    out = Path(args.out)
    train, test, load_model = _experiments.read_tickets(args)
    start = time.perf_counter()
    exp = augmentation_experiment(train, test, load_model=load_model, seeds=range(args.seeds))
    elapsed = time.perf_counter() - start
    exp.to_csv(out, overwrite=args.overwrite)
    _experiments.print_times(exp.table, elapsed)
    print(exp.conclusion())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    _experiments.run(main)
