"""The ``ftlab`` command. Each wing defines its own subcommands in its ``cli.py``; this file only
puts them together, in the order of the course."""

import argparse
import os
import sys


def _build_parser():
    parser = argparse.ArgumentParser(prog="ftlab", description="A fine-tuning lab for learners.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from ftlab.augment import cli as augment_cli
    from ftlab.chat import cli as chat_cli
    from ftlab.course import cli as course_cli
    from ftlab.hosted import cli as hosted_cli
    from ftlab.runs import cli as runs_cli
    from ftlab.tinylm import cli as tinylm_cli

    # info, student-copies; check, split; finetune; augment; runs, run; jobs, fetch
    for wing in (course_cli, chat_cli, tinylm_cli, augment_cli, runs_cli, hosted_cli):
        wing.add_parsers(sub)
    return parser


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from ftlab import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
