"""Reading loss curves: a diagnosis with its evidence.

``diagnose`` reads a run's training and validation losses and names what they show (overfitting,
still improving, ...), with the numbers that support the verdict and what to do about it.

The rule judges trends, not single points. A validation loss measured on a batch is noisy, so its
single lowest point is biased low: comparing it with the end calls most healthy runs
"overfitting". Instead:

1. **Noise.** The per-evaluation noise of a series is estimated from its second differences
   ``y[i+1] - 2 y[i] + y[i-1]``, which a straight trend does not affect: for Gaussian noise of
   standard deviation σ their median absolute value is 0.6745·σ·√6. Each is divided by the local
   level first, so ``noise`` is relative (0.08 = 8 % of the loss), and the median ignores a few
   bad batches and the bends of the curve.
2. **Levels.** A level is the mean of ``k = n // WINDOWS`` consecutive evaluations (at least
   1): the start, the end and the lowest such level. Two levels of ``k`` points differ by noise
   alone with a standard deviation of ``noise·√(2/k)`` (relative); a change counts only when
   it is ``Z`` times that and also more than a floor that makes it matter in practice.
3. **Verdicts**, tried in this order:

   ``"unstable"``            the training loss is non-finite (or a validation loss is infinite),
                             or its end level is above its start level by more than ``TRAIN_RISE``
                             and ``Z`` noise units, whatever validation does;
   ``"no-validation"``       no validation loss at all;
   ``"too-little-validation"`` fewer than ``MIN_VALID_POINTS`` validation losses (``MIN_FULL_VALID_
                             POINTS`` full validation losses): there is validation, too little
                             to tell a trend from noise;
   ``"overfitting"``         validation's end level is above its lowest level by more than
                             ``MIN_RISE`` and ``Z`` noise units, while the training loss fell;
   ``"underfitting"``        the training loss fell by less than ``UNDERFIT_DROP`` of its start;
   ``"still-improving"``     validation's end level is below the level just before it by more
                             than ``MIN_FALL`` and ``Z`` noise units;
   ``"converged"``           otherwise: validation is flat at the end, within its noise.

   Validation is ``valid_loss`` (per-step, on a batch), or ``full_valid_loss`` (the whole
   validation file, at each epoch's end) when that is the series with as many points or more.
4. **Epochs.** When the run's epochs are known, the evidence names the epoch where validation was
   best and whether that was in epoch 1, before any training example had been seen twice. An
   "overfitting" whose best point is in epoch 1 cannot come from memorising repeated examples,
   and its advice says so and lists what the curves leave open (``OVERFITTING_ADVICE``).

Calibration (``tests/test_diagnose_calibration.py`` recomputes it on synthetic runs of known
truth, seeds 0-399 each: 40 evaluations over 1000 steps, per-evaluation noise 8 % of the level;
``Z`` = 3 was chosen as the round value that keeps flat runs under 5 %):

======================================================  ==========================  ========
synthetic run                                           measured                    required
======================================================  ==========================  ========
healthy (validation decays, time scale 5-50 % of run)   "overfitting" in 0.0 %      <= 5 %
flat validation (pure noise, the hardest healthy case)  "overfitting" in 3.0 %      <= 5 %
validation trend rises 30 % from its minimum            "overfitting" in 97.0 %     >= 95 %
diverging (training loss blows up or turns NaN/inf)     "unstable" in 100 %         100 %
full validation only (one per epoch, 8 epochs)          judged in 100 %             100 %
======================================================  ==========================  ========

With 20 evaluations the same rule calls 2.75 % of flat runs "overfitting" and sees 77 % of the
30 % rises: with fewer points a rise must be larger (or the noise smaller) to be told from noise.
"""

import math
from dataclasses import dataclass, field

import numpy as np


# The thresholds of ``diagnose`` (see the module docstring for the rule they belong to).
# Fewer validation points than this: "too-little-validation". A batch's validation loss is noisy,
# and with fewer than 8 points a level (n // WINDOWS of them) would be a single point; the full
# validation loss is computed on the whole validation set, so 4 (e.g. 4 epoch ends) can be read.
MIN_VALID_POINTS = 8
MIN_FULL_VALID_POINTS = 4
WINDOWS = 4             # a level is the mean of n // WINDOWS consecutive points
Z = 3.0                 # a change counts when it is Z times what noise alone would give
MIN_RISE = 0.03         # ... and, for validation rising from its lowest level, more than 3 %
TRAIN_RISE = 0.10       # ... and, for training ending above its start, more than 10 %
MIN_FALL = 0.02         # ... and, for validation still falling at the end, more than 2 %
UNDERFIT_DROP = 0.10    # training loss fell less than 10 % of its start: "underfitting"

VERDICTS = ("no-validation", "too-little-validation", "unstable", "overfitting", "underfitting",
            "still-improving", "converged")

# What to do, per verdict. It follows OpenAI's fine-tuning guide (fewer epochs when validation
# rises while training falls, more epochs when the model does not follow the training data, a
# lower learning-rate multiplier when training is unstable) and names no cause the curves cannot show.
ADVICE = {
    "no-validation": (
        "There is no validation curve, so overfitting cannot be seen: the training loss can keep "
        "falling while the model gets worse on examples it has not seen. Hold out 10-20 % of your "
        "examples as a validation file and train again; until then, compare the saved checkpoints "
        "on prompts of your own."),
    "too-little-validation": (
        "There is validation, but too few evaluations to tell a trend from noise. Evaluate more "
        "often next time (Hugging Face: a smaller eval_steps; MLX-LM: --steps-per-eval), and "
        "compare the saved checkpoints on prompts of your own meanwhile."),
    "unstable": (
        "Training is unstable: the training loss rose or turned non-finite. Lower the learning "
        "rate multiplier (or the learning rate) and train again; if it persists, look for broken "
        "or contradictory examples."),
    "overfitting": (
        "Validation loss rose while training loss kept falling: the model fits its training "
        "examples better and unseen ones worse. The epochs are unknown, so whether training "
        "examples had repeated by then (memorising needs repeats) cannot be told. Train fewer "
        "epochs or stop earlier (keep the checkpoint nearest {best_step}), or add more varied "
        "training data."),
    "underfitting": (
        "The training loss barely fell: the model does not follow the training data yet. Train "
        "more epochs (one or two more), and check that the examples teach one consistent pattern."),
    "still-improving": (
        "Validation loss was still falling at the end: more epochs (or more data) should help. "
        "Watch the validation curve of the longer run for the point where it turns up."),
    "converged": (
        "Validation loss had almost stopped falling by the end of this run (see why). Before "
        "training longer, check why it flattened: a learning rate decayed to zero flattens a curve "
        "too. If it had not, more of the same training is unlikely to help much; improve the data "
        "(quality, diversity, more examples) instead."),
}

# Overfitting advice when the epochs are known: whether validation was best before any training
# example repeated decides what the curves can say about the cause (memorising needs repeats).
OVERFITTING_ADVICE = {
    # best in epoch 1: every training batch so far was new, so memorising repeats is ruled out
    True: (
        "Validation loss rose while training loss kept falling, but validation was best in epoch "
        "1 (around {best_step}), before any training example had been seen twice: memorising "
        "repeated examples did not cause the turn, and training fewer epochs alone would not bring "
        "{best_step} back. The curves leave several possible causes: the per-step validation "
        "batch is small and noisy (compare the full validation loss, or the checkpoints on "
        "prompts of your own); the model drifting towards the training file's style and away "
        "from what the validation file asks (compare the two files); updates too large for the "
        "batch size (try a lower learning-rate multiplier or a larger batch). Keep the checkpoint "
        "nearest {best_step} if one exists."),
    # best after epoch 1: the turn came once examples repeated, as memorising does
    False: (
        "Validation loss rose while training loss kept falling, after every training example had "
        "been seen at least once: the model fits its training examples better and unseen ones "
        "worse, as it does when it starts memorising repeated examples. Train fewer epochs or "
        "stop earlier (keep the checkpoint nearest {best_step}), or add more varied training "
        "data."),
}


@dataclass
class Diagnosis:
    """What ``diagnose`` found: a ``verdict``, the ``evidence`` behind it and ``advice``.

    Losses are in nats. ``valid_column`` is the validation series judged, ``n_valid`` its number of
    points, ``valid_noise`` its per-evaluation noise relative to its level and ``window`` the
    number of evaluations in one level (see the module docstring). ``best_valid_step`` /
    ``best_valid_loss`` is its lowest recorded point (what restoring the best checkpoint keeps);
    ``best_level`` the lowest level, ``final_valid_loss`` the level at the end, ``rise`` the end
    level above the lowest one (relative) and ``rise_needed`` what noise requires before it counts.
    ``best_epoch`` is the epoch where validation was best (the lowest point of the lowest level,
    else the lowest point) and ``best_before_repeat`` whether that was in epoch 1, before any
    training example was seen a second time; ``first_repeat_step`` is the first step of epoch 2,
    where examples start repeating (all ``None`` when the epochs are unknown).
    ``final_lr_ratio`` is the last recorded learning rate over its largest (``None`` when the run
    did not record it): near 0, a schedule decayed the learning rate and the curve had to flatten.
    ``train_start``/``final_train_loss`` are training levels; slopes are loss change per 1000
    steps over the last third of the run.
    """

    verdict: str
    advice: str
    valid_column: str | None = None
    n_valid: int = 0
    valid_noise: float | None = None
    window: int | None = None
    best_valid_step: float | None = None
    best_valid_loss: float | None = None
    rise_step: float | None = None
    best_level: float | None = None
    best_level_step: float | None = None  # the lowest point of the lowest level's window
    final_valid_loss: float | None = None
    rise: float | None = None
    rise_needed: float | None = None
    best_epoch: int | None = None
    best_before_repeat: bool | None = None
    first_repeat_step: float | None = None
    final_lr_ratio: float | None = None
    train_start: float | None = None
    final_train_loss: float | None = None
    train_noise: float | None = None
    gap: float | None = None
    train_slope: float | None = None
    valid_slope: float | None = None
    reasons: list = field(default_factory=list)

    @property
    def evidence(self):
        """The numbers behind the verdict, as a dict."""
        keys = ("valid_column", "n_valid", "valid_noise", "window", "best_valid_step",
                "best_valid_loss", "rise_step", "best_level", "best_level_step",
                "final_valid_loss", "rise",
                "rise_needed", "best_epoch", "best_before_repeat", "first_repeat_step", "final_lr_ratio", "train_start",
                "final_train_loss", "train_noise", "gap", "train_slope", "valid_slope")
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


# ----------------------------------------------------------------------------- the statistics


def relative_noise(y):
    """Per-point noise of ``y`` relative to its level, from its second differences (a straight
    trend cancels in them; the median ignores a few outliers and bends). ``None`` under 3 points.

    >>> rng = np.random.default_rng(0)
    >>> y = np.linspace(2, 1, 2000) * (1 + 0.08 * rng.standard_normal(2000))
    >>> round(relative_noise(y), 2)
    0.08
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 3:
        return None
    d2 = y[2:] - 2 * y[1:-1] + y[:-2]
    level = np.abs(y[2:] + y[1:-1] + y[:-2]) / 3
    return float(np.median(np.abs(d2) / np.maximum(level, 1e-12)) / (0.6745 * math.sqrt(6)))


def levels(y, windows=None):
    """``(k, means)``: the mean of every ``k = len(y) // windows`` consecutive points."""
    y = np.asarray(y, dtype=float)
    k = max(1, len(y) // (windows or WINDOWS))
    return k, np.lib.stride_tricks.sliding_window_view(y, k).mean(axis=1)


def _needed(noise, k, floor):
    """Smallest relative change that counts: ``floor``, or ``Z`` times the spread of the
    difference of two means of ``k`` noisy points (noise·√(2/k))."""
    return max(floor, Z * (noise or 0.0) * math.sqrt(2 / k))


def _rel(a, b):
    """How far ``a`` is above ``b``, relative to ``b``."""
    return (a - b) / max(abs(b), 1e-12)


def _slope_per_1000(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    tail = x >= x[0] + (x[-1] - x[0]) * 2 / 3
    if tail.sum() < 2:
        tail = np.arange(len(x)) >= len(x) - 2
    return float(np.polyfit(x[tail], y[tail], 1)[0] * 1000)


# ----------------------------------------------------------------------------- diagnose


def diagnose(run):
    """Diagnose a :class:`ftlab.Run` from its training and validation losses (per-step
    ``valid_loss`` or, when that is the validation there is, ``full_valid_loss``).

    Returns a :class:`Diagnosis` whose ``verdict`` is one of ``VERDICTS``; the rule, its thresholds
    and their measured false-alarm and detection rates are in the module docstring. The epoch of
    the best validation comes from the run's ``epoch`` column (known from the log, or derived from
    ``meta`` ``steps_per_epoch``/``n_epochs``).
    """
    m = run.metrics
    d = diagnose_curves(m.index.to_numpy(), m["train_loss"].to_numpy(dtype=float),
                        m["valid_loss"].to_numpy(dtype=float),
                        full_valid_loss=m["full_valid_loss"].to_numpy(dtype=float),
                        epoch=m["epoch"].to_numpy(dtype=float), name=run.name,
                        learning_rate=(m["learning_rate"].to_numpy(dtype=float)
                                       if "learning_rate" in m else None),
                        log_positions=run.meta.get("steps_are") == "log positions")
    return d


def diagnose_curves(steps, train_loss, valid_loss=None, *, full_valid_loss=None, epoch=None,
                    name="the run", log_positions=False, learning_rate=None):
    """Diagnose plain arrays: ``steps`` and the losses recorded there (NaN where not recorded);
    ``epoch`` (optional) is the epoch at each step, as in ``Run.metrics``; ``learning_rate``
    (optional) the learning rate at each step, NaN where not logged. ``log_positions``: the
    steps are rows of a log, not training steps, so advice names a checkpoint by its epoch.

    >>> steps = np.arange(1, 301)
    >>> train = 2.0 * np.exp(-steps / 60) + 0.2
    >>> valid = np.where(steps % 25 == 0, 2.0 * np.exp(-steps / 60) + 0.3, np.nan)
    >>> diagnose_curves(steps, train, valid).verdict
    'still-improving'
    """
    x = np.asarray(steps, dtype=float)
    tr = np.asarray(train_loss, dtype=float)
    series = {"valid_loss": valid_loss, "full_valid_loss": full_valid_loss, "epoch": epoch}
    series = {k: np.full_like(x, np.nan) if v is None else np.asarray(v, dtype=float)
              for k, v in series.items()}
    if x.ndim != 1 or any(a.shape != x.shape for a in (tr, *series.values())):
        raise ValueError(f"steps, train_loss and valid_loss must be 1-D and the same length, "
                         f"got {x.shape}, {tr.shape}, {series['valid_loss'].shape}")
    if np.isnan(tr).all():
        raise ValueError(f"{name} has no training loss to diagnose: every train_loss value is "
                         "missing (load a file that has a training-loss column)")
    # the series with more points; on a tie the full validation loss (the whole validation set,
    # "the most accurate" in OpenAI's guide, where a per-step valid_loss is one small batch)
    column = max(("full_valid_loss", "valid_loss"), key=lambda c: (~np.isnan(series[c])).sum())
    d = Diagnosis(verdict="", advice="", valid_column=column)
    _train_evidence(d, x, tr)
    if learning_rate is not None:
        lr = np.asarray(learning_rate, dtype=float)
        lr = lr[np.isfinite(lr)]
        if len(lr) and lr.max() > 0:
            d.final_lr_ratio = float(lr[-1] / lr.max())
    valid = _valid_evidence(d, x, series[column], series["epoch"])
    d.verdict = _verdict(d, x, tr, valid)
    advice = ADVICE[d.verdict]
    if d.verdict == "overfitting" and d.best_before_repeat is not None:
        advice = OVERFITTING_ADVICE[d.best_before_repeat]
    d.advice = advice.format(best_step=_checkpoint_words(d, log_positions))
    return d


def _checkpoint_words(d, log_positions):
    """Where the best checkpoint is: a step, or (a log row not being a step) an epoch's end."""
    if log_positions and d.best_epoch is not None:
        return f"the end of epoch {d.best_epoch}"
    return f"step {_fmt_step(_best_step(d))}"


def _fmt_step(step):
    return "?" if step is None else f"{step:.0f}"


def _train_evidence(d, x, tr):
    ok = np.isfinite(tr)
    d.train_noise = relative_noise(tr[ok])
    if ok.any():
        _, lv = levels(tr[ok], windows=10)  # finer than validation: training has many points
        d.train_start, d.final_train_loss = float(lv[0]), float(lv[-1])
    d.train_slope = _slope_per_1000(x, tr)


def _valid_evidence(d, x, va, epoch):
    """Fill the validation evidence; return the (steps, values) judged."""
    ok = ~np.isnan(va)  # NaN means "not evaluated here"; an infinite loss is kept (and judged)
    vx, vy = x[ok], va[ok]
    d.n_valid = int(ok.sum())
    finite = np.isfinite(vy)
    if not finite.any():
        return vx, vy
    best = int(np.argmin(np.where(finite, vy, np.inf)))
    d.best_valid_step, d.best_valid_loss = float(vx[best]), float(vy[best])
    d.rise_step = float(vx[best + 1]) if best + 1 < len(vx) else None
    d.valid_slope = _slope_per_1000(vx[finite], vy[finite])
    if d.n_valid >= _min_points(d.valid_column) and finite.all():
        d.valid_noise = relative_noise(vy)
        d.window, lv = levels(vy)
        low = int(np.argmin(lv))
        # where validation was best: in the lowest level's window, not at the single lowest (often
        # lucky) point of the whole run
        in_window = low + int(np.argmin(vy[low:low + d.window]))
        d.best_level, d.best_level_step = float(lv[low]), float(vx[in_window])
        d.final_valid_loss = float(lv[-1])
        d.rise = _rel(d.final_valid_loss, d.best_level)
        d.rise_needed = _needed(d.valid_noise, d.window, MIN_RISE)
    else:
        d.final_valid_loss = float(vy[finite][-1])
    _best_epoch(d, x, epoch)
    if d.final_train_loss is not None:
        d.gap = d.final_valid_loss - d.final_train_loss
    return vx, vy


def _min_points(column):
    return MIN_FULL_VALID_POINTS if column == "full_valid_loss" else MIN_VALID_POINTS


def _best_epoch(d, x, epoch):
    """In which epoch the best validation fell, and whether any example had been seen twice."""
    at = epoch[x == _best_step(d)]
    if len(at) and np.isfinite(at[0]):
        d.best_epoch = max(1, math.ceil(at[0] - 1e-9))  # epoch 1.0 is the last step of epoch 1
        d.best_before_repeat = d.best_epoch == 1
        later = x[np.isfinite(epoch) & (epoch > 1 + 1e-9)]  # steps of epoch 2 and after
        d.first_repeat_step = float(later[0]) if len(later) else None


def _verdict(d, x, tr, valid):
    """Try the rules in the documented order; record why in ``d.reasons``."""
    say = d.reasons.append
    vx, vy = valid
    if np.isinf(tr).any() or np.isinf(vy).any():
        say("the " + ("training" if np.isinf(tr).any() else "validation") + " loss became infinite")
        return "unstable"
    train_rise = _rel(d.final_train_loss, d.train_start)
    train_needed = _needed(d.train_noise, max(1, np.isfinite(tr).sum() // 10), TRAIN_RISE)
    if train_rise > train_needed:
        say(f"training loss rose from {d.train_start:.3f} to {d.final_train_loss:.3f} "
            f"({train_rise:+.0%}; noise alone explains up to {train_needed:.0%})")
        return "unstable"
    if d.n_valid == 0:
        say("no validation loss was recorded")
        return "no-validation"
    if d.rise is None:
        say(f"only {d.n_valid} {d.valid_column} point(s): at least {_min_points(d.valid_column)} "
            "are needed to tell a trend from noise")
        return "too-little-validation"
    say(f"{d.valid_column}: {d.n_valid} evaluations, noise about {d.valid_noise:.1%} of the level "
        f"per evaluation; levels are means of {d.window}")
    if d.rise > d.rise_needed:
        train_at_best = _train_at_best_level(d, x, tr, vx, vy)
        if d.final_train_loss < train_at_best:
            say(f"validation rose from its lowest level {d.best_level:.3f} to {d.final_valid_loss:.3f} "
                f"({d.rise:+.0%}; noise alone explains up to {d.rise_needed:.0%})")
            say(f"meanwhile training loss fell from {train_at_best:.3f} to {d.final_train_loss:.3f}")
            say(_epoch_words(d))
            return "overfitting"
    drop = -_rel(d.final_train_loss, d.train_start)
    if drop < UNDERFIT_DROP:
        say(f"training loss fell only {drop:.0%} ({d.train_start:.3f} -> {d.final_train_loss:.3f})")
        return "underfitting"
    before = float(np.mean(vy[-2 * d.window:-d.window]))
    fall = _rel(before, d.final_valid_loss)
    fall_needed = _needed(d.valid_noise, d.window, MIN_FALL)
    if fall > fall_needed:
        say(f"validation was still falling at the end: {before:.3f} -> {d.final_valid_loss:.3f} "
            f"({fall:.0%} over the last {d.window} evaluations; noise explains up to {fall_needed:.0%})")
        return "still-improving"
    say(f"validation ended flat: it fell {fall:.1%} over the last {d.window} evaluations (a fall "
        f"counts from {fall_needed:.1%}: MIN_FALL or noise) and rose {d.rise:.1%} above its lowest "
        f"level (a rise counts from {d.rise_needed:.1%})")
    if d.final_lr_ratio is not None:
        say(f"the recorded learning rate ended at {d.final_lr_ratio:.2%} of its largest value"
            + (": a schedule decayed it, so the flat end does not show that more training could not "
               "help" if d.final_lr_ratio < 0.1 else ""))
    return "converged"


def _train_at_best_level(d, x, tr, vx, vy):
    """Mean training loss over the steps of validation's lowest level."""
    _, lv = levels(vy)
    first = int(np.argmin(lv))
    lo, hi = vx[first], vx[first + d.window - 1]
    half = max((x[-1] - x[0]) * 0.025, 1)  # a window of one evaluation still spans a few steps
    near = (x >= lo - half) & (x <= hi + half) & np.isfinite(tr)
    return float(np.mean(tr[near])) if near.any() else math.inf


def _best_step(d):
    """Where validation was best: within its lowest level, else its lowest point."""
    return d.best_level_step if d.best_level_step is not None else d.best_valid_step


def _epoch_words(d):
    where = (f"validation was lowest around step {_best_step(d):.0f}" if d.best_level_step is not None
             else f"the lowest validation was at step {d.best_valid_step:.0f}")
    if d.best_epoch is None:
        return f"{where}; the epochs are unknown, so whether examples had repeated by then is unknown"
    if d.best_before_repeat:
        until = ("" if d.first_repeat_step is None
                 else f" (examples repeat from step {d.first_repeat_step:.0f})")
        return (f"{where}, in epoch 1{until}: before any training example was seen twice, so "
                "memorising repeated examples cannot be the cause")
    return (f"{where}, in epoch {d.best_epoch}: after every training example had been seen at "
            "least once")
