"""A fine-tuning run as one tidy object: a metrics table indexed by step, plus what is known.

Every source a learner may have -- an OpenAI results CSV (raw or base64), the job's events, a
printed event log, checkpoints, a legacy ``compiled_results.csv``, a Hugging Face
``trainer_state.json`` or any table of steps and losses -- goes through :func:`load_run` and comes
out as a :class:`Run`. Plots, diagnoses and widgets accept only ``Run``, so a real OpenAI job and a
tiny CPU model look the same to them.

>>> run = load_run("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\\n"
...                "1,2.0,0.5,,\\n2,1.5,0.6,1.8,0.55\\n")
>>> run.format, run.n_steps, float(run.metrics.loc[2, "valid_loss"])
('openai_csv', 2, 1.8)
"""

import json
import math

import numpy as np
import pandas as pd

from ftlab._report import plural
from ftlab._files import atomic_write

from ftlab.runs.formats import CANONICAL  # the columns every Run has, in order
from ftlab.runs.formats import FTLAB_HEADER  # ftlab's run format: "# ftlab run {meta}" then CSV
LOSSES = ("train_loss", "valid_loss", "full_valid_loss")


# The results-file layout OpenAI's fine-tuning API writes (and its dashboard downloads).
OPENAI_CSV_COLUMNS = {"train_loss": "train_loss", "train_accuracy": "train_accuracy",
                      "valid_loss": "valid_loss", "valid_accuracy": "valid_mean_token_accuracy"}


class Run:
    """Metrics of one fine-tuning run (``metrics``) and what the source said about it (``meta``).

    ``metrics`` is a DataFrame indexed by the integer ``step`` (sorted, unique, >= 0) with the
    canonical columns ``train_loss, train_accuracy, valid_loss, valid_accuracy, full_valid_loss,
    full_valid_accuracy, epoch`` (NaN where not recorded) followed by any extra columns of the
    source (``grad_norm``, ``elapsed_tokens``, ...). ``meta`` is a plain dict with at least
    ``format`` and ``name``; JSON-compatible, so a saved run reads back unchanged.

    >>> run = Run(pd.DataFrame({"train_loss": [2.0, 1.0]}, index=[1, 2]), name="demo")
    >>> run
    Run 'demo' (table): 2 steps, 1..2
      metrics: train_loss
      train loss: 2 (step 1) -> 1 (step 2)
      validation: none recorded
    """

    def __init__(self, metrics, meta=None, *, name=None, format=None):
        meta = dict(meta or {})
        if name is not None:
            meta["name"] = name
        if format is not None:
            meta["format"] = format
        meta.setdefault("format", "table")
        meta.setdefault("name", "run")
        self.metrics = _tidy(metrics, meta["name"])
        self.meta = _jsonable(meta)
        _derive_epoch(self)

    # ------------------------------------------------------------------ what it is
    @property
    def name(self):
        return self.meta["name"]

    @property
    def format(self):
        return self.meta["format"]

    @property
    def steps(self):
        """The recorded step numbers (numpy int array)."""
        return self.metrics.index.to_numpy()

    @property
    def n_steps(self):
        """How many steps have a row (a log with gaps has fewer than its last step)."""
        return len(self.metrics)

    def __len__(self):
        return len(self.metrics)

    @property
    def has_validation(self):
        """True when any validation loss (per-step or full) was recorded."""
        m = self.metrics
        return bool(m["valid_loss"].notna().any() or m["full_valid_loss"].notna().any())

    def recorded(self):
        """Names of the columns holding at least one value (canonical first, then extras)."""
        return [c for c in self.metrics.columns if self.metrics[c].notna().any()]

    def best_valid(self, column="valid_loss"):
        """``(step, loss)`` of the lowest validation loss, or ``None`` when none was recorded.

        >>> Run(pd.DataFrame({"valid_loss": [1.0, 0.5, 0.7]}, index=[1, 2, 3])).best_valid()
        (2, 0.5)
        """
        col = self.metrics[column].dropna()
        if col.empty:
            return None
        step = int(col.idxmin())
        return step, float(col[step])

    def __repr__(self):
        m = self.metrics
        head = f"Run {self.name!r} ({self.format}): {plural(self.n_steps, 'step')}"
        if self.n_steps:
            missing = self.meta.get("missing_steps") or []
            head += f", {m.index[0]}..{m.index[-1]}" + (f", {len(missing)} missing"
                                                         if missing else "")
        lines = [head, "  metrics: " + (", ".join(self.recorded()) or "none")]
        train = m["train_loss"].dropna()
        if len(train):
            lines.append(f"  train loss: {train.iloc[0]:.4g} (step {train.index[0]}) -> "
                         f"{train.iloc[-1]:.4g} (step {train.index[-1]})")
        valid = m["valid_loss"].dropna()
        if len(valid):
            step, best = self.best_valid()
            lines.append(f"  valid loss: last {valid.iloc[-1]:.4g} (step {valid.index[-1]}), "
                         f"best {best:.4g} (step {step})")
        full = m["full_valid_loss"].dropna()
        if len(full):
            lines.append(f"  full valid loss: {full.iloc[-1]:.4g} (step {full.index[-1]})")
        if not len(valid) and not len(full):
            lines.append("  validation: none recorded")
        return "\n".join(lines)

    # ------------------------------------------------------------------ derived views
    def copy(self):
        return Run(self.metrics.copy(), json.loads(json.dumps(self.meta)))

    def with_perplexity(self):
        """A copy with ``train_perplexity``, ``valid_perplexity`` and ``full_valid_perplexity``
        (e^loss, NaN where the loss is NaN) added after the canonical columns.

        >>> r = Run(pd.DataFrame({"train_loss": [0.0, math.log(4)]}, index=[1, 2]))
        >>> r.with_perplexity().metrics["train_perplexity"].round(6).tolist()
        [1.0, 4.0]
        """
        from ftlab.losses import perplexity

        out = self.copy()
        for loss in LOSSES:
            values = out.metrics[loss].to_numpy(dtype=float)
            out.metrics[loss.replace("_loss", "_perplexity")] = np.asarray(perplexity(values))
        return out

    def epochs(self):
        """One row per epoch: its steps, mean training loss and accuracy, and the last validation
        numbers recorded in it. Needs the ``epoch`` column (known from the source, or derived from
        ``meta`` ``steps_per_epoch`` / ``n_epochs``).

        >>> r = Run(pd.DataFrame({"train_loss": [3.0, 1.0, 2.0, 0.0]}, index=[1, 2, 3, 4]),
        ...         {"n_epochs": 2})
        >>> r.epochs()["train_loss"].tolist()
        [2.0, 1.0]
        """
        m = self.metrics
        if m["epoch"].isna().all():
            raise ValueError(
                f"run {self.name!r}: the epoch of each step is unknown. Give the number of epochs "
                "when loading, e.g. load_run(path, meta={'n_epochs': 3}), or "
                "meta={'steps_per_epoch': 555}.")
        # Step s belongs to epoch ceil(epoch value): epoch 1.0 is the last step of epoch 1.
        number = np.ceil(m["epoch"].to_numpy() - 1e-9).clip(min=1)
        groups = m.assign(_epoch=number).dropna(subset=["_epoch"]).reset_index().groupby("_epoch")
        table = pd.DataFrame({
            "first_step": groups["step"].min(),
            "last_step": groups["step"].max(),
            "steps": groups.size(),
            "train_loss": groups["train_loss"].mean(),
            "train_accuracy": groups["train_accuracy"].mean(),
            "valid_loss": groups["valid_loss"].agg(_last),
            "valid_accuracy": groups["valid_accuracy"].agg(_last),
            "full_valid_loss": groups["full_valid_loss"].agg(_last),
        })
        table.index = table.index.astype(int)
        table.index.name = "epoch"
        return table

    # ------------------------------------------------------------------ writing
    def to_openai_csv(self, path=None, *, overwrite=False):
        """Write (or, with no path, return) the metrics in OpenAI's results-file layout:
        ``step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy``, empty cells where
        nothing was recorded. ``full_valid_*`` have no column there and are left out.

        >>> print(Run(pd.DataFrame({"train_loss": [1.5]}, index=[7])).to_openai_csv(), end="")
        step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy
        7,1.5,,,
        """
        table = self.metrics[list(OPENAI_CSV_COLUMNS)].rename(columns=OPENAI_CSV_COLUMNS)
        text = table.to_csv(lineterminator="\n")
        if path is None:
            return text
        return _write_atomic(path, text, overwrite)

    def to_events(self, *, start_time=None):
        """The run as OpenAI fine-tuning events, newest first, as ``list_events(...).data`` gives
        them: one ``metrics`` event per step (message rounded to 2 decimals as the API prints it,
        exact numbers in ``data``) and a message event per checkpoint in ``meta``. Event times are
        not part of a run's metrics: pass ``start_time`` to stamp step k at ``start_time + k``.

        >>> run = Run(pd.DataFrame({"train_loss": [2.0, 1.25]}, index=[1, 2]), {"total_steps": 2})
        >>> [e["message"] for e in run.to_events()]
        ['Step 2/2: training loss=1.25', 'Step 1/2: training loss=2.00']
        """
        total = int(self.meta.get("total_steps") or (self.steps[-1] if self.n_steps else 0))
        events = []
        for step, row in self.metrics.iterrows():
            data = {"step": int(step), "total_steps": total}
            for column, key in _EVENT_FIELDS:
                if not np.isnan(row[column]):
                    data[key] = float(row[column])
            parts = [f"{words}={data[column]:.2f}" for column, words in (
                ("train_loss", "training loss"), ("valid_loss", "validation loss"),
                ("full_valid_loss", "full validation loss")) if column in data]
            message = f"Step {step}/{total}: " + ", ".join(parts)
            events.append(_event(f"ftevent-{self.name}-step-{step}", step, start_time, message,
                                 "metrics", data))
        for step in self.meta.get("checkpoints") or []:
            events.append(_event(f"ftevent-{self.name}-ckpt-{step}", step, start_time,
                                 f"Checkpoint created at step {step}", "message", {}))
        order = sorted(range(len(events)), key=lambda i: (events[i]["_step"], i), reverse=True)
        return [{k: v for k, v in events[i].items() if k != "_step"} for i in order]

    def to_text(self):
        """ftlab's own run format: ``# ftlab run {meta as JSON}`` then the metrics as CSV.
        Lossless: :func:`load_run` reads back exactly the same numbers and meta."""
        header = FTLAB_HEADER + json.dumps(self.meta, ensure_ascii=False, sort_keys=True)
        return header + "\n" + self.metrics.to_csv(lineterminator="\n")

    def save(self, path, *, overwrite=False):
        """Save in ftlab's run format (see :meth:`to_text`); refuses to replace an existing file
        unless ``overwrite=True``. Returns the path."""
        return _write_atomic(path, self.to_text(), overwrite)

    # ------------------------------------------------------------------ analysis
    def early_stopping(self, metric="valid_loss", **options):
        """Where early stopping would have stopped this run; see
        :func:`ftlab.curves.early_stopping.run_early_stopping` for the options (patience, min_delta,
        flavor, ...)."""
        from ftlab.curves.run_stopping import run_early_stopping

        return run_early_stopping(self, metric, **options)


_EVENT_FIELDS = (("train_loss", "train_loss"), ("train_accuracy", "train_mean_token_accuracy"),
                 ("valid_loss", "valid_loss"), ("valid_accuracy", "valid_mean_token_accuracy"),
                 ("full_valid_loss", "full_valid_loss"),
                 ("full_valid_accuracy", "full_valid_mean_token_accuracy"))


def _event(event_id, step, start_time, message, kind, data):
    event = {"object": "fine_tuning.job.event", "id": event_id, "level": "info",
             "message": message, "type": kind, "data": data, "_step": int(step)}
    if start_time is not None:
        event["created_at"] = int(start_time) + int(step)
    return event


def _last(series):
    series = series.dropna()
    return series.iloc[-1] if len(series) else np.nan


# ---------------------------------------------------------------------------- checks and tidying


def _tidy(metrics, name):
    """Validate a metrics table and put it in canonical shape (a new DataFrame)."""
    if not isinstance(metrics, pd.DataFrame):
        raise ValueError(f"run {name!r}: metrics must be a pandas DataFrame, got "
                         f"{type(metrics).__name__}")
    index = metrics.index
    if len(index) and not pd.api.types.is_integer_dtype(index.dtype):
        as_float = pd.to_numeric(pd.Series(index), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
        if bad.any():
            raise ValueError(f"run {name!r}: step {index[int(np.argmax(bad))]!r} is not a whole "
                             "number; steps must be integers 0, 1, 2, ...")
        index = as_float.astype(np.int64)
    index = pd.Index(np.asarray(index, dtype=np.int64), name="step")
    if len(index) and index.min() < 0:
        raise ValueError(f"run {name!r}: step {index.min()} is negative; steps count from 0 or 1")
    if not index.is_monotonic_increasing or not index.is_unique:
        if index.has_duplicates:
            dup = index[index.duplicated()][0]
            raise ValueError(f"run {name!r}: step {dup} appears more than once; each step needs "
                             "exactly one row (merge or drop the duplicates)")
        order = np.argsort(index.to_numpy(), kind="stable")
        metrics, index = metrics.iloc[order], index[order]
    if _is_canonical(metrics):  # what the readers return: only the copy is left to do
        return metrics.copy()
    # Build the canonical table in one go (column by column inserts are slow in pandas).
    columns = {}
    for col in CANONICAL:
        if col not in metrics.columns:
            columns[col] = np.full(len(index), np.nan)
            continue
        values = metrics[col]
        if not pd.api.types.is_float_dtype(values.dtype):
            try:
                values = pd.to_numeric(values, errors="raise").astype(np.float64)
            except (ValueError, TypeError):
                numbers = pd.to_numeric(values, errors="coerce")
                pos = int(np.argmax((numbers.isna() & values.notna()).to_numpy()))
                raise ValueError(f"run {name!r}: {col} at step {index[pos]} is "
                                 f"{values.iloc[pos]!r}, not a number") from None
        columns[col] = values.to_numpy(dtype=np.float64, copy=True)
    for col in metrics.columns:
        if col not in columns:
            columns[col] = metrics[col].to_numpy(copy=True)
    return pd.DataFrame(columns, index=index)


def _is_canonical(metrics):
    """Canonical columns first and float64, steps int64, named, increasing and unique."""
    index, n = metrics.index, len(CANONICAL)
    return (tuple(metrics.columns[:n]) == CANONICAL
            and all(dtype == np.float64 for dtype in metrics.dtypes.to_numpy()[:n])
            and index.dtype == np.int64 and index.name == "step"
            and index.is_monotonic_increasing and index.is_unique)


def _derive_epoch(run):
    """Fill the ``epoch`` column from steps per epoch when the source did not give it: from
    ``steps_per_epoch``, else ceil(``n_train_examples`` / ``batch_size``), else ``total_steps`` /
    ``n_epochs`` when that divides exactly. Step s then sits at epoch s / steps_per_epoch."""
    meta, m = run.meta, run.metrics
    if not len(m) or not np.isnan(m["epoch"].to_numpy()).all():
        return
    spe = _count(meta.get("steps_per_epoch"))
    examples, batch = _count(meta.get("n_train_examples")), _count(meta.get("batch_size"))
    n_epochs = _count(meta.get("n_epochs"))
    if not spe and examples and batch:
        spe = -(-examples // batch)
    if not spe and n_epochs:
        total = _count(meta.get("total_steps")) or int(m.index[-1])
        if total % n_epochs == 0:
            spe = total // n_epochs
        else:
            _note(meta, f"{total} steps is not a whole number of steps per epoch for "
                        f"n_epochs={n_epochs}; epochs not derived")
    if spe:
        meta["steps_per_epoch"] = spe
        m["epoch"] = m.index.to_numpy() / spe


def _count(value):
    """A positive whole number from meta, or None (missing, "auto", nonsense)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value > 0 and float(value).is_integer() else None


def _note(meta, text):
    notes = meta.setdefault("notes", [])
    if text not in notes:
        notes.append(text)


def _jsonable(value):
    """Meta must survive a JSON round trip: numpy scalars become Python numbers, tuples lists."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _write_atomic(path, text, overwrite):
    return atomic_write(path, lambda f: f.write(text), overwrite=overwrite, newline="")


def load_run(source, *, format=None, name=None, column_map=None, meta=None):
    """Read a fine-tuning run from whatever the job left behind, and return a :class:`Run`.

    ``source`` may be a path, the text or bytes of a file, a pandas DataFrame, a list of event
    dicts or OpenAI SDK objects, or a dict (a ``trainer_state.json``, or a page of events or
    checkpoints). ``format=None`` recognises the content; otherwise one of
    ``ftlab.runs.formats.FORMATS``. ``column_map`` renames a table's columns to canonical names
    (``{"my_loss": "train_loss"}``). ``meta`` adds what the source cannot tell (``n_epochs``,
    ``model``...), used e.g. to derive each step's epoch. Bad input raises ``ValueError`` naming the
    source, the row or line, and what was expected.

    >>> load_run([{"type": "metrics", "data": {"step": 1, "train_loss": 2.5}}]).metrics.train_loss
    step
    1    2.5
    Name: train_loss, dtype: float64
    """
    from ftlab.runs.readers import read_source

    if isinstance(source, Run):  # already read: a copy, with any name or meta given here
        metrics, info = source.metrics, json.loads(json.dumps(source.meta))
    else:
        metrics, info = read_source(source, format=format, column_map=column_map)
    info = {**info, **(meta or {})}
    if name is not None:
        info["name"] = name
    return Run(metrics, info)
