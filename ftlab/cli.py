"""The ``ftlab`` command: one small handler per subcommand; the work is done in the modules."""

import argparse
import os
import sys


def _info(args):
    import ftlab
    from ftlab._data import data_dir

    print(f"ftlab {ftlab.__version__}")
    print(f"data: {data_dir()}")
    return 0


def _student_copies(args):
    from ftlab.student import course_notebooks, write_student_copies

    try:
        written = write_student_copies(args.notebooks or course_notebooks(), args.out_dir,
                                       overwrite=args.overwrite)
    except (ValueError, FileExistsError, FileNotFoundError) as err:
        print(f"ftlab student-copies: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(prog="ftlab", description="A fine-tuning lab for learners.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="show the version and where the shipped data is")
    p.set_defaults(func=_info)
    p = sub.add_parser("student-copies", help="write exercise copies of the notebooks "
                       "(solutions and outputs removed) into a folder")
    p.add_argument("out_dir", help="folder for the copies (the originals are never touched)")
    p.add_argument("notebooks", nargs="*", help="notebooks to convert (default: the whole course)")
    p.add_argument("--overwrite", action="store_true", help="replace copies already in OUT_DIR")
    p.set_defaults(func=_student_copies)
    from ftlab.chat_cli import add_parsers as add_chat_parsers  # check, split

    add_chat_parsers(sub)
    from ftlab.tinylm_cli import add_parsers as add_tinylm_parsers  # finetune

    add_tinylm_parsers(sub)
    from ftlab.augment_cli import add_parser as add_augment_parser  # augment

    add_augment_parser(sub)
    from ftlab.run_cli import add_parsers as add_run_parsers  # runs, run

    add_run_parsers(sub)
    from ftlab.hosted_cli import add_parsers as add_hosted_parsers  # jobs, fetch

    add_hosted_parsers(sub)
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
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
