"""Readers of line-oriented training logs that are not OpenAI's: what a learner has after a run on
their own machine or on a rented GPU.

- **Hugging Face console output** (``python train.py > log``, Slurm ``.out``, W&B ``output.log``):
  the Trainer prints ``{'loss': 1.23, 'grad_norm': ..., 'learning_rate': ..., 'epoch': 0.5}`` and
  ``{'eval_loss': ...}`` dicts among tqdm ``\\r`` redraws; transformers 5 quotes the values
  (``{'loss': '1.703'}``). The dicts carry no step, so a row's step is its **log position**.
- **MLX-LM** ``mlx_lm.lora``: ``Iter 10: Train loss 2.345, Learning Rate 1.000e-05, ...`` and
  ``Iter 200: Val loss 1.234, Val took 7.5s``.
- **LLaMA-Factory** ``trainer_log.jsonl``: ``{"current_steps": 5, "loss": ..., "lr": ...}`` per line,
  possibly written twice per step (two processes) and restarted by a resumed run.

Printed dicts are Python literals, never JSON: :func:`python_literal` reads them from the syntax
tree (``ast``), so no text from a log is ever executed.

>>> metrics, meta = read_mlx_log("Iter 1: Val loss 2.5, Val took 1.0s\\n"
...                              "Iter 10: Train loss 2.0, Learning Rate 1e-05\\n", "demo")
>>> metrics["train_loss"].tolist()[1], metrics["valid_loss"].tolist()[0], meta["format"]
(2.0, 2.5, 'mlx_lora')
"""

import ast
import math
import re

import numpy as np
import pandas as pd

from ftlab.runs.formats import CANONICAL, fail

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# The first Trainer dict on a piece of a line (tqdm may have drawn a bar before it).
HF_DICT = re.compile(r"\{'(?:loss|eval_[\w/]+|train_runtime)': .*\}")
MLX_LINE = re.compile(r"^\s*Iter (\d+): (.*)$")
MLX_FIELD = re.compile(rf"^\s*([A-Za-z][A-Za-z/ ]*?)\s+({_NUM})\s*([A-Za-z]*)\s*$")
MLX_NAMES = {"train_loss": "train_loss", "val_loss": "valid_loss", "learning_rate": "learning_rate"}
HF_NAMES = {"loss": "train_loss", "mean_token_accuracy": "train_accuracy",
            "eval_loss": "valid_loss", "eval_accuracy": "valid_accuracy",
            "eval_mean_token_accuracy": "valid_accuracy"}
LF_NAMES = {"loss": "train_loss", "eval_loss": "valid_loss", "eval_accuracy": "valid_accuracy",
            "lr": "learning_rate"}
LF_NOT_METRICS = ("current_steps", "total_steps", "percentage", "elapsed_time", "remaining_time")


# ----------------------------------------------------------------------------- Python literals


def python_literal(text):
    """The value of a printed Python literal: dicts, lists, strings, numbers, ``True``/``None``,
    ``nan``/``inf`` (how Python prints those floats) and constructor calls such as
    ``FineTuningJobEvent(id='x', data={...})``, read as ``{"id": "x", "data": {...}}``. Raises
    ``SyntaxError`` or ``ValueError``; nothing is evaluated."""
    return _value(ast.parse(text.strip(), mode="eval").body)


def _value(node):
    if isinstance(node, ast.Call):  # an SDK object's repr: its keyword arguments are its fields
        name = node.func.value if isinstance(node.func, ast.Subscript) else node.func
        if node.args or not isinstance(name, ast.Name):  # Page[Event](...) or Event(...) only
            raise ValueError(f"line {node.lineno}: not a printed object: {ast.unparse(node)[:60]}")
        return {kw.arg: _value(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Name) and node.id in ("nan", "inf"):
        return float(node.id)
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Name) and node.operand.id == "inf"):
        return -math.inf
    return ast.literal_eval(node)  # constants only: raises ValueError on anything else


def _number(value, label, where, key):
    """A metric as float: numbers, quoted numbers (transformers 5) and None (absent -> NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise fail(label, f"{where}, field {key}: {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise fail(label, f"{where}, field {key}: {value!r} is not a number",
                   "Every metric must be a number") from None


def _frame(rows, steps):
    """Rows (dicts of floats) at the given steps -> a metrics table, canonical columns first."""
    table = pd.DataFrame.from_records(rows, index=pd.Index(np.asarray(steps, np.int64), name="step"))
    extras = [c for c in table.columns if c not in CANONICAL]
    return table.reindex(columns=[*CANONICAL, *extras]).astype(np.float64)


# ----------------------------------------------------------------------------- HF console


def read_hf_console(text, label, column_map=None):
    """Hugging Face Trainer console output -> rows in printed order, the step being the log
    position (1, 2, ...). An eval dict printed right after a train dict of the same epoch was
    logged at the same step and shares its row. The closing ``{'train_runtime': ...}`` dict is
    the run's summary (its ``train_loss`` is the mean over the run): kept in meta, not a row, as
    are dicts printed after it (``evaluate()`` of the final model, ``meta["after_training"]``)."""
    rows, meta = [], {"format": "hf_console", "steps_are": "log positions"}
    last_kind = None
    for number, piece in _pieces(text):
        found = HF_DICT.search(piece)
        if not found:
            continue
        try:
            entry = python_literal(found.group())
        except (SyntaxError, ValueError, RecursionError):
            meta.setdefault("skipped_lines", []).append(f"line {number}: {found.group()[:120]}")
            continue
        if not isinstance(entry, dict):
            continue
        if "train_runtime" in entry:
            meta["summary"] = {k: _summary_value(v) for k, v in entry.items()}
            continue
        if "summary" in meta:  # evaluate() after training: the final (or best) model, no step
            meta.setdefault("after_training", []).append(
                {k: _summary_value(v) for k, v in entry.items()})
            continue
        kind = "eval" if any(str(k).startswith("eval_") for k in entry) else "train"
        row = {HF_NAMES.get(k, k): _number(v, label, f"line {number}", k)
               for k, v in entry.items() if not isinstance(v, (dict, list))}
        same_step = (kind == "eval" and last_kind == "train" and rows
                     and rows[-1].get("epoch") == row.get("epoch"))
        if same_step:
            rows[-1].update(row)
        else:
            rows.append(row)
        last_kind = kind
    if not rows:
        raise fail(label, "has no Trainer log dicts ({'loss': ...} or {'eval_loss': ...})",
                   "Give the console output of trainer.train(), or better its trainer_state.json")
    total = re.search(r"Total optimization steps = ([\d,]+)", text)
    if total:
        meta["total_steps"] = int(total.group(1).replace(",", ""))
    meta.setdefault("notes", []).append(
        "the console log prints no step numbers: step k is the k-th logged row (an evaluation "
        "logged with a training row shares it); the epoch column tells where each row was")
    return _frame(rows, range(1, len(rows) + 1)), meta


def _pieces(text):
    """(line number, piece) for every piece of every line, split at tqdm's carriage returns."""
    for number, line in enumerate(text.split("\n"), 1):
        for piece in line.split("\r"):
            yield number, piece


def _summary_value(value):
    try:
        return float(value) if not isinstance(value, bool) else value
    except (TypeError, ValueError):
        return value


# ----------------------------------------------------------------------------- MLX-LM


def read_mlx_log(text, label, column_map=None):
    """``mlx_lm.lora`` output: ``Iter N: Name value[unit], ...`` lines; a Val and a Train line of
    one iteration share its row."""
    rows, meta = {}, {"format": "mlx_lora"}
    for number, line in enumerate(text.splitlines(), 1):
        found = MLX_LINE.match(line)
        if not found:
            continue
        fields = [MLX_FIELD.match(part) for part in found.group(2).split(",")]
        if not all(fields):  # e.g. "Iter 100: Saved adapter weights to ...": not metrics
            continue
        row = rows.setdefault(int(found.group(1)), {})
        for field in fields:
            name, value, unit = field.groups()
            key = re.sub(r"\W+", "_", name.strip().lower().replace("/", " per "))
            key = MLX_NAMES.get(key, key + (f"_{unit.lower()}" if unit else ""))
            row[key] = float(value)
    if not rows:
        raise fail(label, "has no 'Iter N: Train loss ...' lines", "Give mlx_lm.lora's output")
    steps = sorted(rows)
    valid = [s for s in steps if "valid_loss" in rows[s]]
    if any("train_loss" in rows[s] for s in valid):
        meta.setdefault("notes", []).append(
            "on an iteration that also validated, MLX times the training window without the "
            "validation, so that row's it_per_sec and tokens_per_sec are inflated")
    return _frame([rows[s] for s in steps], steps), meta


# ----------------------------------------------------------------------------- LLaMA-Factory


def read_llamafactory(records, label, column_map=None):
    """LLaMA-Factory ``trainer_log.jsonl`` records -> metrics; ``null`` means absent.

    Two kinds of repeated steps, resolved differently:
    - a **resumed run** restarts its clock (``elapsed_time`` falls back by more than a minute):
      it redid the steps from its checkpoint on, so its rows replace the earlier ones from that
      step on (the earlier run's later steps belong to training that was thrown away);
    - within one run, a step written more than once comes from several processes (data-parallel
      ranks), each logging its own loss: the file does not say which is rank 0, so the mean of
      their values is kept and the largest gap between them is reported.
    """
    meta = {"format": "llamafactory_log"}
    runs, clock, totals = [[]], 0.0, []
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict) or "current_steps" not in record:
            raise fail(label, f"line {n} has no 'current_steps'", "Each line of trainer_log.jsonl "
                              "is one JSON object written by LLaMA-Factory")
        elapsed = _seconds(record.get("elapsed_time"))
        if elapsed is not None:
            if elapsed < clock - 60 and runs[-1]:
                runs.append([])  # the clock restarted: a resumed run
                clock = 0.0
            clock = max(clock, elapsed)
        if record.get("total_steps") is not None:
            totals.append(record["total_steps"])
        where = f"line {n}"
        step = _whole(record["current_steps"], label, where)
        row = {LF_NAMES.get(k, k): _number(v, label, where, k) for k, v in record.items()
               if k not in LF_NOT_METRICS and v is not None}
        if any(k != "epoch" for k in row):  # a closing line with only the epoch is no point
            runs[-1].append((step, row))
    table, spread, twice = _merge_runs(runs, meta)
    if table.empty:
        raise fail(label, "has no line with a loss", "The run logged no step yet")
    if totals:
        meta["total_steps"] = int(max(totals))
    if twice:
        meta["duplicate_steps"] = twice
        meta["duplicates_resolved"] = (
            "mean of the values written for the same step within one run: several processes "
            "(data-parallel ranks) each wrote their own, and the file does not say which is "
            f"rank 0; the largest gap between them was {spread:.6g}")
    return table, meta


def _merge_runs(runs, meta):
    """Each run's rows averaged per step; a later (resumed) run replaces rows from its first
    step on. Returns (table, largest spread between duplicates, number of steps written twice)."""
    table, spread, twice = None, 0.0, 0
    for number, rows in enumerate(r for r in runs if r):
        frame = pd.DataFrame([row for _, row in rows], index=[s for s, _ in rows], dtype=float)
        groups = frame.groupby(level=0, sort=True)
        counts = groups.size()
        twice += int((counts > 1).sum())
        if (counts > 1).any() and "train_loss" in frame:
            spread = max(spread, float((groups["train_loss"].max()
                                        - groups["train_loss"].min()).max()))
        merged = groups.mean()  # NaN-skipping: an eval line and a train line fill one row
        if table is not None and number:
            start = int(merged.index.min())
            meta.setdefault("resumed_at", []).append(start)
            meta.setdefault("notes", []).append(
                f"a resumed run restarts at step {start}: its rows replace the earlier run's "
                f"from step {start} on ({int((table.index >= start).sum())} rows replaced)")
            table = pd.concat([table[table.index < start], merged])
        else:
            table = merged
    table = table if table is not None else pd.DataFrame()
    table.index = pd.Index(table.index.to_numpy(np.int64), name="step")
    return _frame(table.to_dict("records"), table.index), spread, twice


def _seconds(text):
    """``'0:02:38'``, ``'1 day, 0:08:23'`` -> seconds (None when absent or unreadable)."""
    found = re.fullmatch(r"\s*(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)\s*", str(text or ""))
    if not found:
        return None
    days, hours, minutes, secs = (int(g or 0) for g in found.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs


def _whole(value, label, where):
    number = _number(value, label, where, "current_steps")
    if not math.isfinite(number) or number != round(number) or number < 0:
        raise fail(label, f"{where}: current_steps {value!r} is not a step number")
    return int(number)
