"""The real recorded fine-tuning runs that ship with ftlab (``data/runs/``), ready to load offline.

>>> table = sample_runs()
>>> "marv" in set(table["name"])
True
>>> load_sample("marv").meta["missing_steps"]
[2]
"""

import pandas as pd

from ftlab._data import data_dir

SUFFIX = ".csv"


def _runs_dir():
    return data_dir() / "runs"


def sample_names():
    """Names of the shipped runs, sorted."""
    return sorted(p.name[: -len(SUFFIX)] for p in _runs_dir().glob(f"*{SUFFIX}"))


def load_sample(name):
    """Load one shipped recording as a :class:`ftlab.Run` (see :func:`sample_runs` for names)."""
    from ftlab.runs.run import load_run

    path = _runs_dir() / f"{name}{SUFFIX}"
    if not isinstance(name, str) or "/" in name or not path.is_file():
        raise ValueError(f"no shipped run named {name!r}; choose one of "
                         f"{', '.join(sample_names())} (ftlab.sample_runs() describes them)")
    return load_run(path, format="ftlab")


def sample_runs():
    """A table of the shipped recordings: name, source format, steps, whether validation loss was
    recorded, and the one-line story of each run."""
    rows = []
    for name in sample_names():
        run = load_sample(name)
        rows.append({"name": name, "format": run.format, "steps": run.n_steps,
                     "last_step": int(run.steps[-1]), "validation": run.has_validation,
                     "model": run.meta.get("model", ""), "story": run.meta.get("story", "")})
    return pd.DataFrame(rows)
