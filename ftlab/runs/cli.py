"""Handlers of ``ftlab runs`` and ``ftlab run`` (the parsers are registered in ``ftlab.cli``).

``ftlab runs`` lists the shipped recordings. ``ftlab run SOURCE`` reads any run file load_run
understands, prints its summary (and ``--epochs`` its per-epoch table), and can write it in
ftlab's format (``--save``) or OpenAI's results layout (``--to-openai-csv``). Exit status 0 on
success, 2 when the source cannot be read (the reason goes to stderr).
"""

import sys

EXIT_OK, EXIT_UNREADABLE = 0, 2


def add_parsers(sub):
    """Register ``runs`` and ``run`` on an argparse subparsers object."""
    p = sub.add_parser("runs", help="list the real recorded runs shipped with ftlab")
    p.set_defaults(func=runs_command)
    p = sub.add_parser("run", help="read a fine-tuning log (results CSV, events, printed log, "
                       "trainer_state.json, ...) and summarise or convert it")
    p.add_argument("source", help="a run file, or the name of a shipped run (see `ftlab runs`)")
    p.add_argument("--format", help="skip recognising the format (see ftlab.runs.formats.FORMATS)")
    p.add_argument("--n-epochs", type=int,
                   help="epochs the job trained (to number each step's epoch)")
    p.add_argument("--epochs", action="store_true", help="print the per-epoch summary table")
    p.add_argument("--save", metavar="OUT", help="write the run in ftlab's run format")
    p.add_argument("--to-openai-csv", metavar="OUT", help="write OpenAI's results CSV layout")
    p.add_argument("--overwrite", action="store_true", help="replace OUT files that exist")
    p.set_defaults(func=run_command)


def runs_command(args):
    import pandas as pd

    from ftlab.runs.samples import sample_runs

    with pd.option_context("display.max_colwidth", 90, "display.width", 200):
        table = sample_runs()[["name", "format", "steps", "validation", "story"]]
        print(table.to_string(index=False))
    return EXIT_OK


def run_command(args):
    from pathlib import Path

    from ftlab.runs.run import load_run
    from ftlab.runs.samples import load_sample, sample_names

    meta = {"n_epochs": args.n_epochs} if args.n_epochs else None
    try:
        if not Path(args.source).exists() and args.source in sample_names():
            run = load_run(load_sample(args.source), meta=meta)
        else:
            run = load_run(Path(args.source), format=args.format, meta=meta)
        print(run)
        if args.epochs:
            print(run.epochs().round(4).to_string())
        if args.save:
            print(f"wrote {run.save(args.save, overwrite=args.overwrite)}")
        if args.to_openai_csv:
            print(f"wrote {run.to_openai_csv(args.to_openai_csv, overwrite=args.overwrite)}")
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"ftlab run: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK
