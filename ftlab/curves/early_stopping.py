"""Early stopping: replay the patience rule of Keras, Hugging Face or Lightning over recorded values.

Training libraries watch one number (usually the validation loss) after every evaluation and stop
when it has not improved for ``patience`` evaluations in a row. Given the values a run actually
recorded, :func:`simulate_early_stopping` says where each library would have stopped and which
evaluation it would have kept; :func:`run_early_stopping` does it on a :class:`ftlab.Run` and adds
steps, tokens and the loss you would keep; :func:`sweep_early_stopping` does it over a grid.

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
"""

import math
import re
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
                         f"improvement, e.g. 0.01), got {min_delta!r}")
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


# ----------------------------------------------------------------------------- on a Run


@dataclass
class RunStopResult:
    """Early stopping replayed on a run, in steps.

    ``stop_step`` is where training would have stopped (``None``: it would have run to the end);
    ``best_step``/``best_value`` the evaluation the callback held as best; ``checkpoint_step`` the
    nearest saved checkpoint at or before ``best_step`` (``None`` if there is none);
    ``steps_saved`` and ``tokens_saved`` (``None`` when the run does not record tokens) what
    stopping there would have saved; ``kept_valid_loss`` the validation loss at ``best_step`` (the
    model you keep when you restore the best) next to ``final_valid_loss``, that of the last step.
    ``eval_steps``/``values`` are the evaluations used (after smoothing, if any) and ``sequence``
    the :class:`StopResult` over them.

    With ``flavor="hf"`` the kept model follows the Trainer: the best evaluation is restored only
    if a checkpoint was *saved* at its step (``load_best_model_at_end``), so ``checkpoint_step`` is
    ``best_step`` or ``None``; ``checkpoints_known`` says whether the save schedule came from the
    run (``meta`` ``checkpoints``, ``save_strategy``, ``save_steps``) and ``note`` explains,
    ``recorded_best_step`` is the step of the trainer's own ``best_model_checkpoint``.
    """

    metric: str
    stop_step: int | None
    best_step: int | None
    best_value: float | None
    checkpoint_step: int | None
    last_step: int
    steps_saved: int
    tokens_saved: float | None
    kept_valid_loss: float | None
    final_valid_loss: float | None
    eval_steps: np.ndarray
    values: np.ndarray
    sequence: StopResult
    checkpoints: list = field(default_factory=list)
    checkpoints_known: bool = True
    recorded_best_step: int | None = None
    note: str = ""

    def summary(self):
        """One line per fact, in plain words."""
        s = self.sequence
        lines = [f"monitored {self.metric} at {len(self.eval_steps)} evaluations ({s.flavor} rule)"]
        if self.stop_step is None:
            lines.append(f"never stops: training runs to step {self.last_step} ({s.reason})")
        else:
            lines.append(f"stops at step {self.stop_step}: {s.reason}")
            lines.append(f"saves {self.steps_saved} of {self.last_step} steps"
                         + (f" and {self.tokens_saved:,.0f} training tokens" if self.tokens_saved else ""))
        if self.best_step is not None:
            lines.append(f"best evaluation: step {self.best_step} ({self.metric} {self.best_value:.4f})")
            lines.append(self.note or "nearest checkpoint at or before it: "
                         + (f"step {self.checkpoint_step}" if self.checkpoint_step is not None
                            else "none (checkpoints at steps " + ", ".join(map(str, self.checkpoints)) + ")"))
        if self.kept_valid_loss is not None and self.final_valid_loss is not None:
            lines.append(f"validation loss kept {self.kept_valid_loss:.4f} vs final {self.final_valid_loss:.4f}")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _metric_series(run, metric):
    m = run.metrics
    if metric not in m.columns:
        raise ValueError(f"run {run.name!r} has no column {metric!r}; it has: {', '.join(m.columns)}")
    col = m[metric].dropna()
    if col.empty:
        hint = " (the run has no validation file)" if "valid" in metric else ""
        raise ValueError(f"run {run.name!r} never recorded {metric!r}{hint}; "
                         f"recorded: {', '.join(run.recorded())}")
    return col.index.to_numpy(dtype=np.int64), col.to_numpy(dtype=float)


def checkpoint_steps(run):
    """Steps where the run saved a checkpoint: from ``meta['checkpoints']`` when the source listed
    them, else every ``meta['save_steps']`` steps (Hugging Face), else each epoch's last step
    (OpenAI saves one per epoch), else only the last step."""
    meta, steps = run.meta, run.steps
    listed = meta.get("checkpoints")
    if listed:
        out = []
        for c in listed:
            step = c.get("step_number", c.get("step")) if isinstance(c, dict) else c
            if step is not None:
                out.append(int(float(step)))
        return sorted(set(out))
    last = int(steps[-1])
    if meta.get("save_steps"):
        every = int(meta["save_steps"])
        return list(range(every, last + 1, every)) + ([] if last % every == 0 else [last])
    if run.metrics["epoch"].notna().any():
        try:
            return [int(s) for s in run.epochs()["last_step"].tolist()]
        except ValueError:
            pass
    return [last]


def hf_saved_steps(run):
    """``(steps, how)``: where a Hugging Face Trainer saved checkpoints, read from the run's meta
    as trainer_state.json and the training arguments store them, or ``(None, why)`` when the
    schedule is unknown. ``save_strategy="best"`` returns ``("best", how)``: a save at every new
    best evaluation."""
    meta, last = run.meta, int(run.steps[-1])
    if meta.get("checkpoints"):
        return checkpoint_steps(run), "the checkpoints the run lists"
    strategy = str(meta.get("save_strategy") or "").lower().rsplit(".", 1)[-1]
    if strategy == "no":
        return [], "save_strategy 'no': no checkpoint was saved"
    if strategy == "best":
        return "best", "save_strategy 'best': a checkpoint at every new best evaluation"
    if strategy == "epoch":
        try:
            return [int(s) for s in run.epochs()["last_step"]], "save_strategy 'epoch'"
        except ValueError:
            return None, "save_strategy 'epoch', but the epochs of the steps are unknown"
    if meta.get("save_steps"):
        every = int(meta["save_steps"])
        if _evaluations_off_schedule(run, meta.get("eval_steps")):
            # trainer_state.json stores save_steps/eval_steps even when the Trainer saved and
            # evaluated per epoch: evaluations off the eval_steps grid show they were not used
            return None, (f"the save schedule is unknown: save_steps={every} is stored, but the "
                          "evaluations are not on its eval_steps grid (per-epoch saving?)")
        return list(range(every, last + 1, every)), f"a checkpoint every save_steps={every} steps"
    return None, "the save schedule is unknown (no save_steps, save_strategy or checkpoints in meta)"


def _evaluations_off_schedule(run, eval_steps):
    """Whether evaluations fall between the multiples of ``eval_steps`` (the last step aside)."""
    if not eval_steps or "valid_loss" not in run.metrics:
        return False
    steps = run.metrics["valid_loss"].dropna().index.to_numpy()
    steps = steps[steps != run.steps[-1]]
    return bool(len(steps)) and bool((steps % int(eval_steps) != 0).any())


def _recorded_best_step(meta):
    """The step of trainer_state.json's ``best_model_checkpoint`` (``.../checkpoint-2800``)."""
    match = re.search(r"checkpoint-(\d+)", str(meta.get("best_model_checkpoint") or ""))
    return int(match.group(1)) if match else None


def _hf_kept(best, saved, how):
    """``(checkpoint_step, note)``: the Trainer restores the best evaluation only from a saved
    checkpoint (``load_best_model_at_end`` needs save_steps to be a multiple of eval_steps)."""
    if best is None:
        return None, ""
    if saved is None:
        return None, f"checkpoint kept: unknown, {how}"
    if saved == "best" or best in saved:
        return best, f"checkpoint kept: step {best} ({how})"
    return None, (f"checkpoint kept: none at step {best} ({how}); the Trainer finds no saved "
                  "checkpoint there and the model stays the last one")


def _tokens_at(run, step):
    m = run.metrics
    for col in ("elapsed_tokens", "num_tokens", "tokens"):
        if col in m.columns and m[col].notna().any():
            known = m[col].dropna()
            return float(np.interp(step, known.index.to_numpy(dtype=float), known.to_numpy(dtype=float)))
    trained = run.meta.get("trained_tokens")
    if trained:
        return float(trained) * step / float(run.steps[-1])
    return None


def run_early_stopping(run, metric="valid_loss", *, patience=0, min_delta=0.0, mode=None,
                       smoothing=0.0, flavor="keras", **options):
    """Replay early stopping on ``run``, using only the steps where ``metric`` was recorded.

    ``mode`` defaults to ``"max"`` for accuracies and ``"min"`` otherwise. ``smoothing`` (0..1)
    first smooths the monitored values with :func:`ftlab.smooth`, as a callback watching a smoothed
    metric would. Other keywords (``baseline``, ``start_from``, ``stopping_threshold``, ...) go to
    :func:`simulate_early_stopping`. Also available as ``run.early_stopping(...)``.
    """
    ctx = _RunFacts(run, metric, smoothing)
    return ctx.replay(patience=patience, min_delta=min_delta, mode=mode, flavor=flavor, **options)


class _RunFacts:
    """What a replay needs from a run, read once (a sweep replays many times)."""

    def __init__(self, run, metric, smoothing):
        from ftlab.curves.smoothing import smooth

        self.metric = metric
        self.eval_steps, values = _metric_series(run, metric)
        self.values = smooth(values, smoothing) if smoothing else values
        self.last = int(run.steps[-1])
        self.checkpoints = checkpoint_steps(run)
        self.hf_saved, self.hf_how = hf_saved_steps(run)
        self.recorded_best = _recorded_best_step(run.meta)
        valid = run.metrics["valid_loss"].dropna()
        self.valid = valid
        self.final_valid = float(valid.iloc[-1]) if len(valid) else None
        self.tokens = {s: _tokens_at(run, s) for s in set(self.eval_steps.tolist()) | {self.last}}

    def replay(self, *, patience, min_delta, mode, flavor, **options):
        if mode is None:
            mode = "max" if "accuracy" in self.metric else "min"
        seq = simulate_early_stopping(self.values, patience=patience, min_delta=min_delta,
                                      mode=mode, flavor=flavor, **options)
        steps = self.eval_steps
        stop = None if seq.stopped_index is None else int(steps[seq.stopped_index])
        best = None if seq.best_index is None else int(steps[seq.best_index])
        before = [c for c in self.checkpoints if best is not None and c <= best]
        checkpoint, checkpoints, note = (before[-1] if before else None), self.checkpoints, ""
        if flavor == "hf":  # the Trainer restores only a checkpoint it saved; never invent one
            checkpoint, note = _hf_kept(best, self.hf_saved, self.hf_how)
            checkpoints = self.hf_saved if isinstance(self.hf_saved, list) else []
        kept = float(self.valid[best]) if best is not None and best in self.valid.index else None
        tokens_saved = None
        if stop is not None and self.tokens[stop] is not None:
            tokens_saved = self.tokens[self.last] - self.tokens[stop]
        return RunStopResult(
            metric=self.metric, stop_step=stop, best_step=best, best_value=seq.best_value,
            checkpoint_step=checkpoint, last_step=self.last,
            steps_saved=0 if stop is None else self.last - stop, tokens_saved=tokens_saved,
            kept_valid_loss=kept, final_valid_loss=self.final_valid, eval_steps=steps,
            values=self.values, sequence=seq, checkpoints=checkpoints,
            checkpoints_known=flavor != "hf" or self.hf_saved is not None,
            recorded_best_step=self.recorded_best, note=note)


def sweep_early_stopping(run, patience=range(0, 11), min_delta=(0.0, 0.01, 0.05, 0.1), *,
                         metric="valid_loss", flavor="keras", smoothing=0.0, mode=None, **options):
    """Replay early stopping over a grid of ``patience`` × ``min_delta``: one row per pair with
    ``stop_step`` (the last step when it never stops), ``stopped``, ``best_step``,
    ``kept_valid_loss``, ``steps_saved`` and ``tokens_saved``. The run is read once; each cell is a
    replay over the (few) evaluations only, so a 10 × 10 grid takes milliseconds.
    Draw it with :func:`ftlab.plot_sweep`.
    """
    import pandas as pd

    facts = _RunFacts(run, metric, smoothing)
    rows = []
    for d in min_delta:
        for p in patience:
            r = facts.replay(patience=int(p), min_delta=float(d), mode=mode, flavor=flavor, **options)
            rows.append({"patience": int(p), "min_delta": float(d),
                         "stop_step": r.last_step if r.stop_step is None else r.stop_step,
                         "stopped": r.stop_step is not None, "best_step": r.best_step,
                         "kept_valid_loss": r.kept_valid_loss, "steps_saved": r.steps_saved,
                         "tokens_saved": r.tokens_saved})
    return pd.DataFrame(rows)
