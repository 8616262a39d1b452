"""Writing files safely: all at once, and never over a file nobody said to replace.

Every writer in ftlab (chat JSONL, runs, model weights, solved notebook copies, the tokenizer cache) goes
through ``atomic_write`` or, for several files that belong together, ``write_all``: the content goes
to a temp file with a unique name beside the target, which then takes the target's place in one
step, so a crash, a full disk, Ctrl-C or a second process writing the same path never leaves a
half-written file behind.
"""

import errno
import os
import tempfile
from pathlib import Path


class OutputExists(FileExistsError):
    """A ``FileExistsError`` that reads well in Python; ``.filename`` lets the command line name
    the file with its own flag (``--overwrite``)."""

    def __str__(self):
        return f"{self.filename} already exists; choose another name or pass overwrite=True"


def refuse_existing(path, overwrite):
    """Raise ``FileExistsError`` if ``path`` exists and ``overwrite`` is false; return it as a Path.

    A folder is never a valid target, overwrite or not: ``IsADirectoryError``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if path.exists() and not overwrite:
        raise OutputExists(errno.EEXIST, "already exists", str(path))
    return path


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)  # hard links and symlinks too
    except OSError:  # one of them does not exist yet
        return Path(a).resolve() == Path(b).resolve()


def refuse_clashes(outputs, inputs=()):
    """Raise ``ValueError`` if an output is also an input, or two outputs are one path.

    ``overwrite=True`` never permits either: the first destroys the data being read, the second
    loses one of the outputs.
    """
    outputs = [Path(p) for p in outputs if p is not None]
    for i, out in enumerate(outputs):
        for source in inputs:
            if source is not None and _same_file(out, source):
                raise ValueError(f"{out} is also an input of this command; write to another name")
        for other in outputs[:i]:
            if _same_file(out, other):
                raise ValueError(f"{out} is named for two outputs; give each output its own name")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_temp(path, write, binary=False, newline=None):
    """Write ``write(file)`` to a new temp file beside ``path``; return the temp file's name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(fd, "wb") if binary
              else os.fdopen(fd, "w", encoding="utf-8", newline=newline)) as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; use the usual mode
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _commit(tmp, path, overwrite):
    """Move a finished temp file to ``path``. Without ``overwrite``, a hard link claims the name
    only if it is still free, so a file another process wrote meanwhile is never replaced."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        refuse_existing(path, False)  # raises the usual message
        raise
    except OSError:  # a file system without hard links: check, then rename
        refuse_existing(path, False)
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


def write_all(files, *, overwrite=False, inputs=()):
    """Write several files as a set: every one, or (on any error, Ctrl-C included) none.

    ``files`` lists ``(path, write)`` or ``(path, write, options)``, where ``write(f)`` fills an
    open file and ``options`` are ``binary``/``newline``. All are checked first (no output is an
    input or another output; none exists unless ``overwrite``), then written to temp files, then
    moved into place. Returns the paths.

    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_all([(d / "a.txt", lambda f: f.write("a")), (d / "b.txt", lambda f: 1 / 0)])
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    >>> sorted(p.name for p in d.iterdir())  # a.txt was not left behind, nor any temp file
    []
    """
    paths = [Path(f[0]) for f in files]
    refuse_clashes(paths, inputs)
    for path in paths:
        refuse_existing(path, overwrite)
    temps, done, made, current = [], [], [], None
    try:
        for path, write, *options in files:
            path = current = Path(path)
            made += [d for d in reversed(path.parents) if not d.exists()]
            path.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_write_temp(path, write, **(options[0] if options else {})))
        for path, tmp in zip(paths, temps):
            current = path
            _commit(tmp, path, overwrite)
            done.append(path)
    except BaseException as exc:
        if isinstance(exc, OSError) and current is not None:
            # Name the file being written (a full disk says ENOSPC, not where; a refused temp
            # file has a name the user never gave).
            exc.filename, exc.filename2 = str(current), None
        # Names that were free before are freed again. A file replaced under overwrite=True
        # cannot be restored, but that needs a rename to fail after another one succeeded.
        if not overwrite:
            for path in done:
                path.unlink(missing_ok=True)
        for tmp in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for folder in reversed(made):  # folders made for these files, if still empty
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    return paths


def atomic_write(path, write, *, overwrite=False, binary=False, newline=None):
    """Create ``path`` with ``write(file)``, atomically; return the path.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
    >>> atomic_write(p, lambda f: f.write("hi\\n")).read_text()
    'hi\\n'
    >>> try:
    ...     atomic_write(p, lambda f: f.write("again"))
    ... except FileExistsError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    /.../hello.txt already exists; choose another name or pass overwrite=True
    """
    options = {"binary": binary, "newline": newline}
    return write_all([(path, write, options)], overwrite=overwrite)[0]
