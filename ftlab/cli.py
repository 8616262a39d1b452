"""The ``ftlab`` command. Each subcommand is a small function registered in ``COMMANDS``."""

import argparse
import sys


def _info(args):
    import ftlab
    from ftlab._data import data_dir

    print(f"ftlab {ftlab.__version__}")
    print(f"data: {data_dir()}")
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(prog="ftlab", description="A fine-tuning lab for learners.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="show the version and where the shipped data is")
    p.set_defaults(func=_info)
    return parser


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        import ftlab

        print(ftlab.__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
