"""What a replay of a run shows at one step: the losses recorded so far, smoothed, and the best yet.

``curve_at(run, step)`` is the pure part of notebook 03's replay explorer: the widget only draws
what it returns.
"""

import math

from ftlab.curves.smoothing import smooth


def curve_at(run, step, smoothing=0.6):
    """The numbers a replay shows at ``step``: the last training loss recorded at or before it
    (raw and smoothed), the last validation loss, their perplexities, the epoch and the best
    validation loss so far (``None`` where nothing was recorded yet).

    >>> import pandas as pd
    >>> from ftlab.runs.run import Run
    >>> run = Run(pd.DataFrame({"train_loss": [2.0, 1.0, 0.5], "valid_loss": [None, 1.2, None]},
    ...                        index=[1, 2, 3]))
    >>> r = curve_at(run, 3, smoothing=0.0)
    >>> r["train_loss"], r["valid_loss"], r["valid_step"], round(r["valid_perplexity"], 3)
    (0.5, 1.2, 2, 3.32)
    """
    m = run.metrics
    upto = m.loc[:step]
    out = {"step": int(step), "last_step": int(m.index[-1]), "epoch": None,
           "train_loss": None, "train_smoothed": None, "valid_loss": None, "valid_step": None,
           "train_perplexity": None, "valid_perplexity": None, "best_valid": None, "best_step": None}
    if "epoch" in upto and upto["epoch"].notna().any():
        out["epoch"] = float(upto["epoch"].dropna().iloc[-1])
    train = m["train_loss"].dropna()
    n = int(train.index.searchsorted(step, side="right"))
    if n:
        out["train_loss"] = float(train.iloc[n - 1])
        out["train_smoothed"] = float(smooth(train.to_numpy()[:n], smoothing)[-1])
        out["train_perplexity"] = math.exp(out["train_smoothed"])
    valid = upto["valid_loss"].dropna()
    if len(valid):
        out["valid_loss"], out["valid_step"] = float(valid.iloc[-1]), int(valid.index[-1])
        out["valid_perplexity"] = math.exp(out["valid_loss"])
        out["best_step"] = int(valid.idxmin())
        out["best_valid"] = float(valid.min())
    return out
