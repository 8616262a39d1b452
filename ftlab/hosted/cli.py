"""Handlers of ``ftlab jobs`` and ``ftlab fetch`` (the parsers are registered in ``ftlab.cli``).

``ftlab jobs`` lists your recent hosted fine-tuning jobs. ``ftlab fetch JOB_ID`` reads one back
(every event page, the results file, the checkpoints), prints its summary and can save it in
ftlab's run format for the notebooks. Both need a key (see ``ftlab.get_client``). Exit status 0 on
success, 1 when the API refused (the reason goes to stderr), 2 when there is no key.
"""

import sys

EXIT_OK, EXIT_API, EXIT_NO_CLIENT = 0, 1, 2


def add_parsers(sub):
    """Register ``jobs`` and ``fetch`` on an argparse subparsers object."""
    p = sub.add_parser("jobs", help="list your recent OpenAI / Azure OpenAI fine-tuning jobs")
    p.add_argument("--limit", type=int, default=20, help="how many jobs (newest first)")
    p.add_argument("--provider", choices=("auto", "openai", "azure"), default="auto")
    p.set_defaults(func=jobs_command)
    p = sub.add_parser("fetch", help="read a hosted fine-tuning job back as a run (all events, "
                       "results file, checkpoints)")
    p.add_argument("job_id", help="the job's id, ftjob-...")
    p.add_argument("--save", metavar="OUT", help="write the run in ftlab's run format")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--provider", choices=("auto", "openai", "azure"), default="auto")
    p.set_defaults(func=fetch_command)


def _client(args):
    from ftlab.hosted.client import find_client

    client, message = find_client(args.provider)
    if client is None:
        print(f"ftlab {args.command}: {message}", file=sys.stderr)
    return client


def jobs_command(args):
    import pandas as pd

    from ftlab.hosted.client import HostedError
    from ftlab.hosted.fetch import list_jobs

    client = _client(args)
    if client is None:
        return EXIT_NO_CLIENT
    try:
        table = list_jobs(client, limit=args.limit)
    except HostedError as err:
        print(f"ftlab jobs: {err}", file=sys.stderr)
        return EXIT_API
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False) if len(table) else "no fine-tuning jobs")
    return EXIT_OK


def fetch_command(args):
    from ftlab.hosted.client import HostedError
    from ftlab.hosted.fetch import fetch_run

    client = _client(args)
    if client is None:
        return EXIT_NO_CLIENT
    try:
        run = fetch_run(client, args.job_id)
    except HostedError as err:
        print(f"ftlab fetch: {err}", file=sys.stderr)
        return EXIT_API
    print(run)
    if args.save:
        try:
            print(f"saved to {run.save(args.save, overwrite=args.overwrite)}")
        except FileExistsError as err:  # OUT exists and --overwrite was not given
            print(f"ftlab fetch: {err}", file=sys.stderr)
            return EXIT_API
    return EXIT_OK
