"""Handlers of ``ftlab info`` and ``ftlab solutions`` (registered by ``ftlab.cli``).

``ftlab info`` prints the version and where the shipped data is. ``ftlab solutions OUT_DIR``
writes solved copies of the notebooks (every exercise answered with its worked solution) into a
folder, for instructors; exit status 2 when the folder or a notebook is unusable (the reason goes
to stderr).
"""

import sys

from ftlab._secrets import redact


def add_parsers(sub):
    """Register ``info`` and ``solutions`` on an argparse subparsers object."""
    sub.add_parser("info", help="show the version and where the shipped data is").set_defaults(
        func=info_command)
    copies = sub.add_parser("solutions", help="write solved copies of the notebooks (every "
                            "exercise answered, for instructors) into a folder")
    copies.set_defaults(func=solutions_command)
    copies.add_argument("out_dir", help="folder for the copies (the originals are never touched)")
    copies.add_argument("notebooks", nargs="*",
                        help="notebooks to convert (default: the whole course)")
    copies.add_argument("--overwrite", action="store_true", help="replace copies already in OUT_DIR")


def info_command(args):
    from ftlab import __version__
    from ftlab._data import data_dir

    print(f"ftlab {__version__}")
    print(f"data: {data_dir()}")
    return 0


def solutions_command(args):
    from ftlab.course.copies import course_notebooks, write_solved_copies

    try:
        written = write_solved_copies(args.notebooks or course_notebooks(), args.out_dir,
                                       overwrite=args.overwrite)
    except ValueError as err:  # an unusable folder or notebook; what else fails ftlab.cli reports
        print(redact(f"ftlab solutions: {err}"), file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0
