"""``ftlab augment IN.jsonl -o OUT.jsonl --ops synonym,typo --n 2 --seed 0``.

Writes OUT.jsonl (the originals, then the variants) and OUT.provenance.csv (where each variant
came from). Never overwrites a file unless ``--overwrite``, and never the input file at all.
"""

import sys
from pathlib import Path


def add_parsers(sub):
    """Register the ``augment`` subcommand on an argparse sub-parsers object."""
    p = sub.add_parser("augment", help="augment the user turns of a chat JSONL file",
                       description="Augment the user turns of a chat JSONL file (assistant turns "
                       "stay exactly as they are). Writes OUT and OUT's .provenance.csv sidecar.")
    p.add_argument("input", help="chat JSONL file to augment (training data)")
    p.add_argument("-o", "--output", required=True, help="where to write the augmented JSONL")
    p.add_argument("--ops", default="synonym",
                   help="comma-separated operations applied to each variant, in order: synonym, "
                   "insert, swap, delete, typo, char, case, punct, space, paraphrase (default: synonym)")
    p.add_argument("--n", type=int, default=1, help="variants per example (default 1)")
    p.add_argument("--rate", type=float, default=0.1, help="strength α, 0..1 (default 0.1)")
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
    print(f"ftlab augment: error: {message}", file=sys.stderr)
    return 2


def main(args):
    from ftlab.augment.chat import augment_chat
    from ftlab.chat.files import read_chat_jsonl

    src, out = Path(args.input), Path(args.output)
    side = Path(args.provenance) if args.provenance else out.with_suffix(".provenance.csv")
    if not src.is_file():
        return _fail(f"{src} does not exist (or is not a file)")
    if out.resolve() == src.resolve():
        return _fail(f"the output {out} is the input file; write the augmented data elsewhere")
    for p in (out, side):
        if p.exists() and not args.overwrite:
            return _fail(f"{p} already exists; choose another name or pass --overwrite")
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
                              progress=True)
        result.write(out, provenance_path=side, overwrite=args.overwrite)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        return _fail(str(exc))
    print(f"{result.summary()}\nwrote {out} and {side}")
    return 0
