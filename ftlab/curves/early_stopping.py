"""Early stopping: replay the patience rule of Keras, Hugging Face or Lightning over recorded values.

Training libraries watch one number (usually the validation loss) after every evaluation and stop
when it has not improved for ``patience`` evaluations in a row. Given the values a run actually
recorded, :func:`simulate_early_stopping` says where each library would have stopped and which
evaluation it would have kept; ``ftlab.curves.run_stopping`` does it on a :class:`ftlab.Run` (steps, tokens, checkpoints) and
over a grid.

The three libraries agree on the idea but not on the details (read in their sources: Keras 3
``keras/src/callbacks/early_stopping.py``, transformers ``trainer_callback.py`` +
``Trainer._determine_best_metric``, Lightning ``callbacks/early_stopping.py``):

============================  ==========================  =========================  ===========================
rule                          ``flavor="keras"``          ``flavor="hf"``            ``flavor="lightning"``
============================  ==========================  =========================  ===========================
improvement (min mode)        ``v + |d| < best``          ``v < best`` and           ``v + d < best``
                                                          ``|v - best| > d``         (``d`` not made absolute)
first evaluation              always the best             always the best            always the best (if finite)
best value updated when       the improvement test holds  ``v < best``, *without*    the improvement test holds
                                                          the threshold
counter on a bad evaluation   ``wait`` + 1 (incremented   counter + 1                ``wait`` + 1
                              before the test)
stops when                    ``wait >= patience`` and    ``counter >= patience``    ``wait >= patience``
                              not at index 0              (patience 0: stops at
                                                          the first evaluation)
extra rules                   ``baseline``: ``wait``      none                       ``check_finite`` (stop on
                              resets only when ``v`` also                            NaN/inf), ``stopping_threshold``
                              beats the baseline;                                    (stop once good enough),
                              ``start_from`` (Keras'                                 ``divergence_threshold``
                              ``start_from_epoch``)                                  (stop once hopeless)
default patience              0                           1                          3
============================  ==========================  =========================  ===========================

Mirror everything for ``mode="max"`` (accuracy-like metrics). ``start_from`` works for all three
here (the callback simply does not look at the first evaluations), although only Keras has it.

``min_delta`` is compared with the best value so far, so it must be judged against the curve's own
noise: below the step-to-step noise a dip of noise counts as an improvement; above the fall the
curve still makes over ``patience`` evaluations, training stops while it improves.
:func:`ftlab.curves.min_delta.min_delta_advice` measures both on a run's values.
"""

import math
from dataclasses import dataclass, field

import numpy as np

FLAVORS = ("keras", "hf", "lightning")
MODES = ("min", "max")


@dataclass
class StopResult:
    """Where training would have stopped, over a sequence of evaluations (all indices 0-based).

    ``stopped_index`` is the evaluation after which training stops (``None``: it never stops, the
    run goes to its end); ``best_index``/``best_value`` what the callback holds as best when it
    stops (or at the end); ``wait_history`` the patience counter after each evaluation seen
    (``None`` for evaluations it ignored: before ``start_from`` or, for Keras, a missing value).
    """

    stopped_index: int | None
    best_index: int | None
    best_value: float | None
    wait_history: list = field(default_factory=list)
    flavor: str = "keras"
    reason: str = ""

    @property
    def stopped(self) -> bool:
        return self.stopped_index is not None


def _check_args(values, patience, mode, flavor, start_from, lightning_only):
    if flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {FLAVORS}, got {flavor!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be 'min' (losses) or 'max' (accuracies), got {mode!r}")
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
        raise ValueError(f"patience must be a whole number of evaluations >= 0, got {patience!r}")
    if isinstance(start_from, bool) or not isinstance(start_from, (int, np.integer)) or start_from < 0:
        raise ValueError(f"start_from must be an evaluation index >= 0, got {start_from!r}")
    if flavor != "lightning":
        for name, value in lightning_only.items():
            if value is not None:
                raise ValueError(f"{name} is a Lightning option; pass flavor='lightning' to use it")
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"values must be one monitored value per evaluation (1-D), got shape {arr.shape}")
    return [float(v) for v in arr]


def simulate_early_stopping(values, *, patience=0, min_delta=0.0, mode="min", baseline=None,
                            start_from=0, flavor="keras", stopping_threshold=None,
                            divergence_threshold=None, check_finite=True):
    """Replay an early-stopping callback over ``values`` (one monitored value per evaluation).

    See the module docstring for the table of how ``flavor="keras"`` (Keras 3 ``EarlyStopping``),
    ``"hf"`` (Hugging Face ``EarlyStoppingCallback`` with ``min_delta`` as its
    ``early_stopping_threshold``) and ``"lightning"`` (Lightning ``EarlyStopping``) differ.
    ``baseline`` is Keras only; ``stopping_threshold``, ``divergence_threshold`` and
    ``check_finite`` are Lightning only.

    Keras' own unit test: the loss goes down, then up once, then slowly down again.

    >>> losses = [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6, 8.5]
    >>> [simulate_early_stopping(losses, patience=p).stopped_index for p in (0, 1, 2, 3)]
    [3, 3, 4, 5]
    >>> r = simulate_early_stopping(losses, patience=2)
    >>> r.best_index, r.best_value, r.wait_history
    (2, 8.0, [0, 0, 0, 1, 2])
    """
    lightning_only = {"stopping_threshold": stopping_threshold,
                      "divergence_threshold": divergence_threshold}
    vals = _check_args(values, patience, mode, flavor, start_from, lightning_only)
    if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float, np.number)) \
            or not np.isfinite(min_delta):
        raise ValueError(f"min_delta must be a finite number (the smallest change that counts as an "
                         f"improvement; judge it against the curve's noise with "
                         f"ftlab.curves.min_delta.min_delta_advice), got {min_delta!r}")
    if baseline is not None and flavor != "keras":
        raise ValueError("baseline is a Keras option; pass flavor='keras' to use it")
    step = {"keras": _keras, "hf": _hf, "lightning": _lightning}[flavor]
    state = _State(mode, float(min_delta), patience, baseline, stopping_threshold,
                   divergence_threshold, check_finite)
    history = []
    for i, v in enumerate(vals):
        if i < start_from:
            history.append(None)
            continue
        stop = step(state, i, v)
        history.append(state.wait if state.seen else None)
        if stop:
            return StopResult(i, state.best_index, _or_none(state.best), history, flavor, state.reason)
    return StopResult(None, state.best_index, _or_none(state.best), history, flavor,
                      "never stopped: the run ended first")


def _no_improvement(s):
    plural = "" if s.wait == 1 else "s"
    if s.baseline is not None and not s.better(s.best, s.baseline):
        # Keras resets its counter only on a value that also beats the baseline
        return (f"{s.wait} evaluation{plural} without beating the baseline {s.baseline:g}, "
                f"patience {s.patience}")
    return f"{s.wait} evaluation{plural} without improvement, patience {s.patience}"


def _or_none(best):
    return None if best is None or math.isinf(best) else best


class _State:
    """The callback's memory between evaluations."""

    def __init__(self, mode, min_delta, patience, baseline, stop_at, diverge_at, check_finite):
        self.better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
        self.sign = -1.0 if mode == "min" else 1.0  # direction of "better"
        self.min_delta, self.patience, self.baseline = min_delta, patience, baseline
        self.stop_at, self.diverge_at, self.check_finite = stop_at, diverge_at, check_finite
        self.best = math.inf if mode == "min" else -math.inf
        self.best_index = None
        self.wait = 0
        self.seen = False
        self.reason = ""


def _keras(s, i, v):
    # Keras skips an epoch whose logs lack the metric; a NaN is compared (and never improves).
    s.seen = True
    delta = s.sign * abs(s.min_delta)  # Keras stores min_delta negated in min mode

    def improves(reference):
        return s.better(v - delta, reference)

    s.wait += 1
    if improves(s.best):
        s.best, s.best_index = v, i
        if s.baseline is None or improves(s.baseline):
            s.wait = 0
        return False
    if s.wait >= s.patience and i > 0:
        s.reason = _no_improvement(s)
        return True
    return False


def _hf(s, i, v):
    # The callback compares with state.best_metric as it was *before* this evaluation (None at the
    # first one); the Trainer then updates best_metric on any strict improvement, ignoring the
    # threshold (best_metric starts at +inf, so a NaN first value is never the best).
    first = not s.seen
    s.seen = True
    if first or (s.better(v, s.best) and abs(v - s.best) > s.min_delta):
        s.wait = 0
    else:
        s.wait += 1
    if s.better(v, s.best):
        s.best, s.best_index = v, i
    if s.wait >= s.patience:
        s.reason = _no_improvement(s)
        return True
    return False


def _lightning(s, i, v):
    s.seen = True
    delta = s.sign * s.min_delta  # Lightning keeps min_delta's sign as given
    if s.check_finite and not math.isfinite(v):
        s.reason = f"monitored value {v} is not finite"
        return True
    if s.stop_at is not None and s.better(v, s.stop_at):
        s.reason = f"stopping threshold reached: {v:g} beats {s.stop_at:g}"
        return True
    if s.diverge_at is not None and s.better(-v, -s.diverge_at):
        s.reason = f"divergence threshold reached: {v:g} is worse than {s.diverge_at:g}"
        return True
    if s.better(v - delta, s.best):
        s.best, s.best_index, s.wait = v, i, 0
        return False
    s.wait += 1
    if s.wait >= s.patience:
        s.reason = _no_improvement(s)
        return True
    return False
