"""``ftlab augment IN.jsonl -o OUT.jsonl --ops synonym,typo --n 2 --seed 0``.

Writes OUT.jsonl (the originals, then the variants) and OUT.provenance.csv (where each variant
came from), both or neither. Never overwrites a file unless ``--overwrite``, and never an input
(nor one output with another) at all. Exit status 2 for a refused path or a bad option.
"""

import sys
from pathlib import Path

from ftlab._secrets import redact


def add_parsers(sub):
    """Register the ``augment`` subcommand on an argparse sub-parsers object."""
    from ftlab.chat.cli import checked

    p = sub.add_parser("augment", help="augment the user turns of a chat JSONL file",
                       description="Augment the user turns of a chat JSONL file (assistant turns "
                       "stay exactly as they are). Writes OUT and OUT's .provenance.csv sidecar.")
    p.add_argument("input", help="chat JSONL file to augment (training data)")
    p.add_argument("-o", "--output", required=True, help="where to write the augmented JSONL")
    p.add_argument("--ops", default="synonym",
                   help="comma-separated operations applied to each variant, in order: synonym, "
                   "insert, swap, delete, typo, char, case, punct, space, paraphrase (default: synonym)")
    p.add_argument("--n", type=checked(int, lambda n: n >= 1, "a whole number of at least 1"),
                   default=1, help="variants per example (default 1)")
    p.add_argument("--rate", type=checked(float, lambda x: 0 <= x <= 1, "between 0 and 1"),
                   default=0.1, help="strength α, 0..1 (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--roles", default="user", help="roles whose text may change (default: user)")
    p.add_argument("--valid", help="validation JSONL: its examples are never augmented into training")
    p.add_argument("--lexicon", default="auto", choices=["auto", "wordnet", "builtin"],
                   help="synonym source (default: WordNet if nltk has it, else ftlab's lexicon)")
    p.add_argument("--provenance", help="provenance CSV path (default: OUT with .provenance.csv)")
    p.add_argument("--paraphrase-model", help="chat model for 'paraphrase' (default: offline rules)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint for --paraphrase-model")
    p.add_argument("--cache", default="paraphrase_cache.jsonl",
                   help="paraphrase cache file (default paraphrase_cache.jsonl)")
    p.add_argument("--dry-run", action="store_true",
                   help="with --paraphrase-model: show prompts and token counts, send nothing")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=main)
    return p


def _fail(message):
    print(redact(f"ftlab augment: error: {message}"), file=sys.stderr)
    return 2


def _refusal(src, out, side, args):
    """Why these paths cannot be used (a missing input, an output over an input or over the
    other output, an existing output without --overwrite), or None. Checked before any work."""
    from ftlab._files import refuse_clashes, refuse_existing

    if not src.is_file():
        return f"{src} is a folder; give the chat JSONL file" if src.is_dir() else \
            f"{src} does not exist (or is not a file); check the path"
    outputs = [out, side] + ([Path(args.cache)] if args.paraphrase_model else [])
    try:
        refuse_clashes(outputs, [src, args.valid])
        for path in (out, side):
            refuse_existing(path, args.overwrite)
    except ValueError as exc:
        if out.resolve() == src.resolve():
            return f"the output {out} is the input file; write the augmented data elsewhere"
        return f"{exc} (see --output, --provenance and --cache)"
    return None


def main(args):
    from ftlab.augment.chat import augment_chat
    from ftlab.chat.files import read_chat_jsonl

    src, out = Path(args.input), Path(args.output)
    side = Path(args.provenance) if args.provenance else out.with_suffix(".provenance.csv")
    refusal = _refusal(src, out, side, args)
    if refusal:
        return _fail(refusal)
    paraphraser = None
    if args.paraphrase_model:
        from ftlab.augment.llm import ChatParaphraser

        paraphraser = ChatParaphraser(args.paraphrase_model, base_url=args.base_url, cache=args.cache)
    records = read_chat_jsonl(src)
    if args.dry_run:
        if paraphraser is None:
            return _fail("--dry-run shows the prompts for --paraphrase-model; none was given")
        plan = paraphraser.dry_run(records)
        print(plan.to_string(max_colwidth=60))
        print(f"{len(plan)} prompts, {plan.attrs['to_send']} not cached; "
              f"{int(plan.prompt_tokens.sum())} prompt tokens, ~{int(plan.est_reply_tokens.sum())} "
              "reply tokens (estimated). Nothing was sent.")
        return 0
    try:
        valid = read_chat_jsonl(args.valid) if args.valid else None
        result = augment_chat(records, args.ops, n_per_example=args.n, seed=args.seed, rate=args.rate,
                              roles=tuple(r.strip() for r in args.roles.split(",") if r.strip()),
                              valid=valid, lexicon=args.lexicon, paraphraser=paraphraser,
                              progress=sys.stderr.isatty())  # a bar in a terminal, not in a log
    except ValueError as exc:
        return _fail(str(exc))
    except RuntimeError as exc:  # the paraphrase model's endpoint failed (ParaphraseError)
        print(redact(f"ftlab augment: {exc}"), file=sys.stderr)
        return 1
    result.write(out, provenance_path=side, overwrite=args.overwrite)  # both files, or neither
    print(f"{result.summary()}\nwrote {out} and {side}")
    return 0
