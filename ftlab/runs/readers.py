"""Open whatever a fine-tuning job left behind, recognise its format, and hand it to a reader.

:func:`read_source` opens the source (path, folder, text, bytes, DataFrame, list, dict, SDK
objects), decodes base64, recognises the format unless told (:func:`recognise`: the first line,
and for logs one regex search), and calls one reader per format: tables in
``ftlab.runs.tables``, OpenAI events, printed logs and SDK reprs in ``ftlab.runs.events``, other
training logs in ``ftlab.runs.logs``, TensorBoard and W&B files (by path) in their own modules.
A folder is searched for its richest log (``ftlab.runs.folders``). Readers return
``(metrics, meta)``; ``ftlab.load_run`` wraps them in a ``Run``.

A summary-only file (``all_results.json``, ``wandb-summary.json``...) is not a run: recognised, it
raises ``SummaryOnlyError`` with its numbers and the file next to it that holds the curve, since
an empty Run would look like a run with no validation; ``format="summary"`` reads it anyway.
"""

import base64
import binascii
import json
import os
import re
from pathlib import Path

import pandas as pd

from ftlab.runs.events import LEGACY_REPR, SDK_REPR
from ftlab.runs.folders import LINE_LOGS, files_under, find_log, folder_hint, summary_error
from ftlab.runs.formats import (FORMATS, FTLAB_HEADER, PATH_FORMATS, STEP_NAMES,  # noqa: F401
                                RunFormatError, SummaryOnlyError, fail)
from ftlab.runs.logs import HF_DICT, read_hf_console, read_llamafactory, read_mlx_log
from ftlab.runs.tables import (is_summary, read_azure_csv, read_ftlab, read_legacy_csv,
                               read_openai_csv, read_summary, read_table, read_trainer_state,
                               trainer_state_is_summary)

_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


# ----------------------------------------------------------------------------- opening


def read_source(source, *, format=None, column_map=None):
    """Open ``source``, recognise or check its format, and read it: ``(metrics, meta)``."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)} "
                         "(or format=None to recognise it)")
    path = _as_path(source)
    if path is not None and path.is_dir():
        return _read_folder(path, format, column_map)
    if path is not None and (format or _path_format(path)) in PATH_FORMATS:
        return _read_by_path(path, format or _path_format(path))
    label, content, meta = _read_file(path) if path is not None else _open(source)
    if isinstance(content, str):
        content = content.lstrip("\ufeff")  # a byte-order mark some editors put first
        content, decoded = _unwrap_base64(content, label)
        if decoded:
            meta["encoding"] = "base64"
    if format is None and column_map:
        format = "table"  # naming columns by hand is what a generic table needs
    fmt, why = format, None
    if format is None:
        fmt, why, content = recognise(content, label)
    if fmt in PATH_FORMATS:
        raise fail(label, f"format {fmt} is read from a file", "Give the file's path")
    if fmt == "summary" and format is None:
        raise summary_error(label, content, path)
    try:
        metrics, info = READERS[fmt](content, label, column_map)
    except RecursionError:
        raise fail(label, "is nested too deeply to be a run") from None
    except SummaryOnlyError:
        raise
    except RunFormatError as err:
        if why is None:
            raise
        # Say what was guessed and why, so a wrong guess is visible and can be overruled.
        raise RunFormatError(err.label, err.problem, (err.fix + ". " if err.fix else "")
                             + f"It was read as {fmt} because {why}; if it is another format, "
                             "pass format= with that format's name") from None
    # A saved ftlab run carries its own complete meta; anything else adds what the opening knew.
    meta = dict(info) if fmt == "ftlab" else {**meta, **info}
    meta.setdefault("format", fmt)
    meta.setdefault("name", meta.get("job_id") or "run")
    return metrics, meta


def _as_path(source):
    """The path ``source`` names (a file or a folder), or None when it is content."""
    if isinstance(source, os.PathLike):
        return Path(source)
    if isinstance(source, str) and "\n" not in source and len(source) < 4096 and source.strip():
        try:
            path = Path(source)
            if path.is_file() or path.is_dir():
                return path
        except (OSError, ValueError):  # a name too long or otherwise impossible: it is content
            pass
    return None


def _open(source):
    """Return ``(label, content, meta)``: content is text, a DataFrame, a list or a dict."""
    if isinstance(source, pd.DataFrame):
        return "the DataFrame given", source, {}
    path = _as_path(source)
    if path is not None:
        return _read_file(path)
    if isinstance(source, str):
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
        binary = data.startswith(b":W&B") or b"brain.Event" in data[:200]
        raise fail(label, f"is not text: byte {err.start} is not UTF-8",
                   "A W&B .wandb or TensorBoard events file is read from its path: "
                   "load_run('path/to/file')" if binary else
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
    """files.content() gives the results CSV base64-encoded: decode it when that is what it is."""
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


def recognise(content, label):
    """``(format, why, content)``: the format's name, the evidence (for errors), and the content,
    parsed once when it is JSON so the reader does not parse it again. Only the first line and,
    for text that is not a CSV, one regex search decide: no pass over a big file is added."""
    if isinstance(content, pd.DataFrame):
        return (*_sniff_columns([str(c) for c in content.columns], label), content)
    if isinstance(content, dict):
        return (*_sniff_dict(content, label), content)
    if isinstance(content, list):
        return (*_sniff_list(content, label), content)
    text = content.strip()
    if not text:
        raise fail(label, "is empty", "Give a file that holds the run's metrics")
    if text.startswith(FTLAB_HEADER.strip()):
        return "ftlab", "its first line is '# ftlab run {...}'", content
    if SDK_REPR.match(text) or LEGACY_REPR.match(text):
        return "openai_sdk_repr", "it starts like a printed OpenAI SDK object", content
    newline = text.find("\n")
    first = text if newline < 0 else text[:newline]
    if text[0] in "{[":
        try:
            parsed = _json(text, label)
        except RunFormatError:
            if HF_DICT.match(text):  # a console log that starts with a Trainer dict
                return "hf_console", "line 1 is a Trainer log dict {'loss': ...}", content
            raise
        fmt, why = (_sniff_dict if isinstance(parsed, dict) else _sniff_list)(parsed, label)
        return fmt, why, parsed
    columns = [c.strip() for c in first.split(",")]
    if len(columns) > 1 and {c.lower() for c in columns} & set(STEP_NAMES):
        return (*_sniff_columns(columns, label), content)
    found = LINE_LOGS.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        return found.lastgroup, f"line {line} reads {found.group().strip()[:40]!r}", content
    if len(columns) > 1:
        return (*_sniff_columns(columns, label), content)
    raise fail(label, f"is not a format load_run knows: its first line is {first[:80]!r}",
               "Tried: a CSV header with a step column, JSON (trainer_state, events, JSON "
               "lines), printed SDK objects, and logs with 'Step k/N: training loss=', "
               "'Iter N: Train loss' or {'loss': ...} lines")


AZURE_COLUMNS = {"train_mean_token_accuracy", "full_valid_loss", "full_valid_mean_token_accuracy"}


def _sniff_columns(columns, label):
    names = {c.lower() for c in columns}
    if "step" in names and "training_loss" in names and "elapsed_tokens" in names:
        return "openai_legacy_csv", "its header has step, training_loss and elapsed_tokens"
    if {"step", "train_loss"} <= names and names & AZURE_COLUMNS:
        shown = ", ".join(sorted(names & AZURE_COLUMNS))
        return "azure_csv", f"its header has step, train_loss and {shown}"
    if {"step", "train_loss", "train_accuracy"} <= names:
        return "openai_csv", "its header has step, train_loss and train_accuracy"
    steps = sorted(names & set(STEP_NAMES))
    if steps:
        return "table", f"its header has a {steps[0]} column"
    raise fail(label, f"has no step column (columns: {', '.join(columns[:12])})",
               "A run table needs a 'step' column; rename yours or pass format=. (Read as a CSV "
               "because its first line has commas and no log line was found)")


def _sniff_dict(obj, label):
    if isinstance(obj.get("log_history"), list):
        if trainer_state_is_summary(obj):
            return "summary", "its log_history holds only the end-of-training summary"
        return "hf_trainer_state", "it is a JSON object with a log_history list"
    if isinstance(obj.get("data"), list):
        if not obj["data"]:
            raise fail(label, "is a page with no events ('data' is empty)")
        return _sniff_list(obj["data"], label)
    kind = obj.get("object")
    if kind == "fine_tuning.job.checkpoint":
        return "openai_checkpoints", "its object is fine_tuning.job.checkpoint"
    if kind == "fine_tuning.job.event":
        return "openai_events", "its object is fine_tuning.job.event"
    if is_summary(obj):
        return "summary", "it is one JSON object of final numbers"
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
        return "openai_checkpoints", "its first item has step_number"
    if {"message", "type", "data"} & set(first):
        return "openai_events", "its first item has message/type/data"
    if "current_steps" in first:
        return "llamafactory_log", "its first line has current_steps (LLaMA-Factory)"
    if "step" in first:
        return "table", "its first item has a step"
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


def _read_events(content, label, column_map=None):
    from ftlab.runs.events import read_events

    return read_events(content, label)


def _read_event_log(content, label, column_map=None):
    from ftlab.runs.events import read_event_log

    return read_event_log(content, label)


def _read_sdk_repr(content, label, column_map=None):
    from ftlab.runs.events import read_sdk_repr

    return read_sdk_repr(content, label)


def _read_checkpoints(content, label, column_map=None):
    from ftlab.runs.events import read_checkpoints

    return read_checkpoints(content, label)


def _read_any_table(content, label, column_map=None):
    """A table given as CSV, a DataFrame, or JSON records (an array, JSON lines, or a page's
    'data'): JSON text is parsed as JSON, never as CSV."""
    if isinstance(content, str) and content.lstrip()[:1] in ("{", "["):
        content = _json(content.strip(), label)
    if isinstance(content, dict) and isinstance(content.get("data"), list):
        content = content["data"]
    return read_table(content, label, column_map)


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
    "table": _read_any_table,
    "ftlab": _text_only(read_ftlab, "ftlab"),
    "azure_csv": read_azure_csv,
    "openai_sdk_repr": _text_only(_read_sdk_repr, "openai_sdk_repr"),
    "hf_console": _text_only(read_hf_console, "hf_console"),
    "llamafactory_log": _structured(read_llamafactory),
    "mlx_lora": _text_only(read_mlx_log, "mlx_lora"),
    "summary": _structured(read_summary),
}


# ----------------------------------------------------------------------------- files by path


def _path_format(path):
    """Binary formats are known by their file names (their bytes are not text to sniff)."""
    if "tfevents" in path.name:
        return "tfevents"
    if path.name.endswith(".wandb"):
        return "wandb"
    return None


def _read_by_path(path, fmt):
    """TensorBoard and W&B files, read by their own modules from the path."""
    if not path.is_file():
        raise FileNotFoundError(f"no run file at {path}")
    label = str(path)
    try:
        if fmt == "tfevents":
            from ftlab.runs.tensorboard import read_tfevents as reader
        else:
            from ftlab.runs.wandb_files import read_wandb as reader
    except ImportError as err:
        raise fail(label, f"is a {FORMATS[fmt]}, but this ftlab cannot read that format "
                          f"({PATH_FORMATS[fmt][0]} is missing: {err})",
                   "Update ftlab, or load the run's trainer_state.json or console log") from None
    metrics, meta = reader(path, label)
    meta = {"name": path.name.split(".")[0], "source_file": path.name, **meta}
    meta.setdefault("format", fmt)
    return metrics, meta


# ----------------------------------------------------------------------------- folders

def _read_folder(folder, format, column_map):
    chosen = find_log(folder)
    if chosen is None:
        raise fail(str(folder), "is a folder with no run log in it (looked for trainer_state.json, "
                                "trainer_log.jsonl, results.csv, events.out.tfevents.*, *.wandb and "
                                "console logs *.log/*.out/*.txt)", folder_hint(folder))
    metrics, meta = read_source(chosen, format=format, column_map=column_map)
    others = [str(p.relative_to(folder)) for p in files_under(folder)
              if p != chosen and p.name == chosen.name]
    meta.update(name=folder.resolve().name, source_folder=str(folder),
                source_file=chosen.relative_to(folder).as_posix())
    if others:
        meta.setdefault("notes", []).append(
            f"read {meta['source_file']}; the folder also has {len(others)} other {chosen.name}")
    return metrics, meta
