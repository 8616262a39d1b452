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

import sys
import time
from pathlib import Path

from ftlab.augment.experiment import RESULTS_NAME, augmentation_experiment
from ftlab.chat.files import read_chat_jsonl
from ftlab.tinylm.model import DEFAULT_PRETRAINED, load_pretrained

ROOT = _experiments.ROOT

DEFAULT_OUT = ROOT / "data" / "experiments" / RESULTS_NAME


def main():
    ap = _experiments.parser(__doc__, DEFAULT_OUT, seeds=30)
    ap.add_argument("--model", default=DEFAULT_PRETRAINED,
                    help=f"a shipped tiny model's name (default {DEFAULT_PRETRAINED})")
    ap.add_argument("--train", default=str(ROOT / "data" / "chat" / "tickets_train.jsonl"))
    ap.add_argument("--test", default=str(ROOT / "data" / "chat" / "tickets_test.jsonl"))
    args = _experiments.parse(ap)
    out = Path(args.out)
    try:
        train, test = read_chat_jsonl(args.train), read_chat_jsonl(args.test)
    except OSError as err:
        print(f"cannot read the data: {err}", file=sys.stderr)
        return 1

    def load_model():
        return load_pretrained(args.model)

    start = time.perf_counter()
    exp = augmentation_experiment(train, test, load_model=load_model, seeds=range(args.seeds))
    elapsed = time.perf_counter() - start
    exp.to_csv(out, overwrite=args.overwrite)
    t = exp.table
    print(f"{len(t)} runs in {elapsed:.0f} s; per fine-tune {t.finetune_seconds.mean():.2f} s "
          f"(max {t.finetune_seconds.max():.2f} s), scoring {t.score_seconds.mean():.2f} s")
    print(exp.conclusion())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    _experiments.run(main)
