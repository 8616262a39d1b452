"""Handlers of ``ftlab runs`` and ``ftlab run`` (the parsers are registered in ``ftlab.cli``).

``ftlab runs`` lists the shipped recordings. ``ftlab run SOURCE`` reads any run file load_run
understands, prints its summary (and ``--epochs`` its per-epoch table), and can write it in
ftlab's format (``--save``) or OpenAI's results layout (``--to-openai-csv``). Exit status 0 on
success, 2 when the source cannot be read or an output is refused (the reason goes to stderr).
"""

import sys

from ftlab._secrets import redact

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


def _fit(rows, width):
    """Rows of cells (the first is the header) as lines no wider than ``width``: a table whose
    last column (free text) is cut with "…"; on a narrow terminal, one wrapped block per row."""
    import textwrap

    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    room = width - sum(w + 2 for w in widths)
    if room >= 30:
        return [("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  "
                 + (row[-1] if len(row[-1]) <= room else row[-1][:room - 1] + "…")).rstrip()
                for row in rows]
    lines, header = [], rows[0]
    for row in rows[1:]:
        facts = ", ".join(f"{k} {v}" for k, v in zip(header[1:-1], row[1:-1]))
        lines += textwrap.wrap(f"{row[0]}: {facts}", width, subsequent_indent="    ")
        lines += textwrap.wrap(row[-1], width, initial_indent="    ", subsequent_indent="    ")
    return lines


def runs_command(args):
    import shutil

    from ftlab.runs.samples import sample_runs

    columns = ["name", "format", "steps", "validation", "story"]
    table = sample_runs()[columns]
    rows = [columns] + [[str(v) for v in row] for row in table.itertuples(index=False)]
    width = shutil.get_terminal_size().columns - 1  # a full last column wraps in some terminals
    for line in _fit(rows, width):
        print(line)
    return EXIT_OK


def _recognised(run):
    """Which format the file was read as, and from which file (a folder holds several logs)."""
    from ftlab.runs.formats import FORMATS

    where = f" ({run.meta['source_file']})" if run.meta.get("source_file") else ""
    return f"read as {run.format}{where}: {FORMATS.get(run.format, 'a shipped ftlab run')}"


def run_command(args):
    from pathlib import Path

    from ftlab.runs.run import load_run
    from ftlab.runs.samples import load_sample, sample_names

    from ftlab._files import refuse_clashes, refuse_existing

    meta = {"n_epochs": args.n_epochs} if args.n_epochs else None
    outputs = [p for p in (args.save, args.to_openai_csv) if p]
    try:
        refuse_clashes(outputs, [args.source])
        for path in outputs:  # before reading: a refusal must not come after half the work
            refuse_existing(path, args.overwrite)
        if not Path(args.source).exists() and args.source in sample_names():
            run = load_run(load_sample(args.source), meta=meta)
        else:
            run = load_run(Path(args.source), format=args.format, meta=meta)
    except ValueError as err:
        print(redact(f"ftlab run: {err}"), file=sys.stderr)
        return EXIT_UNREADABLE
    print(run)
    print(_recognised(run))
    from ftlab.curves.diagnosis import diagnose

    print(diagnose(run))
    if args.epochs:
        print(run.epochs().round(4).to_string())
    if args.save:
        print(f"wrote {run.save(args.save, overwrite=args.overwrite)}")
    if args.to_openai_csv:
        print(f"wrote {run.to_openai_csv(args.to_openai_csv, overwrite=args.overwrite)}")
    return EXIT_OK
