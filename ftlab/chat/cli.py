"""Handlers of ``ftlab check`` and ``ftlab split`` (the parsers are registered in ``ftlab.cli``).

``ftlab check FILE [--valid FILE] [--model M] [--json]`` exits 0 when the data is clean (warnings
allowed), 1 when it has errors, 2 when a file cannot be opened or not one line of it is JSON.
"""

import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


def add_parsers(sub):
    """Register ``check`` and ``split`` on an argparse subparsers object."""
    p = sub.add_parser("check", help="validate a chat JSONL fine-tuning file; count tokens and cost")
    p.add_argument("file", help="training file (JSONL)")
    p.add_argument("--valid", help="validation file: checked too, and for leakage from training")
    p.add_argument("--model", help="model to be fine-tuned (sets the tokenizer, limits and price); "
                   "default gpt-4o-mini-2024-07-18")
    p.add_argument("--format", default="auto", choices=("auto", "chat", "preference"))
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=check_command)
    p = sub.add_parser("split", help="split a chat JSONL file into train/valid files "
                       "(near-duplicates stay on one side)")
    p.add_argument("file")
    p.add_argument("--valid-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stratify", choices=("label",), help="keep each final-reply label's share")
    p.add_argument("-o", "--out-dir", required=True, help="folder for NAME_train.jsonl and NAME_valid.jsonl")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=split_command)


def _say(text):
    print(text, file=sys.stderr)


def check_command(args):
    from ftlab.chat.validate import validate_chat

    try:
        report = validate_chat(args.file, valid=args.valid, model=args.model, format=args.format)
    except OSError as exc:
        _say(f"ftlab check: cannot read {exc.filename or args.file}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    estimate = None
    if report.example_tokens:
        estimate = report.estimate()
    if args.json:
        out = report.to_dict()
        out["estimate"] = asdict(estimate) if estimate else None
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(repr(report))
        if estimate is not None:
            print("\nIf you trained on the examples that passed:" if report.errors else "\nEstimate:")
            print(estimate)
            for note in estimate.notes:
                print(f"note: {note}")
    read_errors = [p for p in report.problems
                   if p.code in ("invalid_utf8", "invalid_json", "truncated_last_line")]
    if report.n_examples == 0 and read_errors:
        return EXIT_UNREADABLE  # not one line could be read as JSON: probably not a JSONL file
    return EXIT_OK if report.ok else EXIT_ERRORS


def split_command(args):
    from ftlab.chat.files import read_chat_jsonl, split_chat, write_chat_jsonl

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            records = read_chat_jsonl(args.file)
        for w in caught:
            _say(f"warning: {w.message}")
        train, valid = split_chat(records, args.valid_fraction, seed=args.seed, stratify=args.stratify)
    except OSError as exc:
        _say(f"ftlab split: cannot read {args.file}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    except ValueError as exc:
        _say(f"ftlab split: {exc}")
        return EXIT_ERRORS
    stem = Path(args.file).stem
    out = Path(args.out_dir)
    targets = [out / f"{stem}_train.jsonl", out / f"{stem}_valid.jsonl"]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not args.overwrite:
        _say(f"ftlab split: {', '.join(existing)} already exist(s); pass --overwrite to replace")
        return EXIT_ERRORS
    for target, part in zip(targets, (train, valid)):
        write_chat_jsonl(part, target, overwrite=args.overwrite)
        print(f"wrote {target} ({len(part)} examples)")
    return EXIT_OK
