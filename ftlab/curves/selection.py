"""The winner's curse of choosing on a validation set, measured, and its remedy.

The validation loss of the checkpoint (or patience) you chose *because* it was lowest is
optimistic about that model. :func:`split_half_selection` splits the validation examples in two,
chooses on one half and reports both: the half that took no part in the choice gives a fair
figure, and the gap is the optimism. :func:`optimism_summary` averages it over independent runs.
"""

import math

import numpy as np

from ftlab._report import t_quantile
from ftlab.curves.early_stopping import simulate_early_stopping


def lowest(curve):
    """The ``choose`` of :func:`split_half_selection` that keeps the lowest point of the curve."""
    return int(np.argmin(curve))


def by_patience_sweep(patience=range(0, 11), min_delta=0.0, flavor="keras"):
    """A ``choose`` for :func:`split_half_selection` that reads a patience sweep the way people
    do: replay early stopping with each ``patience`` on the curve, take the patience whose kept
    evaluation is lowest (the smallest such patience on a tie), and return that kept evaluation."""
    patience = [int(p) for p in patience]

    def choose(curve):
        best = None
        for p in patience:
            kept = simulate_early_stopping(curve, patience=p, min_delta=min_delta,
                                           flavor=flavor).best_index
            if kept is not None and (best is None or curve[kept] < curve[best]):
                best = kept
        return best

    return choose


def split_half_selection(losses, *, weights=None, choose=lowest, n_splits=100, seed=0):
    """Choose on one half of the validation examples, report both halves: the winner's curse.

    ``losses[k][i]`` is the loss of candidate ``k`` (a checkpoint: one evaluation of a run) on
    validation example ``i``; ``weights[i]`` how much example ``i`` counts (its number of scored
    tokens, as a set's loss is the mean over its tokens; default 1 each). Each of ``n_splits``
    random splits (drawn with ``seed``) cuts the examples into two halves and is used both ways
    round: the *selection* half gives the curve that ``choose`` reads to pick a candidate
    (:func:`lowest`, or :func:`by_patience_sweep`), the *held-out* half plays no part in it.

    Returns a DataFrame, one row per split and direction: ``chosen``, ``selection_loss`` and
    ``heldout_loss`` (each half's loss at the chosen candidate) and ``optimism`` =
    ``heldout_loss - selection_loss``. Because every split is used both ways, the halves are
    exchangeable: for a candidate fixed before looking the mean optimism is exactly 0, so a
    positive mean is what choosing on the selection half adds.

    >>> rng = np.random.default_rng(1)
    >>> same = 1.0 + 0.3 * rng.standard_normal((1, 40)) + 0.1 * rng.standard_normal((20, 40))
    >>> table = split_half_selection(same, n_splits=50)   # 20 candidates, equally good
    >>> bool(table["optimism"].mean() > 0)                 # the lowest-looking one is no better
    True
    >>> fixed = split_half_selection(same, choose=lambda curve: 0, n_splits=50)
    >>> float(round(abs(fixed["optimism"].mean()), 12))
    0.0
    """
    import pandas as pd

    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2 or losses.shape[1] < 2:
        raise ValueError(f"losses must be a 2-D table: one row per candidate, one column per "
                         f"validation example (at least 2), got shape {losses.shape}")
    if not np.isfinite(losses).all():
        raise ValueError("losses must be finite: every candidate needs a loss on every example")
    n = losses.shape[1]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,) or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"weights must be {n} non-negative numbers, one per validation example")
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"n_splits must be a whole number >= 1, got {n_splits!r}")
    rng = np.random.default_rng(seed)
    rows = []
    for split in range(int(n_splits)):
        order = rng.permutation(n)
        half_a, half_b = order[: n // 2], order[n // 2:]
        for select, held in ((half_a, half_b), (half_b, half_a)):
            curve = losses[:, select] @ w[select] / w[select].sum()
            other = losses[:, held] @ w[held] / w[held].sum()
            k = int(choose(curve))
            rows.append({"split": split, "chosen": k, "selection_loss": float(curve[k]),
                         "heldout_loss": float(other[k]),
                         "optimism": float(other[k] - curve[k])})
    return pd.DataFrame(rows)


def optimism_summary(tables):
    """The mean optimism of :func:`split_half_selection` tables, one per independent run (a
    training seed), with a 95 % interval across the runs (Student's t; the splits of one run share
    its examples and are not independent, so the interval counts runs, not splits). Also the
    spread of single splits (5th and 95th percentiles) and the mean loss of each half at the
    chosen candidates.

    >>> import pandas as pd
    >>> t = [pd.DataFrame({"optimism": [0.01, 0.03], "selection_loss": [1.0, 1.0],
    ...                    "heldout_loss": [1.01, 1.03]}),
    ...      pd.DataFrame({"optimism": [0.02, 0.04], "selection_loss": [1.0, 1.0],
    ...                    "heldout_loss": [1.02, 1.04]})]
    >>> s = optimism_summary(t)
    >>> round(s["mean"], 3), s["runs"]
    (0.025, 2)
    """
    tables = [tables] if hasattr(tables, "columns") else list(tables)
    if not tables:
        raise ValueError("optimism_summary needs at least one split_half_selection table")
    per_run = np.array([float(t["optimism"].mean()) for t in tables])
    every = np.concatenate([t["optimism"].to_numpy(dtype=float) for t in tables])
    mean = float(per_run.mean())
    if len(per_run) > 1:
        half_width = t_quantile(0.975, len(per_run) - 1) * float(per_run.std(ddof=1)) / math.sqrt(len(per_run))
        low, high = mean - half_width, mean + half_width
    else:
        low = high = float("nan")  # one run: no spread between runs to build an interval from
    return {"mean": mean, "low": low, "high": high, "runs": len(per_run),
            "per_run": per_run.tolist(),
            "split_p05": float(np.percentile(every, 5)), "split_p95": float(np.percentile(every, 95)),
            "selection_loss": float(np.mean([t["selection_loss"].mean() for t in tables])),
            "heldout_loss": float(np.mean([t["heldout_loss"].mean() for t in tables]))}
