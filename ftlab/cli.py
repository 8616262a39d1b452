"""The ``ftlab`` command. Each wing defines its own subcommands in its ``cli.py``; this file only
puts them together, in the order of the course, and turns what goes wrong into one line for a
person: exit status 2 for a usage mistake, 1 for a failure, 130 for Ctrl-C, never a traceback
(set ``FTLAB_DEBUG=1`` to see one).
"""

import argparse
import errno
import os
import sys
import warnings

from ftlab._secrets import redact

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

# What to do about the OSErrors people meet every day.
_FIXES = {
    errno.ENOSPC: "free some disk space or write somewhere else",
    errno.EACCES: "check the permissions, or write somewhere else",
    errno.EPERM: "check the permissions, or write somewhere else",
    errno.EROFS: "that file system is read-only; write somewhere else",
    errno.EISDIR: "name a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "check the path",
}
_WRONG_PATH = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (and where to read more), not the usage block."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build_parser():
    parser = _Parser(prog="ftlab", description="A fine-tuning lab for learners.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from ftlab.augment import cli as augment_cli
    from ftlab.chat import cli as chat_cli
    from ftlab.course import cli as course_cli
    from ftlab.hosted import cli as hosted_cli
    from ftlab.runs import cli as runs_cli
    from ftlab.tinylm import cli as tinylm_cli

    # info, solutions; check, split; finetune; augment; runs, run; jobs, fetch
    for wing in (course_cli, chat_cli, tinylm_cli, augment_cli, runs_cli, hosted_cli):
        wing.add_parsers(sub)
    for choice in sub._choices_actions:  # `ftlab X --help` opens with the line `ftlab` lists
        command = sub.choices[choice.dest]
        command.description = command.description or choice.help
    return parser


def _tolerate_any_terminal():
    # An ASCII or cp1252 terminal cannot print "—" or "…": show an escape instead of crashing.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _say(command, message):
    print(redact(f"ftlab {command}: {message}" if command else f"ftlab: {message}"), file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(redact(f"warning: {message}"), file=sys.stderr)


def _os_error(exc):
    """One line for an OSError: the file, what happened, and what to do."""
    if exc.strerror is None:  # raised by ftlab with its own message, which names the file
        return str(exc)
    fix = _FIXES.get(exc.errno)
    return f"{exc.filename or '?'}: {exc.strerror}" + (f"; {fix}" if fix else "")


def _run(args):
    """Run a subcommand; what escapes its handler becomes one line and an exit status."""
    command = args.command
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _say(command, "interrupted; files are written whole or not at all")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except FileExistsError as exc:
        _say(command, f"{exc.filename or exc} exists; pass --overwrite or choose another name")
        return EXIT_USAGE
    except OSError as exc:
        _say(command, _os_error(exc))
        # A path that names nothing, or a folder where a file belongs, is a mistake in the
        # command (as `ftlab check` has always said); a full disk or a locked file is a failure.
        return EXIT_USAGE if isinstance(exc, _WRONG_PATH) else EXIT_FAILED
    except Exception as exc:  # a bug, or a mistake no handler foresaw: still one line
        if os.environ.get("FTLAB_DEBUG"):
            import traceback

            print(redact(traceback.format_exc()), file=sys.stderr, end="")
        _say(command, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
             "(set FTLAB_DEBUG=1 to see where)")
        return EXIT_FAILED


def main(argv=None):
    _tolerate_any_terminal()
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a mistake argparse reported: a caller gets the status
        return exc.code
    except KeyboardInterrupt:
        _say(None, "interrupted")
        return EXIT_INTERRUPTED
    if args.version:
        from ftlab import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        _say(None, "which command? For example `ftlab check train.jsonl`; the commands are:")
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with warnings.catch_warnings():  # a warning is one line too, not file:line: UserWarning: ...
        warnings.showwarning = _show_warning
        return _run(args)


if __name__ == "__main__":
    sys.exit(main())
