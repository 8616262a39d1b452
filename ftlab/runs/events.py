"""Readers of OpenAI's job-progress formats: events, printed event logs and checkpoints.

The API reports training progress as events (``client.fine_tuning.jobs.list_events``): newest
first, 20 per page, ``type == "metrics"`` events carrying exact numbers in ``data``, and message
events such as ``Checkpoint created at step 555``. Learners often have only what their notebook
printed: ``1734182951: Step 1/84: training loss=3.57`` lines, with values rounded to two decimals
and, when polls overlapped badly, a few steps lost. All of them end up here as event dicts and are
turned into one metrics table plus the facts the messages tell (checkpoints, model, status).

>>> events = [{"id": "b", "created_at": 2, "type": "metrics",
...            "message": "Step 2/2: training loss=1.00",
...            "data": {"step": 2, "train_loss": 1.0, "total_steps": 2}},
...           {"id": "a", "created_at": 1, "type": "metrics",
...            "message": "Step 1/2: training loss=2.00",
...            "data": {"step": 1, "train_loss": 2.0, "total_steps": 2}}]
>>> metrics, meta = read_events(events + events[:1], "demo")
>>> metrics["train_loss"].tolist(), meta["total_steps"], meta["duplicate_events"]
([2.0, 1.0], 2, 1)
"""

import json
import math
import re

import numpy as np
import pandas as pd

from ftlab.runs.formats import CANONICAL, OPENAI_CSV_MAP, fail

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
STEP_MESSAGE = re.compile(
    rf"Step (?P<step>\d+)(?:/(?P<total>\d+))?: training loss=(?P<train_loss>{_NUM})"
    rf"(?:, validation loss=(?P<valid_loss>{_NUM}))?"
    rf"(?:, full validation loss=(?P<full_valid_loss>{_NUM}))?\s*$")
FACTS = (  # message pattern -> what it tells
    (re.compile(r"Checkpoint created at step (\d+)(?: with Snapshot ID: (\S+))?"), "checkpoint"),
    (re.compile(r"New fine-tuned model created(?:: (\S+))?"), "fine_tuned_model"),
    (re.compile(r"Created fine-tuning job: (\S+)"), "job_id"),
    (re.compile(r"Validating training file: (\S+)"), "training_file"),
    (re.compile(r"Validating validation file: (\S+)"), "validation_file"),
)
LOG_LINE = re.compile(r"^\s*(\d{9,11}): (.*?)\s*$")
# A logger's prefix before a message: "2026-03-06 15:28:08 | INFO | ", "[2026-03-06T15:28:08] INFO: ".
PREFIX = re.compile(r"^\s*\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
                    r"\]?\s*(?:[|:-]\s*)?"
                    r"(?:(?:DEBUG|INFO|WARNING|WARN|ERROR)\s*(?:[|:-]\s*)?)?(.*?)\s*$")
# Printed SDK objects: openai >= 1 reprs, and openai 0.x "<OpenAIObject list at 0x...> JSON: {...}".
SDK_REPR = re.compile(r"\s*(?:\[\s*)?(?:SyncCursorPage\[|AsyncCursorPage\[|FineTuningJobEvent\(|"
                      r"FineTuningJobCheckpoint\()")
LEGACY_REPR = re.compile(r"\s*<OpenAIObject[^>]*> JSON: ")
FIELD_LINE = re.compile(r"^(Event ID|Created At|Level|Message|Type|Object Type|Has More Events"
                        r"|Fine-Tuning Job ID|Fine-Tuning Job Status): ?(.*?)\s*$")
DATA_LINE = re.compile(r"^\s+([A-Za-z_][\w.]*): (.*?)\s*$")


def read_events(content, label):
    """A list of event dicts, a page ``{"data": [...], "has_more": ...}`` or one event."""
    meta = {"format": "openai_events"}
    if isinstance(content, dict) and "data" in content and isinstance(content["data"], list):
        if content.get("has_more") is not None:
            meta["has_more"] = bool(content["has_more"])
        content = content["data"]
    elif isinstance(content, dict):
        content = [content]
    if not isinstance(content, list) or not content:
        raise fail(label, "holds no events", "Give the list client.fine_tuning.jobs."
                          "list_events(job_id).data returns, or the page itself")
    for n, event in enumerate(content):
        if not isinstance(event, dict):
            raise fail(label, f"event {n} is a {type(event).__name__}, not an event object")
    return events_to_metrics(content, label, meta)


def read_event_log(text, label):
    """A printed event log: ``<unix time>: <message>`` lines, or ``Event ID:``/``Message:``/
    ``Additional Data:`` blocks as printed field by field; job status lines are noted."""
    meta, events, current, in_data = {"format": "openai_event_log"}, [], None, False
    for number, line in enumerate(text.splitlines(), 1):
        stamped = LOG_LINE.match(line)
        field = FIELD_LINE.match(line)
        if stamped:
            events.append({"created_at": int(stamped.group(1)), "message": stamped.group(2),
                           "_line": number})
            in_data = False
        elif field:
            key, value = field.groups()
            in_data = False
            if key == "Event ID":
                current = {"id": value, "_line": number}
                events.append(current)
            elif key == "Fine-Tuning Job ID":
                meta["job_id"] = value
            elif key == "Fine-Tuning Job Status":
                meta["status"] = value
            elif key == "Has More Events":
                meta["has_more"] = value.lower() == "true"
            elif current is not None and key != "Object Type":
                current[key.lower().replace(" ", "_")] = _scalar(value)
        elif line.strip() == "Additional Data:" and current is not None:
            in_data = True
            current["data"] = {}
        elif in_data and DATA_LINE.match(line):
            key, value = DATA_LINE.match(line).groups()
            current["data"][key] = _scalar(value)
        elif line.startswith("---"):
            current, in_data = None, False
        elif _message_line(line):  # "<date> | INFO | Step 1/750: ..." or the bare message
            events.append({"message": _message_line(line), "_line": number})
            in_data = False
    if not events:
        raise fail(label, "has no event lines ('<unix time>: <message>', '<date> | INFO | "
                          "<message>', 'Step k/N: training loss=x' or 'Event ID: ...')")
    return events_to_metrics(events, label, meta)


def _message_line(line):
    """The event message on a line without a unix time: after a logger's date/level prefix, or
    the line itself when it is a message the API writes (``Step k/N: ...``, checkpoints...)."""
    prefixed = PREFIX.match(line)
    if prefixed:
        return prefixed.group(1)
    step = re.search(r"\bStep \d+/\d+: ", line)
    if step:  # any other prefix: the step message is what counts
        return line[step.start():].strip()
    bare = line.strip()
    if any(pattern.match(bare) for pattern, _ in FACTS) or "successfully completed" in bare:
        return bare
    return None


def read_sdk_repr(text, label):
    """What ``print(client.fine_tuning.jobs.list_events(...))`` shows: a list of
    ``FineTuningJobEvent(...)`` reprs, a ``SyncCursorPage[FineTuningJobEvent](data=[...])``, or
    openai 0.x's ``<OpenAIObject list at 0x...> JSON: {...}``. Read as literals, never run.
    Events whose type is neither ``message`` nor ``metrics`` (``moderation_checks``) are set
    aside: their ``data`` is not metrics."""
    from ftlab.runs.logs import python_literal

    legacy = LEGACY_REPR.match(text)
    try:
        if legacy:
            value = json.loads(text[legacy.end():])
        else:
            value = python_literal(text)  # SyncCursorPage[...](data=[...]) is a call too
    except json.JSONDecodeError as err:
        raise fail(label, f"the JSON after <OpenAIObject ...> is broken at line {err.lineno + 1}, "
                          f"column {err.colno}: {err.msg}", "Copy the whole printed output") from None
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None)
        raise fail(label, "looks like printed OpenAI SDK objects but is not readable"
                          + (f" at line {line}" if line else "") + f" ({err.__class__.__name__}: "
                          f"{getattr(err, 'msg', err)})", "Copy the whole printed output (a cut "
                          "copy misses its closing brackets), or save the events with "
                          "[e.model_dump() for e in page.data] and json.dump") from None
    events = value.get("data") if isinstance(value, dict) and "data" in value else value
    if isinstance(events, dict):
        events = [events]
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise fail(label, "holds printed objects that are not fine-tuning events")
    if events and all("step_number" in e for e in events):  # printed checkpoints
        metrics, meta = read_checkpoints(events, label)
        return metrics, {**meta, "format": "openai_sdk_repr"}
    kept = [e for e in events if e.get("type") in (None, "message", "metrics")]
    metrics, meta = read_events({"data": kept, "has_more": value.get("has_more")}
                                if isinstance(value, dict) else kept, label)
    meta["format"] = "openai_sdk_repr"
    if len(kept) < len(events):
        meta["skipped_events"] = sorted({str(e.get("type")) for e in events if e not in kept})
    return metrics, meta


def read_checkpoints(content, label):
    """``fine_tuning.job.checkpoint`` objects: a list, a page or one checkpoint."""
    if isinstance(content, dict):
        content = content["data"] if isinstance(content.get("data"), list) else [content]
    if not isinstance(content, list) or not content:
        raise fail(label, "holds no checkpoints")
    rows, models, meta, seen = {}, [], {"format": "openai_checkpoints"}, set()
    for n, ckpt in enumerate(content):
        if not isinstance(ckpt, dict):
            raise fail(label, f"checkpoint {n} is a {type(ckpt).__name__}, not an object")
        if _identity(ckpt) in seen:
            continue
        seen.add(_identity(ckpt))
        metrics = ckpt.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise fail(label, f"checkpoint {n}: 'metrics' is not an object")
        step = ckpt.get("step_number", metrics.get("step"))
        if step is None:
            raise fail(label, f"checkpoint {n} has neither step_number nor metrics.step")
        step = _step(step, label, f"checkpoint {n}")
        rows[step] = _metric_row({k: v for k, v in metrics.items() if k != "step"}, label,
                                 f"checkpoint {n}")
        models.append({"step": step, "model": ckpt.get("fine_tuned_model_checkpoint"),
                       "id": ckpt.get("id")})
        if ckpt.get("fine_tuning_job_id"):
            meta["job_id"] = ckpt["fine_tuning_job_id"]
    meta["checkpoints"] = sorted(rows)
    meta["checkpoint_models"] = sorted(models, key=lambda m: m["step"])
    return _table(rows), meta


# ----------------------------------------------------------------------------- events -> metrics


def events_to_metrics(events, label, meta):
    """Turn event dicts (any order, duplicates allowed) into ``(metrics, meta)``."""
    unique, duplicates = {}, 0
    for event in events:
        key = _identity(event)
        if key in unique:
            duplicates += 1
        else:
            unique[key] = event
    if duplicates:
        meta["duplicate_events"] = duplicates
    ordered = sorted(unique.values(), key=lambda e: (_time(e), _data_step(e)))
    rows, from_messages, messages, totals = {}, set(), [], []
    for event in ordered:
        where = _where(event)
        message = str(event.get("message") or "")
        data = event.get("data")
        if isinstance(data, dict) and "step" in data:
            step = _step(data["step"], label, where)
            if data.get("total_steps") is not None:
                totals.append(_step(data["total_steps"], label, where))
            row = _metric_row({k: v for k, v in data.items() if k not in ("step", "total_steps")},
                              label, where)
            if step in rows and step not in from_messages and rows[step] != row:
                raise fail(label, f"{where}: step {step} was reported twice with different "
                                  "values", "Remove one of the two events")
            rows[step] = row
            from_messages.discard(step)
            continue
        parsed = STEP_MESSAGE.search(message)
        if parsed:
            step = int(parsed["step"])
            if parsed["total"]:
                totals.append(int(parsed["total"]))
            if step not in rows:
                rows[step] = {k: float(parsed[k]) for k in ("train_loss", "valid_loss",
                                                            "full_valid_loss") if parsed[k]}
                from_messages.add(step)
            continue
        if re.match(r"\s*Step \d", message):
            meta.setdefault("skipped_lines", []).append(f"{where}: {message[:120]}")
            continue
        _note_message(meta, event, message)
        messages.append({"created_at": event.get("created_at"), "level": event.get("level"),
                         "message": message})
    if not rows:
        raise fail(label, "has events but no training steps in them", "Give the job's full "
                          "event list (all pages), its results CSV or its checkpoints")
    if messages:
        meta["messages"] = messages
    if from_messages:
        meta["rounded_steps"] = len(from_messages)  # printed messages carry 2 decimals only
    if totals:
        meta["total_steps"] = max(totals)
    _missing_steps(meta, sorted(rows))
    _epochs_from_checkpoints(meta)
    return _table(rows), meta


def _note_message(meta, event, message):
    if event.get("level") == "error" or re.search(r"\bfail", message, re.I):
        meta.setdefault("errors", []).append(message)
        meta["status"] = "failed"
    if "successfully completed" in message:
        meta["status"] = "succeeded"
    for pattern, fact in FACTS:
        found = pattern.search(message)
        if not found:
            continue
        if fact == "checkpoint":
            step = int(found.group(1))
            steps = meta.setdefault("checkpoints", [])
            if step not in steps:
                steps.append(step)
                steps.sort()
            if found.group(2):
                models = meta.setdefault("checkpoint_models", [])
                models.append({"step": step, "model": found.group(2)})
                models.sort(key=lambda m: m["step"])
        elif found.group(1):
            meta[fact] = found.group(1)


def _missing_steps(meta, steps):
    """Steps absent between the first and last recorded ones (events lost between polls).

    Some services log every k-th step only (Azure OpenAI: every 10th); then only steps missing
    from that grid count. The final step is left out of the grid: jobs always report it."""
    first, last = steps[0], steps[-1]
    total = meta.get("total_steps")
    grid = steps[:-1] if last == total and len(steps) > 3 else steps
    stride = int(np.gcd.reduce(np.diff(grid))) if len(grid) >= 3 else 1
    if stride > 1:
        meta["logged_every"] = stride
    expected = (grid[-1] - first) // stride + 1
    if expected > 100 * len(steps) + 100_000:  # absurd step numbers: do not list millions
        meta["missing_steps"] = []
        meta.setdefault("notes", []).append(
            f"steps run from {first} to {last} but only {len(steps)} were logged; gaps not listed")
        return
    present = set(steps)
    meta["missing_steps"] = [s for s in range(first, grid[-1] + 1, stride) if s not in present]
    if first > 1:
        meta.setdefault("notes", []).append(
            f"the events start at step {first}: earlier steps are not in them")
    if total and last < total:
        meta.setdefault("notes", []).append(f"the events end at step {last} of {total}")


def _epochs_from_checkpoints(meta):
    """OpenAI saves a checkpoint at the end of each of the last epochs, so checkpoint steps and
    the total give the steps per epoch (28, 56 of 84 steps -> 28 steps, 3 epochs)."""
    total, marks = meta.get("total_steps"), meta.get("checkpoints")
    if not total or not marks:
        return
    ends = sorted(set(marks) | {total})
    gaps = set(np.diff(ends).tolist())
    if len(gaps) != 1:
        return
    size = int(gaps.pop())
    if size > 0 and all(s % size == 0 for s in ends):
        meta.setdefault("steps_per_epoch", int(size))
        meta.setdefault("n_epochs", int(total // size))
        meta.setdefault("notes", []).append(
            "steps per epoch inferred from the checkpoint steps (one per epoch end)")


# ----------------------------------------------------------------------------- small helpers


def _metric_row(data, label, where):
    row = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise fail(label, f"{where}, field {key}: {value!r} is not a number") from None
        row[OPENAI_CSV_MAP.get(key, key)] = float(value)
    return row


def _step(value, label, where):
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise fail(label, f"{where}: step {value!r} is not a number") from None
    if not math.isfinite(number) or number != round(number) or number < 0 or number > 2**53:
        raise fail(label, f"{where}: step {value!r} is not a whole non-negative number")
    return int(number)


def _table(rows):
    table = pd.DataFrame.from_dict(rows, orient="index", dtype=np.float64)
    table.index = pd.Index(np.asarray(list(rows), dtype=np.int64), name="step")
    extras = [c for c in table.columns if c not in CANONICAL]
    return table.reindex(columns=[*CANONICAL, *extras]).sort_index()


def _identity(obj):
    """What makes two copies of one event (or checkpoint) the same: its id, else its content."""
    if isinstance(obj.get("id"), str) and obj["id"]:
        return obj["id"]
    return json.dumps(obj, sort_keys=True, default=str)


def _time(event):
    value = event.get("created_at")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _data_step(event):
    data = event.get("data")
    step = data.get("step") if isinstance(data, dict) else None
    return float(step) if isinstance(step, (int, float)) and not isinstance(step, bool) else 0.0


def _where(event):
    if "_line" in event:
        return f"line {event['_line']}"
    return f"event {event['id']}" if event.get("id") else "an event"


def _scalar(text):
    """A printed value: int, float or the string itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
