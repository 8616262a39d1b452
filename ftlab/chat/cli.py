"""Handlers of ``ftlab check`` and ``ftlab split`` (the parsers are registered in ``ftlab.cli``).

``ftlab check FILE [--valid FILE] [--model M] [--json] [--all]`` exits 0 when the data is clean
(warnings allowed), 1 when it has errors, 2 when a file cannot be opened, not one line of it is
JSON, or the model name is unknown. ``ftlab split`` exits 2 when the split cannot be made (the
reason goes to stderr) and writes both files or neither.
"""

import argparse
import difflib
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path

from ftlab._report import plural
from ftlab._secrets import redact

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2
EXIT_USAGE = 2
MAX_SHOWN = 20  # problems `check` lists before "… N more" (--all lists every one)


def checked(convert, ok, wanted):
    """An argparse type that refuses a value in the flag's words ("argument --seed: must be ...")
    rather than with a Python keyword; every wing's command line uses it."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    return parse


def add_parsers(sub):
    """Register ``check`` and ``split`` on an argparse subparsers object."""
    p = sub.add_parser("check", help="validate a chat JSONL fine-tuning file; count tokens and cost")
    p.add_argument("file", help="training file (JSONL)")
    p.add_argument("--valid", help="validation file: checked too, and for leakage from training")
    p.add_argument("--model", help="model to be fine-tuned (sets the tokenizer, limits and price); "
                   "default gpt-4o-mini-2024-07-18")
    p.add_argument("--format", default="auto", choices=("auto", "chat", "preference"),
                   help="data format (default: detected from the first example)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--all", action="store_true",
                   help=f"list every problem (default: the first {MAX_SHOWN})")
    p.set_defaults(func=check_command)
    p = sub.add_parser("split", help="split a chat JSONL file into train/valid files "
                       "(near-duplicates stay on one side)")
    p.add_argument("file", help="chat JSONL file to split")
    p.add_argument("--valid-fraction", type=checked(float, lambda x: 0 < x < 1, "a number between 0 and 1 (like 0.2)"), default=0.2,
                   help="share of examples for validation, between 0 and 1 (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--stratify", choices=("label",), help="keep each final-reply label's share")
    p.add_argument("-o", "--out-dir", required=True, help="folder for NAME_train.jsonl and NAME_valid.jsonl")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=split_command)


def _say(text):
    print(redact(text), file=sys.stderr)


# ----------------------------------------------------------------------------- check


def _unknown_model(model):
    """Why ``model`` looks mistyped, or None. A name close to a known one is a typo; a name far
    from all of them may be newer than ftlab's tables, and only gets a note in the report."""
    from ftlab.chat.tokens import MODEL_TOKEN_LIMITS, TRAINING_PRICE_PER_1M

    dated = set(MODEL_TOKEN_LIMITS) | set(TRAINING_PRICE_PER_1M)
    undated = {re.sub(r"-(\d{4}-\d\d-\d\d|\d{4})$", "", name) for name in dated}  # gpt-4o-mini
    base = model.split(":")[1] if model.startswith("ft:") else model
    known = dated | undated
    if base in known or base.replace("gpt-35", "gpt-3.5") in known:  # Azure spells it gpt-35
        return None
    close = difflib.get_close_matches(base, sorted(known), n=1, cutoff=0.9)
    if not close:
        return None
    return f"unknown model '{model}'; did you mean --model {close[0]}?"


def _show(report, show_all):
    """The report as text, listing at most MAX_SHOWN problems unless --all."""
    from ftlab.chat.validate import _where

    shown = report.problems if show_all else report.problems[:MAX_SHOWN]
    print(report.summary())
    for p in shown:  # as the report's repr lists them, where a notebook shows it
        print(f"  {_where(p)}  [{p.code}] {p.message} Fix: {p.fix}")
    if len(shown) < len(report.problems):
        print(f"  … {len(report.problems) - len(shown)} more problems (--all lists every one)")
    for note in report.notes:
        print(note)
    if report.valid is not None:
        print("validation file:")
        _show(report.valid, show_all)


def _unreadable(report):
    """The one-line verdict on a file of which not one line is JSON, or None."""
    read_errors = [p for p in report.problems
                   if p.code in ("invalid_utf8", "invalid_json", "truncated_last_line")]
    if report.n_examples or not read_errors:
        return None
    first = read_errors[0]
    return (f"{report.source}: not a JSONL file: none of its lines is a JSON example "
            f"({len(read_errors)} unreadable; line {first.line}: [{first.code}] {first.message}) "
            "Give a .jsonl file with one JSON object per line.")


def check_command(args):
    from ftlab.chat.validate import validate_chat

    typo = args.model and _unknown_model(args.model)
    if typo:
        _say(f"ftlab check: {typo}")
        return EXIT_USAGE
    try:
        report = validate_chat(args.file, valid=args.valid, model=args.model, format=args.format)
    except OSError as exc:
        _say(f"ftlab check: cannot read {exc.filename or args.file}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    unreadable = _unreadable(report) or (report.valid is not None and _unreadable(report.valid))
    if unreadable and not args.json:
        _say(f"ftlab check: {unreadable}")
        return EXIT_UNREADABLE
    estimate = report.estimate() if report.example_tokens else None
    if args.json:
        out = report.to_dict()
        out["estimate"] = asdict(estimate) if estimate else None
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _show(report, args.all)
        if estimate is not None:
            print("\nIf you trained on the examples that passed:" if report.errors else "\nEstimate:")
            print(estimate)
            for note in estimate.notes:
                print(f"note: {note}")
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_OK if report.ok else EXIT_ERRORS


# ----------------------------------------------------------------------------- split


def _why_one_side_is_empty(records, train, valid, args):
    """The reason a split left a side empty, in the words of the flags (None when both have data)."""
    from collections import Counter

    from ftlab.chat.files import _label

    if train and valid:
        return None
    side = "validation" if not valid else "training"
    if args.stratify:
        counts = Counter(_label(r) for r in records)
        if len(counts) > len(records) / 2:
            return (f"{side} would be empty: --stratify label keeps each final reply's share, and "
                    f"{len(counts)} of {len(records)} final replies are different (it is for "
                    "classification data with a few labels); drop --stratify")
    return (f"{side} would be empty: {len(records)} examples (near-duplicates count as one) are too "
            f"few for --valid-fraction {args.valid_fraction}; use more data or another fraction")


def split_command(args):
    from ftlab._files import write_all
    from ftlab.chat.files import _label, jsonl_writer, read_chat_jsonl, split_chat

    try:
        records = read_chat_jsonl(args.file)
        if args.stratify and not any(_label(r) for r in records):
            _say(f"ftlab split: {args.file} has no final assistant replies to use as labels; "
                 "drop --stratify label")
            return EXIT_USAGE
        train, valid = split_chat(records, args.valid_fraction, seed=args.seed, stratify=args.stratify)
    except ValueError as exc:
        _say(f"ftlab split: {args.file}: {exc}")
        return EXIT_USAGE
    empty = _why_one_side_is_empty(records, train, valid, args)
    if empty:
        _say(f"ftlab split: {args.file}: {empty}; nothing was written")
        return EXIT_USAGE
    stem, out = Path(args.file).stem, Path(args.out_dir)
    targets = [(out / f"{stem}_{side}.jsonl", part) for side, part in (("train", train), ("valid", valid))]
    write_all([(path, jsonl_writer(part), {"newline": "\n"}) for path, part in targets],
              overwrite=args.overwrite, inputs=[args.file])
    for path, part in targets:
        print(f"wrote {path} ({plural(len(part), 'example')})")
    return EXIT_OK
