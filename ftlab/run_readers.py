"""Turn whatever a fine-tuning job left behind into a metrics table and a meta dict.

:func:`read_source` opens the source (path, text, bytes, DataFrame, list, dict, SDK objects),
recognises its format unless told, and calls one reader per format. Readers return
``(metrics, meta)``; ``ftlab.runs.load_run`` wraps them in a ``Run``. The OpenAI event formats
(event lists, pages, printed logs, checkpoints) live in ``ftlab.event_readers``.
"""

import base64
import binascii
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = {
    "openai_csv": "OpenAI results CSV (step,train_loss,train_accuracy,valid_loss,"
                  "valid_mean_token_accuracy), raw or base64 as files.content() returns it",
    "openai_events": "OpenAI fine-tuning events: a list of event dicts/SDK objects or a page "
                     "{'data': [...], 'has_more': ...}, any order",
    "openai_event_log": "a printed event log: lines like '1734182951: Step 1/84: training "
                        "loss=3.57' or 'Event ID: / Message: / Additional Data:' blocks",
    "openai_checkpoints": "OpenAI fine_tuning.job.checkpoint objects (a list or a page)",
    "openai_legacy_csv": "legacy /v1/fine-tunes compiled_results.csv (training_loss, "
                         "validation_loss, ...)",
    "hf_trainer_state": "Hugging Face / TRL trainer_state.json (log_history)",
    "table": "any CSV or DataFrame with a step column and loss columns (column_map= names them)",
    "ftlab": "ftlab's own run format ('# ftlab run {meta}' then CSV), written by Run.save",
}

OPENAI_CSV_MAP = {"valid_mean_token_accuracy": "valid_accuracy",
                  "train_mean_token_accuracy": "train_accuracy",
                  "full_valid_mean_token_accuracy": "full_valid_accuracy"}
LEGACY_MAP = {"training_loss": "train_loss", "training_token_accuracy": "train_accuracy",
              "validation_loss": "valid_loss", "validation_token_accuracy": "valid_accuracy"}
# Column names seen in generic logs, lower-cased -> canonical name.
TABLE_ALIASES = {
    "train_loss": "train_loss", "loss": "train_loss", "training_loss": "train_loss",
    "train/loss": "train_loss",
    "train_accuracy": "train_accuracy", "train_acc": "train_accuracy", "accuracy": "train_accuracy",
    "mean_token_accuracy": "train_accuracy", "train_mean_token_accuracy": "train_accuracy",
    "training_token_accuracy": "train_accuracy",
    "valid_loss": "valid_loss", "val_loss": "valid_loss", "validation_loss": "valid_loss",
    "eval_loss": "valid_loss", "eval/loss": "valid_loss",
    "valid_accuracy": "valid_accuracy", "val_accuracy": "valid_accuracy",
    "val_acc": "valid_accuracy", "eval_accuracy": "valid_accuracy",
    "valid_mean_token_accuracy": "valid_accuracy", "eval_mean_token_accuracy": "valid_accuracy",
    "validation_token_accuracy": "valid_accuracy",
    "full_valid_loss": "full_valid_loss", "full_valid_accuracy": "full_valid_accuracy",
    "full_valid_mean_token_accuracy": "full_valid_accuracy", "epoch": "epoch",
}
STEP_NAMES = ("step", "steps", "global_step", "iteration", "iter")
LOSS_COLUMNS = ("train_loss", "valid_loss", "full_valid_loss")
FTLAB_HEADER = "# ftlab run "
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


def fail(label, problem, fix=""):
    """A ValueError that names the source and says what was expected and which formats exist."""
    known = ", ".join(FORMATS)
    text = f"{label}: {problem}"
    if fix:
        text += f". {fix}"
    return ValueError(f"{text}. (load_run reads: {known}; see ftlab.run_readers.FORMATS)")


# ----------------------------------------------------------------------------- opening


def read_source(source, *, format=None, column_map=None):
    """Open ``source``, recognise or check its format, and read it: ``(metrics, meta)``."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)} "
                         "(or format=None to recognise it)")
    label, content, meta = _open(source)
    if isinstance(content, str):
        content, decoded = _unwrap_base64(content, label)
        if decoded:
            meta["encoding"] = "base64"
    if format is None and column_map:
        format = "table"  # naming columns by hand is what a generic table needs
    fmt = format or sniff(content, label)
    try:
        metrics, info = READERS[fmt](content, label, column_map)
    except RecursionError:
        raise fail(label, "is nested too deeply to be a run") from None
    # A saved ftlab run carries its own complete meta; anything else adds what the opening knew.
    meta = dict(info) if fmt == "ftlab" else {**meta, **info}
    meta.setdefault("format", fmt)
    meta.setdefault("name", meta.get("job_id") or "run")
    return metrics, meta


def _open(source):
    """Return ``(label, content, meta)``: content is text, a DataFrame, a list or a dict."""
    if isinstance(source, pd.DataFrame):
        return "the DataFrame given", source, {}
    if isinstance(source, os.PathLike):
        return _read_file(Path(source))
    if isinstance(source, str):
        if "\n" not in source and len(source) < 4096 and source.strip():
            try:
                if Path(source).is_file():
                    return _read_file(Path(source))
            except OSError:  # a name too long or otherwise impossible: it is content
                pass
        return f"the text given ({len(source)} characters)", source, {}
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = f"the bytes given ({len(source)} bytes)"
        return label, _decode(bytes(source), label), {}
    if isinstance(source, (list, tuple, dict)) or hasattr(source, "data"):
        return "the objects given", _plain(source), {}
    raise ValueError(f"load_run cannot read a {type(source).__name__}: give a path, the text or "
                     f"bytes of a file, a DataFrame, a list of events or a dict. Formats: "
                     f"{', '.join(FORMATS)}")


def _read_file(path):
    if not path.is_file():
        raise FileNotFoundError(f"no run file at {path}")
    label = str(path)
    text = _decode(path.read_bytes(), label)
    return label, text, {"name": path.name.split(".")[0], "source_file": path.name}


def _decode(data, label):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail(label, f"is not text: byte {err.start} is not UTF-8",
                   "Give the results CSV, the event log or the JSON file as saved") from None
    if "\x00" in text:
        raise fail(label, f"is not text: it contains a NUL byte at character {text.index(chr(0))}")
    return text


def _plain(obj):
    """SDK objects (pydantic models, pages) -> plain dicts and lists."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "model_dump"):
        return _plain(obj.model_dump())
    if hasattr(obj, "data") and isinstance(getattr(obj, "data"), list):  # a page object
        return {"data": _plain(obj.data), "has_more": getattr(obj, "has_more", None)}
    if hasattr(obj, "to_dict"):
        return _plain(obj.to_dict())
    return obj


def _unwrap_base64(text, label):
    """``files.content()`` gives the results CSV base64-encoded; decode it when that is what it is."""
    body = text.strip()
    if len(body) < 16 or not _BASE64.fullmatch(body):
        return text, False
    compact = re.sub(r"\s+", "", body)
    whole = len(compact) - len(compact) % 4
    try:
        decoded = base64.b64decode(compact[:whole], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return text, False  # letters only, but not base64 of text: let the sniffer judge
    if "," not in decoded.split("\n", 1)[0]:
        return text, False
    if whole != len(compact):
        raise fail(label, f"is base64 of a CSV but truncated: {len(compact)} characters is not a "
                          "multiple of 4", "Copy the whole string files.content() returned")
    return decoded, True


# ----------------------------------------------------------------------------- recognising


def sniff(content, label):
    """Name the format of opened content (see ``FORMATS``), or raise a ValueError saying why not."""
    if isinstance(content, pd.DataFrame):
        return _sniff_columns([str(c) for c in content.columns], label)
    if isinstance(content, dict):
        return _sniff_dict(content, label)
    if isinstance(content, list):
        return _sniff_list(content, label)
    text = content.strip()
    if not text:
        raise fail(label, "is empty", "Give a file that holds the run's metrics")
    if text.startswith(FTLAB_HEADER.strip()):
        return "ftlab"
    if text[0] in "{[":
        return sniff(_json(text, label), label)
    first = text.split("\n", 1)[0]
    columns = [c.strip() for c in first.split(",")]
    if len(columns) > 1 and {c.lower() for c in columns} & set(STEP_NAMES):
        return _sniff_columns(columns, label)
    if re.search(r"Step \d+/\d+:|^Event ID:", text, re.M):
        return "openai_event_log"
    if len(columns) > 1:
        return _sniff_columns(columns, label)
    raise fail(label, f"is not a format load_run knows (it starts with {first[:60]!r})")


def _sniff_columns(columns, label):
    names = {c.lower() for c in columns}
    if "step" in names and "training_loss" in names and "elapsed_tokens" in names:
        return "openai_legacy_csv"
    if {"step", "train_loss", "train_accuracy"} <= names:
        return "openai_csv"
    if names & set(STEP_NAMES):
        return "table"
    raise fail(label, f"has no step column (columns: {', '.join(columns[:12])})",
               "A run table needs a 'step' column; rename yours or pass format=")


def _sniff_dict(obj, label):
    if isinstance(obj.get("log_history"), list):
        return "hf_trainer_state"
    if isinstance(obj.get("data"), list):
        if not obj["data"]:
            raise fail(label, "is a page with no events ('data' is empty)")
        return _sniff_list(obj["data"], label)
    kind = obj.get("object")
    if kind == "fine_tuning.job.checkpoint":
        return "openai_checkpoints"
    if kind == "fine_tuning.job.event":
        return "openai_events"
    raise fail(label, f"is a JSON object with keys {sorted(obj)[:8]}, neither a trainer_state "
                      "(no 'log_history') nor a page of events or checkpoints (no 'data' list)")


def _sniff_list(items, label):
    if not items:
        raise fail(label, "is an empty list: there are no events in it")
    first = items[0]
    if not isinstance(first, dict):
        raise fail(label, f"is a list of {type(first).__name__}, not of event or checkpoint "
                          "objects")
    if first.get("object") == "fine_tuning.job.checkpoint" or "step_number" in first:
        return "openai_checkpoints"
    if {"message", "type", "data"} & set(first):
        return "openai_events"
    if "step" in first:
        return "table"
    raise fail(label, f"is a list of objects with keys {sorted(first)[:8]}, not events "
                      "(message/type/data) or checkpoints (step_number/metrics)")


def _json(text, label):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        if text[0] == "{" and err.msg == "Extra data":  # JSON lines: one event per line
            return [_json_line(line, label, n) for n, line in enumerate(text.splitlines(), 1)
                    if line.strip()]
        raise fail(label, f"looks like JSON but line {err.lineno}, column {err.colno}: "
                          f"{err.msg}") from None
    except RecursionError:
        raise fail(label, "is JSON nested too deeply to be a run") from None


def _json_line(line, label, number):
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise fail(label, f"line {number} is not JSON ({err.msg})") from None


# ----------------------------------------------------------------------------- tables


def read_table(content, label, column_map=None, rename=None, fmt="table"):
    """A CSV text or DataFrame with a step column -> metrics indexed by step."""
    if isinstance(content, str):
        table = _read_csv(content, label)
        first_row = 2  # line number of the first data row (line 1 is the header)
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
    # One pass over the columns, collecting arrays: far cheaper than editing a DataFrame.
    data, steps = {}, None
    for src, dst, (_, column) in zip(names, renamed, table.items()):
        if src == step_col:
            steps = _check_steps(_numeric(column, src, label, first_row), label, first_row)
        elif dst in _CANONICAL_NUMERIC:
            data[dst] = _numeric(column, src, label, first_row).to_numpy()
        else:
            data[dst] = column.to_numpy()
    return pd.DataFrame(data, index=pd.Index(steps, name="step")), {"format": fmt}


_CANONICAL_NUMERIC = ("train_loss", "train_accuracy", "valid_loss", "valid_accuracy",
                      "full_valid_loss", "full_valid_accuracy", "epoch")


def _read_csv(text, label):
    try:
        table = pd.read_csv(io.StringIO(text), skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise fail(label, "is empty", "Give a CSV with a header line and rows") from None
    except (pd.errors.ParserError, ValueError) as err:
        raise fail(label, f"is not a well-formed CSV ({str(err).strip()})") from None
    if table.empty:
        raise fail(label, "has a header but no rows", "The run has no steps yet")
    return table


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
        raise fail(label, f"{_where(pos, first_row)}, column {name}: {_show(column.iloc[pos])!r} is not "
                          "a number", "Every metric cell must be a number or empty")
    return values.astype(np.float64)


def _check_steps(steps, label, first_row):
    values = steps.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0) | (values > 2**53)
    if bad.any():
        pos = int(np.argmax(bad))
        raise fail(label, f"{_where(pos, first_row)}: step {_show(steps.iloc[pos])!r} is not a step "
                          "number", "Steps must be whole numbers 0, 1, 2, ...")
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
    kwargs = {} if pd.__version__ >= "3" else {"float_precision": "round_trip"}
    try:
        table = pd.read_csv(io.StringIO(body), **kwargs)
    except (pd.errors.ParserError, ValueError) as err:
        raise fail(label, f"the metrics after line 1 are not a CSV ({str(err).strip()})") from None
    if "step" not in table.columns:
        raise fail(label, "line 2: the metrics header has no step column")
    for col in [c for c in table.columns if c in _CANONICAL_NUMERIC]:
        table[col] = _numeric(table[col], col, label, 3)
    table.index = pd.Index(_check_steps(table.pop("step"), label, 3), name="step")
    return table, meta


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


def _read_events(content, label, column_map=None):
    from ftlab.event_readers import read_events

    return read_events(content, label)


def _read_event_log(content, label, column_map=None):
    from ftlab.event_readers import read_event_log

    return read_event_log(content, label)


def _read_checkpoints(content, label, column_map=None):
    from ftlab.event_readers import read_checkpoints

    return read_checkpoints(content, label)


def _structured(reader):
    """Readers of JSON-shaped formats also accept the JSON text."""
    def read(content, label, column_map=None):
        if isinstance(content, str):
            content = _json(content.strip() or "null", label)
        return reader(content, label, column_map)
    return read


def _text_only(reader, what):
    def read(content, label, column_map=None):
        if not isinstance(content, str):
            raise fail(label, f"is a {type(content).__name__}, but format {what} is text")
        return reader(content, label, column_map)
    return read


READERS = {
    "openai_csv": read_openai_csv,
    "openai_events": _structured(_read_events),
    "openai_event_log": _text_only(_read_event_log, "openai_event_log"),
    "openai_checkpoints": _structured(_read_checkpoints),
    "openai_legacy_csv": read_legacy_csv,
    "hf_trainer_state": _structured(read_trainer_state),
    "table": read_table,
    "ftlab": _text_only(read_ftlab, "ftlab"),
}
