"""Open whatever a fine-tuning job left behind, recognise its format, and hand it to a reader.

:func:`read_source` opens the source (path, text, bytes, DataFrame, list, dict, SDK objects),
decodes base64, recognises the format unless told, and calls one reader per format (tables in
``ftlab.runs.tables``, OpenAI events, logs and checkpoints in ``ftlab.runs.events``). Readers
return ``(metrics, meta)``; ``ftlab.load_run`` wraps them in a ``Run``.
"""

import base64
import binascii
import json
import os
import re
from pathlib import Path

import pandas as pd

from ftlab.runs.formats import FORMATS, FTLAB_HEADER, STEP_NAMES, fail  # noqa: F401 (re-exported)
from ftlab.runs.tables import (read_ftlab, read_legacy_csv, read_openai_csv, read_table,
                               read_trainer_state)

_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


# ----------------------------------------------------------------------------- opening


def read_source(source, *, format=None, column_map=None):
    """Open ``source``, recognise or check its format, and read it: ``(metrics, meta)``."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)} "
                         "(or format=None to recognise it)")
    label, content, meta = _open(source)
    if isinstance(content, str):
        content = content.lstrip("\ufeff")  # a byte-order mark some editors put first
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


def _read_events(content, label, column_map=None):
    from ftlab.runs.events import read_events

    return read_events(content, label)


def _read_event_log(content, label, column_map=None):
    from ftlab.runs.events import read_event_log

    return read_event_log(content, label)


def _read_checkpoints(content, label, column_map=None):
    from ftlab.runs.events import read_checkpoints

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
