"""Reader of Weights & Biases run files (``run-<id>.wandb``, the binary log W&B keeps of a run, also
offline) as the Hugging Face Trainer's W&B callback fills them. Returns ``(metrics, meta)``.

The file is a LevelDB-style log: 32 KiB blocks of checksummed chunks, each record one protobuf
``Record`` of W&B's own schema, decoded with the classes the ``wandb`` package ships
(``pip install "ftlab[logs]"``). wandb itself no longer has a Python reader for the file (its
``datastore`` module went with the move to the Go ``wandb-core``), so the chunks are joined here.

What becomes what:

- ``history`` rows are the curves. Their step is the Trainer's ``train/global_step``, not W&B's
  own ``_step`` counter (which counts ``wandb.log`` calls: train and eval rows of one global step
  get two). Columns are named as in ``trainer_state.json`` (``train_loss``, ``valid_loss``,
  ``learning_rate``...); values arrive as JSON text and are read exactly.
- In a Trainer's run, keys without ``train/`` or ``eval/`` were logged by the user's own code (a
  final test evaluation as ``eval_loss``...): not points of the training curves, and their names
  would clash with the Trainer's. They are kept in ``meta["other_history"]``, with their step.
- ``summary`` records hold the run's totals (the mean ``train_loss``, ``train_runtime``...):
  ``meta["summary"]``. ``config`` gives ``meta["hyperparameters"]`` and ``meta["model"]``.
- A file without an ``exit`` record belongs to a run that was still going (or died) when it was
  copied: what it has is read, ``meta["status"]`` is ``"unfinished"`` and a note says so.
"""

import json
import struct
import zlib
from pathlib import Path

from ftlab.runs.formats import fail
from ftlab.runs.tables import read_table
from ftlab.runs.tensorboard import ARGS, hf_column, need

MAGIC = b":W&B"
HEADER = 7  # ":W&B", a 2-byte magic number and a version byte open the file
BLOCK = 32 * 1024
CHUNK = struct.Struct("<IHB")  # checksum, length, kind of each chunk
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4  # a record in one chunk, or its first/middle/last piece
STEP = "train/global_step"


def read_wandb(path, label):
    """A ``run-*.wandb`` file (a path or its bytes) -> metrics by the Trainer's global step, and
    meta (summary, hyperparameters, status, notes)."""
    pb = need("wandb.proto.wandb_internal_pb2", "wandb", "a W&B run file", label)
    if not isinstance(path, (bytes, bytearray)) and not Path(path).is_file():
        raise fail(label, "does not exist", "Check the path")
    data = bytes(path) if isinstance(path, (bytes, bytearray)) else Path(path).read_bytes()
    if not data.startswith(MAGIC):
        raise fail(label, "is not a W&B run file (it does not start with ':W&B')",
                   "Give the run-<id>.wandb file from the run's folder under wandb/")
    chunks, notes = _records(data)
    parts = _parse(chunks, pb, notes)
    if not parts["history"]:
        raise fail(label, "has no history rows: nothing was logged with wandb.log",
                   "The run's curves are in its history; this run has none yet")
    rows, other, skipped = _rows(parts["history"])
    if not rows:
        raise fail(label, f"has no history row with a step ({STEP} or _step)")
    metrics, meta = read_table([{"step": s, **rows[s]} for s in sorted(rows)], label, fmt="wandb")
    if skipped:
        notes.append(f"{skipped} history values that are not numbers (media, tables, text) "
                     "were left out")
    meta.update(_meta(parts, other, notes))
    return metrics, meta


def _records(data):
    """The records of the file, and notes on what could not be read. A damaged chunk costs the
    rest of its block (as in LevelDB); a file that stops mid-record keeps every whole record."""
    records, notes, partial, pos = [], [], None, HEADER
    while pos < len(data):
        room = BLOCK - pos % BLOCK
        if room < CHUNK.size or data[pos:pos + CHUNK.size] == bytes(CHUNK.size):
            pos += room  # a block's tail too short for a chunk, or zero padding
            continue
        if len(data) - pos < CHUNK.size:
            partial = partial or b""  # the file stops inside a chunk's header
            break
        crc, size, kind = CHUNK.unpack_from(data, pos)
        body = data[pos + CHUNK.size:pos + CHUNK.size + size]
        if len(body) < size:
            partial = partial or b""  # the file stops inside this chunk
            break
        if CHUNK.size + size > room or zlib.crc32(body, zlib.crc32(bytes([kind]))) != crc:
            notes.append(f"a damaged chunk at byte {pos}: the rest of its 32 KiB block was skipped")
            partial, pos = None, pos + room
            continue
        pos += CHUNK.size + size
        if kind == FULL:
            records.append(body)
        elif kind == FIRST:
            partial = body
        elif kind in (MIDDLE, LAST) and partial is not None:
            partial += body
            if kind == LAST:
                records.append(partial)
                partial = None
    if partial is not None:
        notes.append("the file stops in the middle of a record (the run was still writing it)")
    return records, notes


def _parse(chunks, pb, notes):
    """Sort the records W&B wrote by kind: history rows, summary, config, run and exit."""
    from google.protobuf.message import DecodeError  # protobuf comes with wandb

    parts = {"history": [], "summary": {}, "config": {}, "run": None, "exit": None}
    for n, chunk in enumerate(chunks):
        record = pb.Record()
        try:
            record.ParseFromString(chunk)
        except DecodeError:
            notes.append(f"record {n} could not be decoded and was skipped")
            continue
        kind = record.WhichOneof("record_type")
        if kind == "history":
            parts["history"].append(_items(record.history.item))
        elif kind == "summary":  # each record updates the summary; the last word counts
            parts["summary"].update(_items(record.summary.update))
            for item in record.summary.remove:
                parts["summary"].pop(_key(item), None)
        elif kind in ("config", "run"):
            config = record.config if kind == "config" else record.run.config
            parts["config"].update(_items(config.update))
            if kind == "run":
                parts["run"] = record.run
        elif kind == "exit":
            parts["exit"] = record.exit
    return parts


def _key(item):
    return item.key or "/".join(item.nested_key)


def _items(items):
    """W&B stores every value as JSON text."""
    values = {}
    for item in items:
        try:
            values[_key(item)] = json.loads(item.value_json)
        except json.JSONDecodeError:
            values[_key(item)] = item.value_json
    return values


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rows(history):
    """History rows -> ``{step: {column: value}}``, the rows that are not the Trainer's
    (``other``), and how many values were not numbers."""
    trainer = any(STEP in row for row in history)
    step_key = STEP if trainer else "_step"  # a run without the Trainer: W&B's counter is all
    rows, other, skipped = {}, [], 0
    for row in history:
        step, curve, rest = row.get(step_key), {}, {}
        for key, value in row.items():
            if key.startswith("_") or key == step_key:
                continue
            if not _is_number(value):
                skipped += 1
                continue
            column, at_end = hf_column(key)
            if trainer and (at_end or not key.startswith(("train/", "eval/"))):
                rest[key] = value
            else:
                curve[column] = value
        if rest or not _is_number(step):
            other.append({"step": step, **rest})
        if curve and _is_number(step):
            rows.setdefault(int(step), {}).update(curve)  # train and eval rows of one step merge
    return rows, other, skipped


def _meta(parts, other, notes):
    meta = {}
    run, config, done = parts["run"], parts["config"], parts["exit"]
    if run is not None:
        meta["wandb"] = {k: v for k, v in (("run_id", run.run_id), ("project", run.project),
                                           ("display_name", run.display_name)) if v}
    hyper = {k: config[k] for k in ARGS if _is_number(config.get(k))}
    if hyper:
        meta["hyperparameters"] = hyper
    if isinstance(config.get("_name_or_path"), str) and config["_name_or_path"]:
        meta["model"] = config["_name_or_path"]
    summary = {k: v for k, v in parts["summary"].items() if not k.startswith("_")}
    if summary:
        meta["summary"] = summary
    if other:
        meta["other_history"] = other
    if done is None:
        meta["status"] = "unfinished"
        notes.append("the file has no exit record: the run was still going, or died, when it "
                     "was copied; these are the steps logged until then")
    else:
        meta["status"] = "succeeded" if done.exit_code == 0 else "failed"
        meta["exit_code"] = done.exit_code
        meta["runtime_s"] = done.runtime
    if notes:
        meta["notes"] = notes
    return meta
