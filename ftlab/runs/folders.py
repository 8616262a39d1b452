"""Finding the run log in a folder: a Hugging Face ``output_dir`` or ``checkpoint-*`` folder, a W&B
run folder (``run-*/`` with ``files/`` and ``run-*.wandb``), a LLaMA-Factory output folder, an MLX
adapter folder. ``load_run(folder)`` reads the richest log :func:`find_log` finds and says which
in ``meta["source_file"]``; a summary-only file's error names the log next to it.
"""

import fnmatch
import os
import re
from pathlib import Path

from ftlab.runs.formats import SummaryOnlyError

# The marks of each line-oriented log; the first one in a file decides its format.
LINE_LOGS = re.compile(r"(?P<openai_event_log>Step \d+/\d+:|^Event ID:)"
                       r"|(?P<mlx_lora>^\s*Iter \d+: (?:Train|Val) loss )"
                       r"|(?P<hf_console>\{'(?:loss|eval_loss)': )", re.M)
# The richest log first. trainer_state.json holds every logged train and eval step with exact
# values and the run's settings; LLaMA-Factory's trainer_log.jsonl has the same steps with fewer
# fields; results.csv is OpenAI's / Azure's own per-step file; a TensorBoard event file has the
# scalars as float32; a .wandb file has them under W&B's own step counter; a console log has values
# rounded for printing and (Hugging Face's) no step numbers at all.
FOLDER_ORDER = (
    ("trainer_state.json",),
    ("trainer_log.jsonl",),
    ("results.csv", "step_metrics.csv", "compiled_results.csv"),
    ("events.out.tfevents.*",),
    ("*.wandb",),
    ("*.log", "*.out", "*.txt"),
)
FOLDER_DEPTH, FOLDER_FILES = 4, 20_000  # an output folder is shallow; do not crawl a disk


def find_log(folder, exclude=()):
    """The richest run log under ``folder`` (see ``FOLDER_ORDER``), or None."""
    files = files_under(Path(folder))
    for tier, patterns in enumerate(FOLDER_ORDER):
        found = [p for p in files if p not in exclude
                 and any(fnmatch.fnmatch(p.name, pattern) for pattern in patterns)]
        if tier == len(FOLDER_ORDER) - 1:  # console logs: only files that are logs
            found = [p for p in found if _is_console_log(p)]
        if found:
            return _newest(found, Path(folder), by_name=tier == 3)
    return None


def files_under(folder):
    files = []
    for root, dirs, names in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and depth < FOLDER_DEPTH)
        files.extend(Path(root) / n for n in sorted(names))
        if len(files) > FOLDER_FILES:
            break
    return files


def _newest(paths, folder, by_name):
    """The folder's own file, else the latest: checkpoint-1000 after checkpoint-900, a W&B
    run-20250624_170930-* after an earlier one, a later TensorBoard timestamp (in its name)."""
    def numbers(text):
        return [int(n) for n in re.findall(r"\d+", text)]

    def key(path):
        parent = str(path.parent.relative_to(folder))
        own = parent == "."
        return (own, numbers(path.name) if by_name else numbers(parent), numbers(path.name))
    return max(paths, key=key)


def _is_console_log(path):
    if path.stat().st_size > 200_000_000:
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(LINE_LOGS.search(text))


def folder_hint(folder):
    names = [p.name for p in files_under(folder)]
    if "adapter_config.json" in names or any(n.endswith("adapters.safetensors") for n in names):
        return ("This looks like an MLX-LM adapter folder: mlx_lm.lora prints its losses and "
                "saves no log; run it again with '| tee train.log' and load that file")
    return "Give the file that holds the steps, or the training's output folder"


# ----------------------------------------------------------------------------- summaries


def summary_error(label, content, path):
    """A summary-only file: say so, with its numbers, and point to the file with the curve."""
    summary = content
    if isinstance(content, dict) and isinstance(content.get("log_history"), list):
        summary = next(e for e in content["log_history"] if "train_runtime" in e)
    shown = ", ".join(f"{k}={summary[k]}" for k in ("eval_loss", "eval/loss", "train_loss",
                                                    "epoch", "train/global_step") if k in summary)
    if "train_loss" in summary:
        shown += "; its train_loss is the mean over the whole run"
    curve = None
    if path is not None:
        folder = path.parent.parent if path.parent.name == "files" else path.parent  # W&B files/
        curve = find_log(folder, exclude={path})
    fix = (f"The folder it is in has the curve in {curve}: load_run({str(curve)!r})" if curve else
           "Load the file with the steps instead: trainer_state.json (in the output folder or a "
           "checkpoint-*/ folder), trainer_log.jsonl, run-*.wandb, an events.out.tfevents.* file "
           "or the console log")
    fix += (". To read the summary itself, load_run(..., format='summary') gives a Run with no "
            "steps and these numbers in run.meta['summary']")
    return SummaryOnlyError(label, "is a summary of a finished run, not its curve: final numbers "
                                   f"only, no steps ({shown})", fix, summary, curve)
