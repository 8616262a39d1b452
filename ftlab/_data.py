"""Where the shipped data lives: ``data/`` in a checkout, ``ftlab/data/`` in an installed wheel."""

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_dir() -> Path:
    """Return the folder holding ``runs/``, ``chat/`` and ``models/``.

    >>> (data_dir() / "runs").is_dir()
    True
    """
    for candidate in (_HERE.parent / "data", _HERE / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"ftlab's data folder is missing (looked in {_HERE.parent / 'data'} and {_HERE / 'data'}); "
        "reinstall ftlab with `pip install -e .` from a full checkout."
    )
