"""Build a course notebook from a percent-format script, execute it, and save it with outputs.

    python tools/make_notebook.py SOURCE.py notebooks/NN_name.ipynb
    python tools/make_notebook.py --execute-only notebooks/NN_name.ipynb

Source format: cells start with ``# %%`` (code) or ``# %% [markdown]`` (markdown, every line
prefixed with ``# ``). ``# %% tags=["nbval-ignore-output"]`` adds cell tags. The string ``{badge}``
in markdown becomes the notebook's "Open in Colab" badge, and a code cell ``{setup}`` becomes
ftlab's Colab setup cell, so both stay identical across notebooks.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ftlab.course.facts import SETUP_CELL, colab_badge  # noqa: E402

HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def parse(text, notebook_name):
    cells, kind, tags, lines = [], None, [], []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            body = body.replace("{badge}", colab_badge(notebook_name))
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(SETUP_CELL if body.strip() == "{setup}" else body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            flush()
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
        else:
            lines.append(line)
    flush()
    return cells


def execute(path: Path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata.pop("widgets", None)  # GitHub refuses notebooks with partial widget state
    nbformat.write(nb, path)
    print(f"executed {path} in {time.perf_counter() - start:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path)
    ap.add_argument("out", type=Path, nargs="?")
    ap.add_argument("--execute-only", action="store_true")
    args = ap.parse_args()
    if args.execute_only:
        execute(args.source)
        return
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(args.source.read_text(encoding="utf-8"), args.out.name)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, args.out)
    execute(args.out)


if __name__ == "__main__":
    main()
