"""Reading loss curves: a diagnosis with its evidence.

``diagnose`` reads a run's training and validation losses and names what they show (overfitting,
still improving, ...), with the numbers that support the verdict and what to do about it.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ftlab.curves.smoothing import smooth

# Thresholds of ``diagnose``, in the order its rules are tried (each test is on plain numbers a
# learner can recompute from the evidence it prints).
MIN_VALID_POINTS = 3   # fewer validation points than this: no curve to read -> "no-validation"
TRAIN_RISE = 0.10      # training loss at the end > 110 % of its start -> "unstable"
OVERFIT_RISE = 0.10    # validation at the end > 110 % of its best, training still falling -> "overfitting"
VALID_NOISE = 0.10     # validation jumps by > 10 % of its level between evaluations, and
VALID_ROUGH = 1.0      # its jumps outweigh its trend (roughness > 1)               -> "unstable"
UNDERFIT_DROP = 0.10   # training loss fell by less than 10 % of its start -> "underfitting"
STILL_IMPROVING = 0.10  # validation fell by > 10 % of its total fall during the last third -> "still-improving"
# otherwise -> "converged"

VERDICTS = ("no-validation", "unstable", "overfitting", "underfitting", "still-improving", "converged")

ADVICE = {
    "no-validation": (
        "There is no validation curve, so you cannot see overfitting: the training loss keeps "
        "falling even while the model memorises. Hold out 10-20 % of your examples as a validation "
        "file and train again; until then, compare the saved checkpoints on prompts of your own."),
    "unstable": (
        "The curves are erratic: the training loss is not going down (or turned non-finite), or the "
        "validation loss jumps from one evaluation to the next. Lower the learning rate multiplier, "
        "use a larger batch and a larger validation file, and check the data for broken or "
        "contradictory examples."),
    "overfitting": (
        "The model is memorising the training set: validation loss rose after step {best_step} "
        "while training loss kept falling. Train fewer epochs or use early stopping (keep the "
        "checkpoint nearest step {best_step}), add more and more diverse data, or lower the "
        "learning rate."),
    "underfitting": (
        "The training loss barely moved: the model has not learned the task yet. Train more epochs, "
        "raise the learning rate multiplier, and check that the examples teach one consistent pattern."),
    "still-improving": (
        "Validation loss was still falling at the end: more epochs (or more data) should help. Watch "
        "the validation curve of the longer run for the point where it turns up."),
    "converged": (
        "Both curves have flattened: more epochs will not help much. To go further, improve the "
        "data (quality, diversity, more examples) rather than training longer."),
}


@dataclass
class Diagnosis:
    """What ``diagnose`` found: a ``verdict``, the ``evidence`` behind it and ``advice``.

    Losses are in nats; slopes are loss change per 1000 steps over the last third of the run;
    ``noise`` is the spread of training loss around its smoothed curve (weight 0.9), relative to its
    final level. ``valid_noise`` estimates the validation loss's evaluation-to-evaluation noise
    from second differences (std(Δ²)/√6, which a straight trend does not affect), relative to its
    median; ``valid_roughness`` is Σ|Δ²| / Σ|Δ|: below 1 for a smooth curve (even a bent one),
    about 1.6 for pure noise.
    """

    verdict: str
    advice: str
    best_valid_step: float | None = None
    best_valid_loss: float | None = None
    rise_step: float | None = None
    final_valid_loss: float | None = None
    final_train_loss: float | None = None
    gap: float | None = None
    train_slope: float | None = None
    valid_slope: float | None = None
    noise: float | None = None
    valid_noise: float | None = None
    valid_roughness: float | None = None
    n_valid: int = 0
    reasons: list = field(default_factory=list)

    @property
    def evidence(self):
        """The numbers behind the verdict, as a dict."""
        keys = ("best_valid_step", "best_valid_loss", "rise_step", "final_valid_loss",
                "final_train_loss", "gap", "train_slope", "valid_slope", "noise", "valid_noise", "valid_roughness", "n_valid")
        return {k: getattr(self, k) for k in keys}

    def __str__(self):
        lines = [f"verdict: {self.verdict}"]
        lines += [f"  {k}: {_fmt(v)}" for k, v in self.evidence.items() if v is not None]
        lines += [f"  why: {r}" for r in self.reasons]
        lines.append(f"advice: {self.advice}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{k}</td><td>{_fmt(v)}</td></tr>"
                       for k, v in self.evidence.items() if v is not None)
        why = "".join(f"<li>{r}</li>" for r in self.reasons)
        return (f"<div><b>verdict: {self.verdict}</b><ul>{why}</ul>"
                f"<table>{rows}</table><p>{self.advice}</p></div>")


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _ends(y, frac=0.1):
    """Mean of the first and of the last 10 % of the finite points (robust to noisy steps)."""
    y = y[np.isfinite(y)]
    k = max(1, int(len(y) * frac))
    return float(y[:k].mean()), float(y[-k:].mean())


def _slope_per_1000(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    tail = x >= x[0] + (x[-1] - x[0]) * 2 / 3
    if tail.sum() < 2:
        tail = np.arange(len(x)) >= len(x) - 2
    return float(np.polyfit(x[tail], y[tail], 1)[0] * 1000)


def diagnose(run):
    """Diagnose a :class:`ftlab.Run` from its training and validation losses.

    Returns a :class:`Diagnosis`: ``verdict`` is one of ``VERDICTS``, tried in this order --
    ``"no-validation"`` (fewer than ``MIN_VALID_POINTS`` validation losses), ``"unstable"``
    (training loss non-finite or ending more than ``TRAIN_RISE`` above its start),
    ``"overfitting"`` (validation ends more than ``OVERFIT_RISE`` above its best while training
    loss fell after the best step), ``"unstable"`` (validation noise above ``VALID_NOISE`` with
    roughness above ``VALID_ROUGH``), ``"underfitting"`` (training loss fell less than
    ``UNDERFIT_DROP``), ``"still-improving"`` (validation fell more than ``STILL_IMPROVING`` of its
    total fall during the last third of the run), else ``"converged"``. "Start" and "end" of the
    training loss are the means of its first and last 10 % of points; the final validation loss is
    the median of the last three evaluations.
    """
    m = run.metrics
    return diagnose_curves(m.index.to_numpy(), m["train_loss"].to_numpy(dtype=float),
                           m["valid_loss"].to_numpy(dtype=float), name=run.name)


def diagnose_curves(steps, train_loss, valid_loss=None, *, name="the run"):
    """Diagnose plain arrays: ``steps`` and the losses recorded there (NaN where not recorded).

    >>> steps = np.arange(1, 301)
    >>> train = 2.0 * np.exp(-steps / 60) + 0.2
    >>> valid = np.where(steps % 50 == 0, 2.0 * np.exp(-steps / 60) + 0.3, np.nan)
    >>> diagnose_curves(steps, train, valid).verdict
    'converged'
    """
    x = np.asarray(steps, dtype=float)
    tr = np.asarray(train_loss, dtype=float)
    va = np.full_like(x, np.nan) if valid_loss is None else np.asarray(valid_loss, dtype=float)
    if not (x.shape == tr.shape == va.shape) or x.ndim != 1:
        raise ValueError(f"steps, train_loss and valid_loss must be 1-D and the same length, "
                         f"got {x.shape}, {tr.shape}, {va.shape}")
    recorded_train = tr[~np.isnan(tr)]
    if recorded_train.size == 0:
        raise ValueError(f"{name} has no training loss to diagnose: every train_loss value is "
                         "missing (load a file that has a training-loss column)")
    d = Diagnosis(verdict="", advice="")
    train_start, train_end = _ends(tr)
    d.final_train_loss = train_end
    d.train_slope = _slope_per_1000(x, tr)
    if np.isfinite(tr).sum() >= 2:
        finite = np.isfinite(tr)
        trend = smooth(tr[finite], 0.9)
        d.noise = float(np.std(tr[finite] - trend) / max(abs(train_end), 1e-12))
    vmask = np.isfinite(va)
    d.n_valid = int(vmask.sum())
    if d.n_valid:
        vx, vy = x[vmask], va[vmask]
        best = int(np.argmin(vy))
        d.best_valid_step, d.best_valid_loss = float(vx[best]), float(vy[best])
        d.final_valid_loss = float(np.median(vy[-min(3, len(vy)):]))  # one lucky point is not the end
        d.gap = d.final_valid_loss - train_end
        d.valid_slope = _slope_per_1000(vx, vy)
        if len(vy) >= 4:
            d1, d2 = np.diff(vy), np.diff(vy, 2)
            level = max(abs(float(np.median(vy))), 1e-12)
            d.valid_noise = float(np.std(d2) / math.sqrt(6) / level)
            d.valid_roughness = float(np.abs(d2).sum() / max(np.abs(d1).sum(), 1e-12))
        if best < len(vy) - 1:
            d.rise_step = float(vx[best + 1])
    d.verdict = _verdict(d, x, tr, va, train_start, train_end, bool(np.isinf(recorded_train).any()))
    d.advice = ADVICE[d.verdict].format(best_step=_fmt_step(d.best_valid_step))
    return d


def _fmt_step(step):
    return "?" if step is None else f"{step:.0f}"


def _verdict(d, x, tr, va, train_start, train_end, nonfinite):
    """Try the rules in the documented order; record why in ``d.reasons``."""
    say = d.reasons.append
    if d.n_valid < MIN_VALID_POINTS:
        say(f"only {d.n_valid} validation point(s); at least {MIN_VALID_POINTS} are needed to see a trend")
        return "no-validation"
    if nonfinite:
        say("the training loss became infinite")
        return "unstable"
    if train_end > train_start * (1 + TRAIN_RISE):
        say(f"training loss rose from {train_start:.3f} to {train_end:.3f} "
            f"(more than {TRAIN_RISE:.0%})")
        return "unstable"
    vx, vy = x[np.isfinite(va)], va[np.isfinite(va)]
    rise = d.final_valid_loss - d.best_valid_loss
    if d.rise_step is not None and rise > OVERFIT_RISE * abs(d.best_valid_loss):
        train_at_best = _train_near(x, tr, d.best_valid_step)
        if train_end < train_at_best:
            say(f"validation loss was best at step {d.best_valid_step:.0f} ({d.best_valid_loss:.3f}) "
                f"and ended at {d.final_valid_loss:.3f}, {rise / abs(d.best_valid_loss):.0%} higher")
            say(f"meanwhile training loss fell from {train_at_best:.3f} to {train_end:.3f}")
            return "overfitting"
    if d.valid_noise is not None and d.valid_noise > VALID_NOISE and d.valid_roughness > VALID_ROUGH:
        say(f"validation loss jumps by about {d.valid_noise:.0%} of its level from one evaluation "
            f"to the next (more than {VALID_NOISE:.0%}), more than its trend moves it "
            f"(roughness {d.valid_roughness:.2f} > {VALID_ROUGH:g})")
        return "unstable"
    drop = (train_start - train_end) / abs(train_start) if train_start else 0.0
    if drop < UNDERFIT_DROP:
        say(f"training loss fell only {drop:.0%} ({train_start:.3f} -> {train_end:.3f})")
        return "underfitting"
    total = vy[0] - d.best_valid_loss
    tail_start = np.searchsorted(vx, vx[0] + (vx[-1] - vx[0]) * 2 / 3)
    tail_fall = vy[tail_start] - vy[-1] if tail_start < len(vy) else 0.0
    if total > 0 and tail_fall > STILL_IMPROVING * total:
        say(f"validation loss fell {tail_fall:.3f} in the last third of the run, "
            f"{tail_fall / total:.0%} of its total fall")
        return "still-improving"
    say("validation loss changed little in the last third of the run"
        + (f" ({tail_fall / total:.0%} of its total fall)" if total > 0 else ""))
    return "converged"


def _train_near(x, tr, step):
    """Mean training loss over the 5 % of the run around ``step`` (single steps are too noisy)."""
    half = max((x[-1] - x[0]) * 0.025, 1)
    near = (np.abs(x - step) <= half) & np.isfinite(tr)
    return float(tr[near].mean()) if near.any() else float("nan")


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
