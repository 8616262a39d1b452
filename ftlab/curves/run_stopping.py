"""Early stopping on a :class:`ftlab.Run`, in steps: which checkpoints existed, where each
library would have stopped and which model it would keep, what that saves, and a sweep.

:func:`run_early_stopping` replays :func:`~ftlab.curves.early_stopping.simulate_early_stopping` on
a run's evaluations and adds steps, tokens and the loss you would keep; with ``flavor="hf"`` the
kept model must be a checkpoint the run's real save schedule wrote (:func:`hf_saved_steps`).
:func:`sweep_early_stopping` does it over a grid of patience × min_delta.

How to judge ``min_delta`` is in :mod:`ftlab.curves.min_delta`; what choosing on a validation set
costs, in :mod:`ftlab.curves.selection`.
"""

import re
from dataclasses import dataclass, field

import numpy as np

from ftlab._report import plural
from ftlab.curves.early_stopping import StopResult, simulate_early_stopping


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
            lines.append(f"saves {self.steps_saved:,} of {plural(self.last_step, 'step')}"
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
