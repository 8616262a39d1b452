"""Writing files safely: all at once, and never over a file nobody said to replace.

Every writer in ftlab (chat JSONL, runs, model weights, student copies, the tokenizer cache) goes
through ``atomic_write``: the content goes to a temp file beside the target, which then replaces
the target in one step, so a crash or a bad record never leaves a half-written file behind.
"""

import os
import tempfile
from pathlib import Path


def refuse_existing(path, overwrite):
    """Raise ``FileExistsError`` if ``path`` exists and ``overwrite`` is false; return it as a Path."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another name or pass overwrite=True")
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write, *, overwrite=False, binary=False, newline=None):
    """Create ``path`` with ``write(file)``, atomically; return the path.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
    >>> atomic_write(p, lambda f: f.write("hi\\n")).read_text()
    'hi\\n'
    >>> atomic_write(p, lambda f: f.write("again"))
    Traceback (most recent call last):
    ...
    FileExistsError: ... already exists; choose another name or pass overwrite=True
    """
    path = refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(fd, "wb") if binary
              else os.fdopen(fd, "w", encoding="utf-8", newline=newline)) as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
