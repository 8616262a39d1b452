"""What the experiment scripts in ``tools/`` share: one BLAS thread, this checkout on
``sys.path``, the ``--seeds`` / ``-o`` / ``--overwrite`` arguments with their checks, and for the
ticket experiments ``--model`` / ``--train`` / ``--test`` and the timing line they print.

Import it before numpy (``import _experiments``): the BLAS thread count is read when numpy loads.
One thread makes every sum run in a fixed order, so a results row can be re-run and compared.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parser(doc, default_out, seeds):
    """An argument parser with ``--seeds`` (default ``seeds``), ``-o/--out`` and ``--overwrite``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=seeds,
                    help=f"how many seeds, 0 .. N-1 (default {seeds})")
    ap.add_argument("-o", "--out", default=str(default_out))
    ap.add_argument("--overwrite", action="store_true", help="replace an existing results file")
    return ap


def parse(ap):
    """Parse the command line. An output that exists without ``--overwrite``, or fewer than two
    seeds, is a usage error: one line on stderr and exit status 2."""
    args = ap.parse_args()
    problem = (f"{args.out} exists; pass --overwrite to replace it"
               if Path(args.out).exists() and not args.overwrite else
               "--seeds must be at least 2 (an interval over seeds needs two)"
               if args.seeds < 2 else None)
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(2)
    return args


def add_ticket_arguments(ap, model):
    """``--model`` (a shipped tiny model, default ``model``), ``--train`` and ``--test`` (the
    ticket files)."""
    chat = ROOT / "data" / "chat"
    ap.add_argument("--model", default=model, help=f"a shipped tiny model's name (default {model})")
    ap.add_argument("--train", default=str(chat / "tickets_train.jsonl"))
    ap.add_argument("--test", default=str(chat / "tickets_test.jsonl"))


def read_tickets(args):
    """(train records, test records, a function returning a fresh ``--model``); a file that
    cannot be read is one line on stderr and exit status 1."""
    from ftlab.chat.files import read_chat_jsonl

    try:
        train, test = read_chat_jsonl(args.train), read_chat_jsonl(args.test)
    except OSError as err:
        print(f"cannot read the data: {err}", file=sys.stderr)
        sys.exit(1)
    return train, test, lambda: load_recorded_model(args.model)


def load_recorded_model(name):
    """A fresh copy of the shipped model ``name``, computing the way the recorded experiments
    did: every row of a batch in full (``shares_common_start = False``). Sharing rounds
    differently, and a re-run must come out the same as the shipped row."""
    from ftlab.tinylm.model import load_pretrained

    model = load_pretrained(name)
    if hasattr(model, "shares_common_start"):
        model.shares_common_start = False
    return model


def print_times(table, elapsed):
    """How long the runs of a results ``table`` took, in one line."""
    times = table.finetune_seconds
    print(f"{len(table)} runs in {elapsed:.0f} s; per fine-tune {times.mean():.2f} s "
          f"(max {times.max():.2f} s), scoring {table.score_seconds.mean():.2f} s")


def run(main):
    """Exit with ``main()``'s status; 130 on Ctrl-C, without a traceback."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
