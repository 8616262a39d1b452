"""Reader of TensorBoard event files (``events.out.tfevents.*``) as the Hugging Face Trainer writes
them, read with TensorBoard's own ``EventAccumulator``. Returns ``(metrics, meta)``.

The Trainer logs ``loss`` as ``train/loss`` and ``eval_loss`` as ``eval/loss``, at its global step;
the columns get the names ``trainer_state.json`` gives the same numbers (``train_loss``,
``valid_loss``, ``learning_rate``, ``eval_runtime``...), so both logs of one run read alike.

Needs the optional ``tensorboard`` package: ``pip install "ftlab[logs]"`` (imported only when a
file is read, so ``import ftlab`` stays light).
"""

import json
import os
import tempfile

from ftlab.runs.formats import TABLE_ALIASES, fail
from ftlab.runs.tables import read_table

INSTALL = 'pip install "ftlab[logs]"'
# TrainingArguments worth keeping in meta (the Trainer writes all of them as a text summary).
ARGS = ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size",
        "gradient_accumulation_steps", "logging_steps", "eval_steps", "save_steps")


def need(module, package, what, label):
    """Import an optional package, or say in one line which extra brings it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{label}: reading {what} needs the '{package}' package, which is not "
                          f"installed. Install it with: {INSTALL}") from None


def hf_column(tag):
    """A Trainer tag -> ``(column, is_summary)``. The Trainer's last log holds the run's totals
    (``train/train_loss`` is the mean training loss of the whole run, ``train/train_runtime``,
    ``train/total_flos``): they describe the run, they are not points of a curve."""
    group, _, key = tag.partition("/")
    if group == "train" and key:
        if key.startswith("train_") or key == "total_flos":
            return key, True
    elif group == "eval" and key:
        key = "eval_" + key  # back to the Trainer's own name: eval/loss was eval_loss
    else:
        key = tag  # not written by the Trainer: a name like any table's (val_loss, epoch...)
    return TABLE_ALIASES.get(key.lower(), key), False


def read_tfevents(path, label):
    """A TensorBoard event file (or a folder of them, or its bytes) -> metrics by global step,
    and meta with the end-of-run figures in ``meta["summary"]``."""
    ea = need("tensorboard.backend.event_processing.event_accumulator", "tensorboard",
              "a TensorBoard event file", label)
    with tempfile.TemporaryDirectory() as tmp:
        events = ea.EventAccumulator(_event_path(path, tmp, label),
                                     size_guidance={ea.SCALARS: 0})  # 0: every point, not 10,000
        events.Reload()
        rows, summary = _scalars(events, label)
        texts = {tag: _text(events, tag) for tag in events.Tags().get("tensors", [])}
    if not rows:
        raise fail(label, "has no scalar curves (no train/loss, eval/loss, ... in it)",
                   "Give the events.out.tfevents file the Trainer wrote under logging_dir")
    metrics, meta = read_table([{"step": s, **rows[s]} for s in sorted(rows)], label,
                               fmt="tfevents")
    meta.update(_meta_from_texts(texts))
    if summary:
        meta["summary"] = summary
        meta["global_step"] = summary["step"]
    return metrics, meta


def _scalars(events, label):
    """Every scalar by step -> ``({step: {column: value}}, end-of-run summary)``."""
    rows, summary, source = {}, {}, {}
    for tag in events.Tags().get("scalars", []):
        column, at_end = hf_column(tag)
        if not at_end and source.setdefault(column, tag) != tag:
            raise fail(label, f"tags {source[column]!r} and {tag!r} would both be column {column!r}")
        for event in events.Scalars(tag):
            if at_end:
                summary.update({column: event.value, "step": event.step})
            else:  # train/epoch comes with the train and the eval log of a step: same value
                rows.setdefault(event.step, {})[column] = event.value
    return rows, summary


def _event_path(path, tmp, label):
    """EventAccumulator takes a file only if its name has 'tfevents' in it (anything else it reads
    as a folder), so bytes and renamed files are copied under such a name first."""
    if isinstance(path, (bytes, bytearray)):
        data = bytes(path)
    elif not os.path.exists(path):
        raise fail(label, "does not exist", "Check the path")
    elif os.path.isdir(path) or "tfevents" in os.path.basename(path):
        return str(path)
    else:
        with open(path, "rb") as file:
            data = file.read()
    copy = os.path.join(tmp, "events.out.tfevents.0")
    with open(copy, "wb") as file:
        file.write(data)
    return copy


def _text(events, tag):
    """The text of a text summary (TensorBoard stores it as a string tensor)."""
    try:
        return events.Tensors(tag)[-1].tensor_proto.string_val[0].decode("utf-8", "replace")
    except (IndexError, KeyError):
        return ""


def _meta_from_texts(texts):
    """The Trainer writes its TrainingArguments and the model's config as JSON text summaries."""
    meta = {}
    args = _json(texts.get("args/text_summary"))
    hyper = {k: args[k] for k in ARGS if args.get(k) is not None}
    if hyper:
        meta["hyperparameters"] = hyper
    model = _json(texts.get("model_config/text_summary")).get("_name_or_path")
    if model:
        meta["model"] = model
    return meta


def _json(text):
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
