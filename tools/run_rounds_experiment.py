"""Run the instruction × metadata experiment on the ticket router and write its results CSV.

    python tools/run_rounds_experiment.py                  # writes data/experiments/rounds_tickets.csv
    python tools/run_rounds_experiment.py --model tinylm-attn-v1 --seeds 10 -o other.csv
    python tools/run_rounds_experiment.py --overwrite       # after a change to the model or the code

Every variant of ``ftlab.chat.variants`` (system instruction none / vague / precise × metadata
none / page / queue / page+queue) is made of ``data/chat/tickets_train.jsonl`` and
``tickets_test.jsonl``; ``ftlab.tinylm.recipes.compare_training_sets`` fine-tunes a fresh model on
each variant's training set with every seed and scores it twice: on the test set as new data comes
(the ``queue`` field says nothing about the team) and on the same test messages with the queue
still following the old rule (``train_like``, the pattern of the training data). One row per
variant × seed keeps the settings, the model's name and weights hash and the versions, so
``tests/test_variants.py`` can re-run a row (:func:`rerun_row`) and check that it comes out the
same.
"""

import _experiments  # first: one BLAS thread before numpy loads (see it)

import sys
import time
from pathlib import Path

import numpy as np

from ftlab.chat.files import read_chat_jsonl
from ftlab.chat.variants import (INSTRUCTIONS, METADATA, PAGE_RATE, SHORTCUT_RATE,
                                 ticket_variants)
from ftlab.tinylm.recipes import RecipeComparison, compare_training_sets

ROOT = _experiments.ROOT

RESULTS_NAME = "rounds_tickets.csv"
DEFAULT_OUT = ROOT / "data" / "experiments" / RESULTS_NAME
MODEL = "tinylm-attn-v1"  # the tiny transformer: it reads the whole conversation
EXPERIMENT = "rounds-instruction-metadata-v1"  # change when the protocol changes
SETTINGS = ("experiment", "model", "weights", "train_file", "test_file", "data_seed", "page_rate",
            "shortcut_rate", "position", "batch_size", "learning_rate_multiplier",
            "ftlab_version", "numpy_version")
RESULTS = ("set", "instruction", "metadata", "seed", "n_examples", "n_epochs", "steps",
           "test_label_loss", "test_accuracy", "test_correct", "train_like_label_loss",
           "train_like_accuracy", "train_like_correct")
TIMES = ("finetune_seconds", "score_seconds")  # measured, so never part of a reproduction check


def run_rounds(train, test, *, load_model, seeds, instructions=tuple(INSTRUCTIONS),
               metadata=METADATA, data_seed=0, page_rate=PAGE_RATE, shortcut_rate=SHORTCUT_RATE,
               position="end", n_epochs=None, batch_size=None, learning_rate_multiplier=None,
               progress=True):
    """Every variant × seed, fine-tuned and scored: a RecipeComparison whose table has the
    columns SETTINGS, RESULTS and TIMES."""
    from ftlab import __version__

    variants = ticket_variants(train, test, instructions=instructions, metadata=metadata,
                               page_rate=page_rate, shortcut_rate=shortcut_rate, seed=data_seed,
                               position=position)
    runs = compare_training_sets(variants.train, variants.test,
                                 extra_tests={"train_like": variants.train_like},
                                 load_model=load_model, seeds=seeds, n_epochs=n_epochs,
                                 batch_size=batch_size,
                                 learning_rate_multiplier=learning_rate_multiplier,
                                 progress=progress).table
    kind = variants.kinds
    table = runs.assign(
        experiment=EXPERIMENT, train_file=_file_name(train), test_file=_file_name(test),
        data_seed=data_seed, page_rate=page_rate, shortcut_rate=shortcut_rate, position=position,
        ftlab_version=__version__, numpy_version=np.__version__,
        instruction=[kind[s][0] for s in runs["set"]], metadata=[kind[s][1] for s in runs["set"]])
    return RecipeComparison(table[[*SETTINGS, *RESULTS, *TIMES]])


def _file_name(records):
    source = getattr(records, "source", None)
    return Path(str(source)).name if source and not str(source).startswith("<") else "<records>"


def rerun_row(row, *, load_model=None):
    """Re-run one row (variant × seed) of a results file from scratch; returns the new row.

    The model is ``_experiments.load_recorded_model(row["model"])`` unless ``load_model`` is
    given, and the data
    are the row's files in ``data/chat/``. Every column but the timings must come out the same.
    """
    if load_model is None:
        def load_model():
            return _experiments.load_recorded_model(row["model"])
    chat = ROOT / "data" / "chat"
    again = run_rounds(read_chat_jsonl(chat / row["train_file"]),
                       read_chat_jsonl(chat / row["test_file"]), load_model=load_model,
                       seeds=[int(row["seed"])], instructions=[row["instruction"]],
                       metadata=[row["metadata"]], data_seed=int(row["data_seed"]),
                       page_rate=float(row["page_rate"]),
                       shortcut_rate=float(row["shortcut_rate"]), position=row["position"],
                       n_epochs=int(row["n_epochs"]), batch_size=int(row["batch_size"]),
                       learning_rate_multiplier=float(row["learning_rate_multiplier"]),
                       progress=False)
    return again.table.iloc[0].to_dict()


def describe(comparison, baseline=None):
    """The experiment in words and numbers: accuracy per variant on both test sets, and the
    paired differences that answer its questions."""
    names = comparison.set_names
    baseline = baseline or names[0]
    lines = []
    for metric, what in (("test_accuracy", "test data (queue says nothing)"),
                         ("train_like_accuracy", "train-like data (queue follows the old rule)")):
        s = comparison.summary(baseline, metric)
        lines.append(f"\n{metric}: {what}; mean over {len(comparison.seeds)} seeds, 95% interval "
                     f"over seeds and test messages; difference from {baseline}, paired by seed")
        for name, r in s.iterrows():
            diff = ("" if r.verdict == "baseline" else
                    f"   {r.difference:+.3f} [{r.diff_low:+.3f}, {r.diff_high:+.3f}] "
                    f"mde {r.mde:.3f} {r.verdict}")
            lines.append(f"  {name:22s} {r['mean']:.3f} [{r.low:.3f}, {r.high:.3f}]{diff}")
    for without, with_ in (("none", "queue"), ("page", "page+queue")):
        for instruction in dict.fromkeys(n.split("/")[0] for n in names):
            a, b = f"{instruction}/{with_}", f"{instruction}/{without}"
            if a not in names or b not in names:
                continue
            parts = []
            for metric in ("train_like_accuracy", "test_accuracy"):
                r = comparison.summary(b, metric).loc[a]
                parts.append(f"{metric[:-9]} {r.difference:+.3f} [{r.diff_low:+.3f}, "
                             f"{r.diff_high:+.3f}]")
            lines.append(f"shortcut ({a} − {b}): " + "; ".join(parts))
    return "\n".join(lines)


def _choices(text, allowed, flag):
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValueError(f"{flag}: unknown value(s) {', '.join(unknown) or repr(text)}; choose "
                         f"from {', '.join(allowed)} (comma-separated)")
    return values


def main():
    ap = _experiments.parser(__doc__, DEFAULT_OUT, seeds=20)
    _experiments.add_ticket_arguments(ap, MODEL)
    ap.add_argument("--instructions", default=",".join(INSTRUCTIONS),
                    help="comma-separated instruction names (default: all)")
    ap.add_argument("--metadata", default=",".join(METADATA),
                    help="comma-separated metadata choices (default: all)")
    ap.add_argument("--n-epochs", default=None,
                    help="epochs, or 'auto' for the services' rule (default: the model's own)")
    ap.add_argument("--batch-size", type=int, default=None, help="default: the model's own")
    ap.add_argument("--lr-multiplier", type=float, default=None, help="default: the model's own")
    args = _experiments.parse(ap)
    out = Path(args.out)
    try:
        instructions = _choices(args.instructions, INSTRUCTIONS, "--instructions")
        metadata = _choices(args.metadata, METADATA, "--metadata")
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    if args.n_epochs not in (None, "auto") and not args.n_epochs.isdigit():
        print(f"--n-epochs must be a whole number or 'auto', got {args.n_epochs!r}", file=sys.stderr)
        return 2
    n_epochs = int(args.n_epochs) if args.n_epochs not in (None, "auto") else args.n_epochs
    train, test, load_model = _experiments.read_tickets(args)
    start = time.perf_counter()
    comparison = run_rounds(train, test, load_model=load_model, seeds=range(args.seeds),
                            instructions=instructions, metadata=metadata,
                            n_epochs=n_epochs, batch_size=args.batch_size,
                            learning_rate_multiplier=args.lr_multiplier)
    elapsed = time.perf_counter() - start
    comparison.to_csv(out, overwrite=args.overwrite)
    _experiments.print_times(comparison.table, elapsed)
    print(describe(comparison))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    _experiments.run(main)
