"""Readers of tabular logs: any CSV or DataFrame of steps, OpenAI's results CSV, the legacy
``compiled_results.csv``, ftlab's own run format, Hugging Face ``trainer_state.json`` (whose
``log_history`` is a table written as JSON), Azure OpenAI's ``results.csv`` (``-1`` = not
recorded), and summary-only JSON files. Each returns ``(metrics, meta)``.

>>> metrics, meta = read_table("iteration,loss\\n0,2.5\\n10,1.5\\n", "demo")
>>> metrics["train_loss"].tolist(), meta["format"]
([2.5, 1.5], 'table')
"""

import csv
import io
import json
import warnings

import numpy as np
import pandas as pd

from ftlab.runs.formats import (CANONICAL, FTLAB_HEADER, LEGACY_MAP, LOSS_COLUMNS,
                                OPENAI_CSV_MAP, STEP_NAMES, TABLE_ALIASES, fail)

# pandas 3 parses floats exactly by default (and deprecates the option); older pandas needs it.
EXACT_FLOATS = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def read_table(content, label, column_map=None, rename=None, fmt="table", header_line=1):
    """A CSV text or DataFrame with a step column -> metrics indexed by step. ``header_line``:
    where the CSV's header is in the file (errors name the file's own line numbers)."""
    if isinstance(content, str):
        table = _read_csv(content, label, empty_ok=fmt == "ftlab")  # a saved run may have no steps
        first_row = header_line + 1  # line number of the first data row
    elif isinstance(content, pd.DataFrame):
        table, first_row = content.copy(), None
    elif isinstance(content, list) and all(isinstance(row, dict) for row in content):
        table, first_row = pd.DataFrame(content), None  # records: one dict per step
    else:
        raise fail(label, f"is a {type(content).__name__}, not a table of steps")
    names = [str(c).strip() for c in table.columns]
    mapping = {src: dst for src, dst in (rename or {}).items() if src in names}
    if column_map:
        missing = [c for c in column_map if c not in names]
        if missing:
            raise fail(label, f"column_map names {missing}, which are not columns "
                              f"(columns: {', '.join(names)})")
        mapping.update(column_map)
    if fmt == "table":
        for col in names:
            if col not in mapping and col.lower() in TABLE_ALIASES:
                mapping[col] = TABLE_ALIASES[col.lower()]
    step_col = _step_column(names, mapping, label)
    mapping.pop(step_col, None)  # the step column becomes the index, under its own name
    renamed = [mapping.get(c, c) for c in names]
    twice = sorted({c for c in renamed if renamed.count(c) > 1})
    if twice:
        raise fail(label, f"several columns would be called {twice}",
                   "Pass column_map= to say which is which")
    if fmt == "table" and not set(renamed) & set(LOSS_COLUMNS):
        raise fail(label, f"has no loss column (columns: {', '.join(names)})",
                   "Name them with column_map={'your_column': 'train_loss'}")
    # One pass over the columns into one float block for the canonical columns (first, float64:
    # a Run takes the table as it is, no second pass) and arrays for the rest.
    block, extras, steps = np.full((len(table), len(CANONICAL)), np.nan), {}, None
    for src, dst, (_, column) in zip(names, renamed, table.items()):
        if src == step_col:
            steps = _check_steps(_numeric(column, src, label, first_row), label, first_row)
        elif dst in CANONICAL:
            block[:, CANONICAL.index(dst)] = _numeric(column, src, label, first_row).to_numpy(np.float64)
        else:
            extras[dst] = column.to_numpy()
    index = pd.Index(steps, name="step")
    metrics = pd.DataFrame(block, columns=list(CANONICAL), index=index)
    if extras:
        metrics = pd.concat([metrics, pd.DataFrame(extras, index=index)], axis=1)
    return metrics, {"format": fmt}



def _read_csv(text, label, empty_ok=False):
    try:
        table = pd.read_csv(io.StringIO(text), skip_blank_lines=True, **EXACT_FLOATS)
    except pd.errors.EmptyDataError:
        raise fail(label, "is empty", "Give a CSV with a header line and rows") from None
    except (pd.errors.ParserError, ValueError) as err:
        raise fail(label, f"is not a well-formed CSV ({str(err).strip()})") from None
    if table.empty and not empty_ok:
        raise fail(label, "has a header but no rows", "The run has no steps yet")
    _warn_if_cut_short(text, label, len(table.columns))
    return table


def _warn_if_cut_short(text, label, n_columns):
    """A file cut off mid-row (a copy or download that stopped early) ends in a row with fewer
    fields than the header; pandas fills the rest with NaN without a word, so say so."""
    body = text.rstrip("\r\n")
    last = body.rsplit("\n", 1)[-1]
    fields = len(next(csv.reader([last]), []))
    if 0 < fields < n_columns:
        line = body.count("\n") + 1
        warnings.warn(f"{label}, line {line}: {fields} of {n_columns} fields; the file looks cut off "
                      "there, and that row's missing values are read as empty. Download or copy the "
                      "whole file again if the run did not end there.", stacklevel=4)


def _step_column(names, mapping, label):
    chosen = [src for src, dst in mapping.items() if dst == "step"]
    if chosen:
        return chosen[0]
    for col in names:
        if col.lower() in STEP_NAMES:
            return col
    raise fail(label, f"has no step column (columns: {', '.join(names)})",
               "Add one, or name it with column_map={'your_column': 'step'}")


def _show(value):
    """A cell as the user wrote it: numpy scalars shown as plain Python values."""
    return value.item() if isinstance(value, np.generic) else value


def _where(position, first_row):
    return f"line {position + first_row}" if first_row else f"row {position}"


def _numeric(column, name, label, first_row):
    if pd.api.types.is_numeric_dtype(column.dtype) and column.dtype != bool:
        return column
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna() & (column.astype(str).str.strip() != "")
    if bad.any():
        pos = int(np.argmax(bad.to_numpy()))
        cell = _show(column.iloc[pos])
        raise fail(label, f"{_where(pos, first_row)}, column {name}: {cell!r} is not a number",
                   "Every metric cell must be a number or empty")
    return values.astype(np.float64)


def _check_steps(steps, label, first_row):
    values = steps.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0) | (values > 2**53)
    if bad.any():
        pos = int(np.argmax(bad))
        cell = _show(steps.iloc[pos])
        raise fail(label, f"{_where(pos, first_row)}: step {cell!r} is not a step number",
                   "Steps must be whole numbers 0, 1, 2, ...")
    ints = values.astype(np.int64)
    if len(ints) > 1 and not (np.diff(ints) > 0).all():
        seen = pd.Index(ints).duplicated()
        if seen.any():
            pos = int(np.argmax(seen))
            raise fail(label, f"{_where(pos, first_row)}: step {ints[pos]} appears twice",
                       "Each step needs one row; drop or merge the duplicates")
    return ints


def read_openai_csv(content, label, column_map=None):
    metrics, meta = read_table(content, label, column_map, OPENAI_CSV_MAP, "openai_csv")
    if len(metrics):
        meta["total_steps"] = int(metrics.index.max())
    return metrics, meta


def read_legacy_csv(content, label, column_map=None):
    metrics, meta = read_table(content, label, column_map, LEGACY_MAP, "openai_legacy_csv")
    meta["total_steps"] = int(metrics.index.max())
    # Legacy classification metrics are computed only at the end of each epoch.
    marks = [c for c in metrics.columns if c.startswith("classification/")]
    if marks:
        ends = metrics.index[metrics[marks].notna().any(axis=1)]
        meta["epoch_end_steps"] = [int(s) for s in ends]
        gaps = set(np.diff([0, *ends]).tolist())
        if len(ends) and len(gaps) == 1:
            meta["steps_per_epoch"] = int(gaps.pop())
    return metrics, meta


def read_ftlab(content, label, column_map=None):
    header, _, body = content.lstrip().partition("\n")
    try:
        meta = json.loads(header[len(FTLAB_HEADER):])
    except json.JSONDecodeError as err:
        raise fail(label, f"line 1: the ftlab meta header is not JSON ({err.msg})") from None
    if not isinstance(meta, dict):
        raise fail(label, "line 1: the ftlab meta header must be a JSON object")
    metrics, _ = read_table(body, label, fmt="ftlab", header_line=2)
    return metrics, meta


def read_trainer_state(state, label, column_map=None):
    """Hugging Face ``trainer_state.json``: train and eval entries of ``log_history`` by step."""
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise fail(label, "is not a trainer_state.json (no 'log_history' list)")
    rows, summary = {}, {}
    for n, entry in enumerate(state["log_history"]):
        if not isinstance(entry, dict) or "step" not in entry:
            raise fail(label, f"log_history[{n}] has no 'step'")
        if "train_runtime" in entry:  # the end-of-training summary, not a step's metrics
            summary = {k: v for k, v in entry.items()}
            continue
        eval_entry = any(k.startswith("eval_") for k in entry)
        row = rows.setdefault(_int_step(entry["step"], label, f"log_history[{n}]"), {})
        for key, value in entry.items():
            if key == "step":
                continue
            name = _hf_name(key, eval_entry)
            if name in row and name != "epoch" and row[name] != value:
                raise fail(label, f"log_history[{n}]: step {entry['step']} has two values "
                                  f"for {key}")
            row.setdefault(name, value)
    if not rows:
        raise fail(label, "has an empty log_history: no step was logged")
    metrics = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    for col in metrics.columns:
        metrics[col] = _numeric(metrics[col], col, label, None)
    metrics.index.name = "step"
    meta = {"format": "hf_trainer_state"}
    for src, dst in (("global_step", "global_step"), ("max_steps", "total_steps"),
                     ("num_train_epochs", "n_epochs"), ("train_batch_size", "batch_size"),
                     ("logging_steps", "logging_steps"), ("eval_steps", "eval_steps"),
                     ("save_steps", "save_steps"), ("best_metric", "best_metric"),
                     ("best_global_step", "best_global_step"),
                     ("best_model_checkpoint", "best_model_checkpoint")):
        if state.get(src) is not None:
            meta[dst] = state[src]
    early = (state.get("stateful_callbacks") or {}).get("EarlyStoppingCallback")
    if isinstance(early, dict):
        meta["early_stopping"] = {**early.get("args", {}), **early.get("attributes", {})}
    if summary:
        meta["summary"] = summary
    return metrics, meta


def _hf_name(key, eval_entry):
    if key in ("loss", "mean_token_accuracy") and not eval_entry:
        return {"loss": "train_loss", "mean_token_accuracy": "train_accuracy"}[key]
    if key in ("eval_loss", "eval_mean_token_accuracy", "eval_accuracy"):
        return "valid_loss" if key == "eval_loss" else "valid_accuracy"
    return key


def _int_step(value, label, where):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(label, f"{where}: step {value!r} is not a number") from None
    if not np.isfinite(number) or number != round(number) or number < 0 or number > 2**53:
        raise fail(label, f"{where}: step {value!r} is not a whole non-negative number")
    return int(number)


# ----------------------------------------------------------------------------- Azure, summaries


def read_azure_csv(content, label, column_map=None):
    """Azure OpenAI's ``results.csv``: OpenAI's columns with ``train_mean_token_accuracy`` and
    ``full_valid_*`` (newer files add ``*_error_rate`` and a ``timestamp``). Azure writes ``-1``
    where a metric was not recorded at that step (as others leave the cell empty, or write
    ``nan``/``None``): every one of them becomes NaN, so -1 is never plotted as a loss."""
    metrics, meta = read_table(content, label, column_map, OPENAI_CSV_MAP, "azure_csv")
    numeric = [c for c in metrics.columns if c != "epoch" and metrics[c].dtype == np.float64]
    sentinel = metrics[numeric] == -1
    if sentinel.to_numpy().any():
        metrics[numeric] = metrics[numeric].mask(sentinel)
        meta["not_recorded_cells"] = int(sentinel.to_numpy().sum())
    if len(metrics):
        meta["total_steps"] = int(metrics.index.max())
    return metrics, meta


# Keys that only an end-of-run summary has: HF all_results/eval_results/train_results.json,
# W&B wandb-summary.json.
SUMMARY_KEYS = ("train_runtime", "eval_runtime", "train_loss", "eval_loss", "epoch", "_wandb",
                "_runtime", "_step", "eval/loss", "train/loss", "total_flos")


def is_summary(obj):
    """A JSON object of final numbers (no list of steps in it)."""
    return (isinstance(obj, dict) and any(k in obj for k in SUMMARY_KEYS)
            and not any(isinstance(v, list) and v and isinstance(v[0], dict)
                        for v in obj.values()))


def read_summary(obj, label, column_map=None):
    """A summary-only file as a Run with no steps; its numbers are in ``meta["summary"]``.
    ``load_run`` returns this only when asked (``format="summary"``): recognised on its own, a
    summary raises ``SummaryOnlyError`` instead, so nobody mistakes it for an empty run."""
    if isinstance(obj, dict) and isinstance(obj.get("log_history"), list):  # trainer_state
        entries = [e for e in obj["log_history"] if isinstance(e, dict)]
        obj = {k: v for e in entries for k, v in e.items()}
    if not isinstance(obj, dict):
        raise fail(label, f"is a {type(obj).__name__}, not a summary (a JSON object)")
    empty = pd.DataFrame(np.empty((0, len(CANONICAL))), columns=list(CANONICAL),
                         index=pd.Index([], dtype=np.int64, name="step"))
    return empty, {"format": "summary", "summary": obj}


def trainer_state_is_summary(state):
    """A trainer_state.json whose log_history holds no step's metrics, only the final summary."""
    entries = state.get("log_history") or []
    has_summary = any(isinstance(e, dict) and "train_runtime" in e for e in entries)
    return has_summary and not any(isinstance(e, dict) and "train_runtime" not in e
                   and any(k not in ("step", "epoch") for k in e) for e in entries)
