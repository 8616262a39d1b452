"""Handlers of ``ftlab jobs`` and ``ftlab fetch`` (the parsers are registered in ``ftlab.cli``).

``ftlab jobs`` lists your recent hosted fine-tuning jobs. ``ftlab fetch JOB_ID`` reads one back
(every event page, the results file, the checkpoints), prints its summary and can save it in
ftlab's run format for the notebooks. Both need a key (see ``ftlab.get_client``). Every problem is
one line on stderr naming the fix, never a traceback and never a key. Exit status: 0 on success,
1 when the API refused or failed, 2 for a usage error (no key, not a job id, a bad --limit), 130
for Ctrl-C.
"""

import re
import sys
import warnings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
JOB_ID = re.compile(r"ftjob-[A-Za-z0-9_-]+")
PROVIDERS = ("auto", "openai", "azure")
PROVIDER_HELP = "OpenAI or Azure OpenAI (default auto: OpenAI when OPENAI_API_KEY is set, else Azure)"


def add_parsers(sub):
    """Register ``jobs`` and ``fetch`` on an argparse subparsers object."""
    p = sub.add_parser("jobs", help="list your recent OpenAI / Azure OpenAI fine-tuning jobs")
    p.add_argument("--limit", type=int, default=20, help="how many jobs (newest first)")
    p.add_argument("--provider", choices=PROVIDERS, default="auto", help=PROVIDER_HELP)
    p.set_defaults(func=jobs_command)
    p = sub.add_parser("fetch", help="read a hosted fine-tuning job back as a run (all events, "
                       "results file, checkpoints)")
    p.add_argument("job_id", help="the job's id, ftjob-...")
    p.add_argument("--save", metavar="OUT", help="write the run in ftlab's run format")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--provider", choices=PROVIDERS, default="auto", help=PROVIDER_HELP)
    p.set_defaults(func=fetch_command)


def _say(command, text):
    """One line on stderr, every known key redacted: server text can quote the key it was sent."""
    from ftlab._secrets import redact

    print(f"ftlab {command}: " + " ".join(redact(text).split()), file=sys.stderr)


def _guarded(command):
    """Run ``command(args)`` so that the API refusing or failing (HostedError) is one line on
    stderr and exit 1. Ctrl-C, file errors and bugs are ftlab.cli's central handler's."""
    def run(args):
        from ftlab.hosted.client import HostedError

        try:
            return command(args)
        except HostedError as err:
            _say(args.command, str(err))
            return EXIT_FAILED
    run.__doc__ = command.__doc__
    return run


def _client(args):
    from ftlab.hosted.client import find_client

    client, message = find_client(args.provider)
    if client is None:
        _say(args.command, message)
    return client


@_guarded
def jobs_command(args):
    """``ftlab jobs``: the recent jobs as a table."""
    import pandas as pd

    from ftlab.hosted.fetch import list_jobs

    if args.limit < 1:
        _say("jobs", f"--limit must be 1 or more, got {args.limit}")
        return EXIT_USAGE
    client = _client(args)
    if client is None:
        return EXIT_USAGE
    table = list_jobs(client, limit=args.limit)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False) if len(table) else "no fine-tuning jobs")
    return EXIT_OK


@_guarded
def fetch_command(args):
    """``ftlab fetch JOB_ID``: the job read back, its notes on stderr, optionally saved."""
    from ftlab.hosted.fetch import fetch_run

    if not JOB_ID.fullmatch(args.job_id):
        _say("fetch", f"{args.job_id!r} is not a job id: they look like ftjob-abc123 (`ftlab jobs` "
             "lists yours)")
        return EXIT_USAGE
    client = _client(args)
    if client is None:
        return EXIT_USAGE
    with warnings.catch_warnings():  # the same facts arrive as meta["notes"], printed below
        warnings.simplefilter("ignore")
        run = fetch_run(client, args.job_id)
    print(run)
    for note in run.meta.get("notes", []):
        _say("fetch", f"note: {note}")
    if args.save:
        try:
            print(f"saved to {run.save(args.save, overwrite=args.overwrite)}")
        except FileExistsError as err:  # OUT exists and --overwrite was not given
            _say("fetch", str(err))
            return EXIT_FAILED
    return EXIT_OK
