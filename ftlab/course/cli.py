"""Handlers of ``ftlab info`` and ``ftlab student-copies`` (registered by ``ftlab.cli``).

``ftlab info`` prints the version and where the shipped data is. ``ftlab student-copies OUT_DIR``
writes exercise copies of the notebooks (solutions and outputs removed) into a folder; exit status
2 when the folder or a notebook is unusable (the reason goes to stderr).
"""

import sys

from ftlab._secrets import redact


def add_parsers(sub):
    """Register ``info`` and ``student-copies`` on an argparse subparsers object."""
    sub.add_parser("info", help="show the version and where the shipped data is").set_defaults(
        func=info_command)
    copies = sub.add_parser("student-copies", help="write exercise copies of the notebooks "
                            "(solutions and outputs removed) into a folder")
    copies.set_defaults(func=student_copies_command)
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


def student_copies_command(args):
    from ftlab.course.copies import course_notebooks, write_student_copies

    try:
        written = write_student_copies(args.notebooks or course_notebooks(), args.out_dir,
                                       overwrite=args.overwrite)
    except ValueError as err:  # an unusable folder or notebook; what else fails ftlab.cli reports
        print(redact(f"ftlab student-copies: {err}"), file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0
