"""Fine-tune a tiny model (``TinyLM`` or ``TinyTransformer``) on chat records with the knobs of a
hosted fine-tuning service.

``finetune(model, train, valid, n_epochs=3, batch_size=4, learning_rate_multiplier=1.0, seed=0)``
(the MLP's defaults) does what a hosted job does, on your CPU:

- each epoch shuffles the training examples (by ``seed``) and cuts them into batches of
  ``batch_size`` examples; one optimiser step per batch, so ``steps per epoch = ceil(n / batch)``;
- the loss of a step is the mean cross-entropy over the batch's **assistant tokens** (weight-0
  replies and prompts masked with ``ignore_index``); Adam with learning rate
  ``BASE_LEARNING_RATE × learning_rate_multiplier``, gradients clipped to norm 1; with
  ``lr_schedule="linear"`` the rate falls in a straight line from there towards 0 over the
  planned steps (Hugging Face Trainer's default schedule), with ``"constant"`` it stays;
- every ``eval_every`` steps the loss on a random sample of validation examples
  (``valid_loss``, ``valid_accuracy``), and at each epoch end on the whole validation set
  (``full_valid_loss``, ``full_valid_accuracy``) plus a checkpoint of the weights, kept in memory;
- callbacks see every step and may stop training (``EarlyStopping`` below).

The MLP learns from each assistant token's 16-character context; the transformer
(``reads_whole_sequences``) reads each example whole, padded to the longest in its batch, with the
same tokens counted, each batch placed at a random position of its context
(``shifts_positions``). A model may bring its own ``base_learning_rate`` and
``default_hyperparameters(n_examples)`` (the hyperparameters used when a call leaves them out,
which may depend on the size of the data, as a hosted service's "auto" settings do).

The result is a ``Run`` in the same shape as a recorded OpenAI job, so ``plot_runs``, ``diagnose``
and the early-stopping tools work on it.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ftlab.tinylm.optim import Adam, clip_gradients, one_blas_thread
from ftlab.tinylm.sequences import pad_batch, shift, windows
from ftlab.tinylm.text import IGNORE_INDEX, contexts, render_chat

BASE_LEARNING_RATE = 2e-3  # the MLP's; a model may set its own base_learning_rate
DEFAULTS = {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.0,
            "lr_schedule": "constant"}
LR_SCHEDULES = ("constant", "linear")
MAX_GRAD_NORM = 1.0
SCORE_TOKENS = 4096  # positions per forward pass when scoring whole sequences


@dataclass
class TrainingState:
    """What a callback sees after each step. Set ``stop_training = True`` to end training."""

    model: object
    step: int
    epoch: int
    total_steps: int
    metrics: dict
    history: list
    stop_training: bool = False


class EarlyStopping:
    """Stop fine-tuning when ``monitor`` stops improving, by ``ftlab.simulate_early_stopping``'s rule.

    The rule is Keras's: an evaluation improves when ``value + min_delta < best``; after
    ``patience`` evaluations in a row without improvement training stops. ``monitor`` is
    ``"full_valid_loss"`` (whole validation set, once per epoch) or ``"valid_loss"`` (a
    validation sample every ``eval_every`` steps). Use with ``restore_best=True`` to keep the
    best epoch's weights.
    """

    def __init__(self, patience=1, min_delta=0.0, monitor="full_valid_loss"):
        if monitor not in ("full_valid_loss", "valid_loss"):
            raise ValueError(f"monitor must be 'full_valid_loss' or 'valid_loss', got {monitor!r}")
        self.patience, self.min_delta, self.monitor = patience, min_delta, monitor
        self.values, self.steps, self.stopped_step = [], [], None

    def __call__(self, state):
        from ftlab.curves.early_stopping import simulate_early_stopping

        value = state.metrics.get(self.monitor, math.nan)
        if value is None or not math.isfinite(value):
            return
        self.values.append(float(value))
        self.steps.append(state.step)
        result = simulate_early_stopping(self.values, patience=self.patience,
                                         min_delta=self.min_delta)
        if result.stopped_index is not None:
            state.stop_training = True
            self.stopped_step = state.step


@dataclass
class _Examples:
    """Chat records rendered once. Per example, for the MLP: the context matrix and the targets
    of its assistant tokens; for a sequence model: its (inputs, targets) windows."""

    ctx: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    sequences: bool = False

    @classmethod
    def of(cls, records, context_size, what, *, sequences=False):
        if records is None:
            return None
        records = list(records)
        if not records:
            raise ValueError(f"{what} has no examples")
        ex = cls(sequences=sequences)
        for i, record in enumerate(records):
            tokens, targets = render_chat(record, where=f"{what} example {i}")
            if sequences:
                pieces = windows(*shift(tokens, targets), context_size)
                ex.ctx.append(pieces)
                ex.targets.append(np.concatenate([y[y != IGNORE_INDEX] for _, y in pieces])
                                  if pieces else targets[:0])
                continue
            # Rows whose target is ignored add exactly 0 to the loss and its gradient, so they
            # need no forward pass: keep only the assistant tokens (about half of a chat).
            counted = targets != IGNORE_INDEX
            ex.ctx.append(contexts(tokens, context_size)[counted])
            ex.targets.append(targets[counted])
        if not any(len(t) for t in ex.targets):
            raise ValueError(f"{what}: no example has an assistant reply to train on "
                             "(every assistant message is missing or has weight 0)")
        return ex

    def __len__(self):
        return len(self.ctx)

    def batch(self, indices):
        """Model inputs and targets of some examples: stacked context rows for the MLP; for a
        sequence model their windows padded into one (B, T) matrix (None if none has any)."""
        if self.sequences:
            pieces = [w for i in indices for w in self.ctx[i]]
            if not pieces:  # only weight-0 replies: nothing to compute
                return None, np.empty(0, dtype=np.int64)
            return pad_batch(pieces)
        return (np.concatenate([self.ctx[i] for i in indices]),
                np.concatenate([self.targets[i] for i in indices]))

    def n_tokens(self, indices):
        return sum(len(self.targets[i]) for i in indices)


def _counted(logits, targets):
    """The logits rows and targets the loss counts (all of them for the MLP's batches)."""
    keep = targets != IGNORE_INDEX
    if keep.all():
        return logits.reshape(-1, logits.shape[-1]), targets.ravel()
    return logits[keep], targets[keep]


def _score(model, examples, indices):
    """Loss and token accuracy over the assistant tokens of some examples (no training)."""
    from ftlab.losses import cross_entropy

    indices = list(indices)
    if not examples.sequences:
        ctx, targets = examples.batch(indices)
        if not len(targets):  # only weight-0 replies in this sample
            return math.nan, math.nan
        logits, _ = model.forward(ctx)
        return (float(cross_entropy(logits, targets)),
                float((logits.argmax(axis=1) == targets).mean()))
    total, hits, n, chunk = 0.0, 0, 0, []
    for k, i in enumerate(indices):  # a few examples per forward pass: bounded memory
        chunk.append(i)
        size = sum(len(x) for j in chunk for x, _ in examples.ctx[j])
        if size >= SCORE_TOKENS or k == len(indices) - 1:
            tokens, targets = examples.batch(chunk)
            chunk = []
            if tokens is None:
                continue
            logits, y = _counted(model.counted_logits(tokens, targets), targets)
            total += float(cross_entropy(logits, y, reduction="sum"))
            hits += int((logits.argmax(axis=1) == y).sum())
            n += len(y)
    return (total / n, hits / n) if n else (math.nan, math.nan)


def _whole(x, low):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= low


def _check_hyperparameters(n_epochs, batch_size, learning_rate_multiplier, eval_every,
                           lr_schedule):
    if not _whole(n_epochs, 1) or n_epochs > 1000:
        raise ValueError(f"n_epochs must be a whole number from 1 to 1000, got {n_epochs!r}")
    if not _whole(batch_size, 1):
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    if not isinstance(learning_rate_multiplier, (int, float, np.number)) or \
            not 0 < learning_rate_multiplier < math.inf:
        raise ValueError(f"learning_rate_multiplier must be a number > 0, got "
                         f"{learning_rate_multiplier!r}")
    if eval_every is not None and not _whole(eval_every, 1):
        raise ValueError(f"eval_every must be a positive whole number or None, got {eval_every!r}")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {', '.join(map(repr, LR_SCHEDULES))}, got "
                         f"{lr_schedule!r}")


def learning_rate_at(step, total_steps, peak, schedule):
    """The learning rate of optimiser step ``step`` (0, 1, ...) of ``total_steps``.

    >>> [learning_rate_at(s, 4, 1.0, "linear") for s in range(4)]
    [1.0, 0.75, 0.5, 0.25]
    """
    return peak * (total_steps - step) / total_steps if schedule == "linear" else peak


def finetune(model, train, valid=None, *, n_epochs=None, batch_size=None,
             learning_rate_multiplier=None, lr_schedule=None, seed=0, eval_every=None,
             valid_sample_size=None, callbacks=None, progress=True, restore_best=False,
             name=None):
    """Fine-tune ``model`` in place on chat records ``train``; returns a ``Run``.

    ``n_epochs``, ``batch_size``, ``learning_rate_multiplier`` and ``lr_schedule``
    (``"constant"`` or ``"linear"``) left as None take the model's
    ``default_hyperparameters(len(train))`` (the MLP's: 3 epochs, batch 4, multiplier 1.0,
    constant).

    ``valid`` (chat records) adds ``valid_loss``/``valid_accuracy`` on a sample of
    ``valid_sample_size`` examples (default: ``max(batch_size, 8)``) every ``eval_every`` steps
    (default: about 4 times per epoch) and ``full_valid_*`` on all of them at each epoch end.
    ``restore_best=True`` leaves the model with the epoch checkpoint of lowest full validation
    loss instead of the last weights. The same seed gives the same run.
    """
    start_time = time.perf_counter()
    c = model.config.context_size
    sequences = bool(getattr(model, "reads_whole_sequences", False))
    train_ex = _Examples.of(train, c, "train", sequences=sequences)
    valid_ex = _Examples.of(valid, c, "valid", sequences=sequences)
    defaults = model.default_hyperparameters(len(train_ex))
    n_epochs = defaults["n_epochs"] if n_epochs is None else n_epochs
    batch_size = defaults["batch_size"] if batch_size is None else batch_size
    if learning_rate_multiplier is None:
        learning_rate_multiplier = defaults["learning_rate_multiplier"]
    lr_schedule = defaults["lr_schedule"] if lr_schedule is None else lr_schedule
    _check_hyperparameters(n_epochs, batch_size, learning_rate_multiplier, eval_every,
                           lr_schedule)
    n = len(train_ex)
    batch_size = min(int(batch_size), n)
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = steps_per_epoch * int(n_epochs)
    eval_every = int(eval_every or max(1, steps_per_epoch // 4))
    sample_size = min(len(valid_ex), valid_sample_size or max(batch_size, 8)) if valid_ex else 0
    peak_lr = getattr(model, "base_learning_rate", BASE_LEARNING_RATE) * learning_rate_multiplier
    shuffle_rng = np.random.default_rng([seed, 0])  # two streams: evaluating more or less often
    valid_rng = np.random.default_rng([seed, 1])  # must not change which batches training sees
    # a third for models that start each batch at a random position (see _train_step)
    offset_rng = np.random.default_rng([seed, 2]) if getattr(model, "shifts_positions", False) \
        else None
    optimizer = Adam(model.params, lr=peak_lr)
    callbacks = list(callbacks or [])
    if valid_ex is None and any(isinstance(cb, EarlyStopping) for cb in callbacks):
        raise ValueError("EarlyStopping watches the validation loss: pass valid=... records too")
    history, checkpoints, tokens_seen = [], [], 0
    model.checkpoints = checkpoints

    bar = _progress_bar(total_steps, progress)
    step, stopped = 0, False
    with one_blas_thread():
        for epoch in range(1, int(n_epochs) + 1):
            order = shuffle_rng.permutation(n)
            for b in range(steps_per_epoch):
                step += 1
                picked = order[b * batch_size:(b + 1) * batch_size]
                batch = train_ex.batch(picked)
                optimizer.lr = learning_rate_at(step - 1, total_steps, peak_lr, lr_schedule)
                # epochs done, as Hugging Face logs it: 1.0 at the end of the first epoch
                row = {"step": step, "epoch": step / steps_per_epoch,
                       **_train_step(model, optimizer, *batch, offset_rng)}
                tokens_seen += train_ex.n_tokens(picked)
                row["elapsed_tokens"] = tokens_seen
                row["learning_rate"] = optimizer.lr
                epoch_end = b == steps_per_epoch - 1
                if valid_ex is not None and (step % eval_every == 0 or epoch_end):
                    pick = valid_rng.choice(len(valid_ex), size=sample_size, replace=False)
                    row["valid_loss"], row["valid_accuracy"] = _score(model, valid_ex, np.sort(pick))
                history.append(row)
                state = TrainingState(model, step, epoch, total_steps, row, history)
                if epoch_end:
                    _end_of_epoch(model, valid_ex, row, checkpoints)
                for callback in callbacks:
                    callback(state)
                stopped = state.stop_training
                if stopped and not epoch_end:  # a stopped job still reports its final weights
                    _end_of_epoch(model, valid_ex, row, checkpoints)
                bar.update(1)
                bar.set_postfix(loss=f"{row['train_loss']:.3f}", epoch=epoch)
                if stopped:
                    break
            if stopped:
                break
        _close_bar(bar, stopped)

    best = None
    if checkpoints and valid_ex is not None:
        best = min(checkpoints, key=lambda ck: ck["full_valid_loss"])
        if restore_best:
            model.params = {k: v.copy() for k, v in best["params"].items()}
    meta = {
        "format": "tinylm",
        "name": name or f"tinylm {n_epochs} epochs, batch {batch_size}, lr×{learning_rate_multiplier:g}",
        "model": model.info.get("name", "tinylm-attn" if sequences else "tinylm"),
        "hyperparameters": {"n_epochs": int(n_epochs), "batch_size": batch_size,
                            "learning_rate_multiplier": learning_rate_multiplier,
                            "lr_schedule": lr_schedule},
        "learning_rate": peak_lr, "seed": seed, "n_train_examples": n,
        "n_valid_examples": len(valid_ex) if valid_ex else 0, "valid_sample_size": sample_size,
        "eval_every": eval_every, "steps_per_epoch": steps_per_epoch, "total_steps": step,
        "planned_steps": total_steps, "trained_tokens": tokens_seen,
        "checkpoints": [ck["step"] for ck in checkpoints],
        "best_checkpoint_step": best["step"] if best else None,
        "restored_best": bool(restore_best and best),
        "stopped_early_at": step if stopped else None,
        "wall_time_s": round(time.perf_counter() - start_time, 3),
    }
    model.info.setdefault("finetuned", []).append({k: meta[k] for k in (
        "name", "hyperparameters", "n_train_examples", "total_steps")})
    return _make_run(history, meta)


def _train_step(model, optimizer, ctx, targets, offset_rng=None):
    """One optimiser step on a batch; the metrics a results file records for it.

    With ``offset_rng`` the batch starts at a random position of the context instead of 0
    (randomised positions, Ruoss et al. 2023): learned position embeddings only learn the
    positions they are trained at, and a reply that a longer message pushes further along
    should not meet untrained ones.
    """
    if ctx is None or not (targets != IGNORE_INDEX).any():  # only weight-0 examples: nothing
        return {"train_loss": math.nan, "train_accuracy": math.nan}  # to learn from
    kwargs = {}
    if offset_rng is not None:
        kwargs["offset"] = int(offset_rng.integers(0, model.config.context_size - ctx.shape[1] + 1))
    loss, grads, logits = model.loss_and_grads(ctx, targets, **kwargs)
    grad_norm = clip_gradients(grads, MAX_GRAD_NORM)
    optimizer.step(model.params, grads)
    logits, targets = _counted(logits, targets)
    return {"train_loss": loss, "train_accuracy": float((logits.argmax(axis=1) == targets).mean()),
            "grad_norm": grad_norm}


def _end_of_epoch(model, valid_ex, row, checkpoints):
    checkpoint = {"step": row["step"], "epoch": math.ceil(row["epoch"]),
                  "params": {k: v.copy() for k, v in model.params.items()}}
    if valid_ex is not None:
        loss, acc = _score(model, valid_ex, range(len(valid_ex)))
        row["full_valid_loss"], row["full_valid_accuracy"] = loss, acc
        checkpoint["full_valid_loss"] = loss
    checkpoints.append(checkpoint)


def _progress_bar(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="fine-tuning", unit="step", leave=False)


def _close_bar(bar, stopped):
    """Close the bar as finished. A job stopped early (a callback, early stopping) did all it was
    going to do: its bar ends complete with a note, not red at 30% like a job that crashed
    (a notebook's bar turns red when closed short of its total)."""
    if stopped and not bar.disable and bar.n < bar.total:
        done, planned, started = bar.n, bar.total, bar.start_t
        bar.reset(total=done)  # a notebook bar's length is only set here
        bar.start_t = started  # keep the elapsed time and rate
        bar.set_description(f"fine-tuning stopped early at step {done} of {planned}",
                            refresh=False)
        bar.update(done)
    bar.close()


def _make_run(history, meta):
    import pandas as pd

    from ftlab.runs.run import Run

    metrics = pd.DataFrame(history).set_index("step")
    return Run(metrics, meta)
