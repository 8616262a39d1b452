"""Every committed notebook renders on GitHub and in Colab, and leaks no local path.

(API keys: tests/test_no_secrets.py scans every notebook with ftlab.hosted.client.find_keys.)
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_OUTPUT_BYTES = 1_000_000
LOCAL_PATH = re.compile(r"(/work/|/root/|/home/\w+|/tmp/|/Users/\w+|C:\\\\Users)")


def _outputs(nb):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            yield index, output


def _text_of(output):
    parts = [output.get("text", "")]
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            parts.append(value if isinstance(value, str) else json.dumps(value))
    parts += output.get("traceback", [])
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_valid_and_without_widget_state(notebook):
    path, nb = notebook
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, f"{path.name}: strip metadata.widgets (GitHub refuses partial state)"


def test_committed_executed_with_no_errors(notebook):
    path, nb = notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{path.name}: a code cell never ran"
    errors = [i for i, o in _outputs(nb) if o.output_type == "error"]
    assert not errors, f"{path.name}: cells {errors} stored an error"


def test_outputs_are_small_png_not_svg(notebook):
    path, nb = notebook
    for index, output in _outputs(nb):
        data = output.get("data", {})
        assert "image/svg+xml" not in data, f"{path.name} cell {index}: SVG output (nbval compares it)"
        size = len(json.dumps(output))
        assert size < MAX_OUTPUT_BYTES, f"{path.name} cell {index}: output of {size:,} bytes"


def test_outputs_show_no_local_paths(notebook):
    path, nb = notebook
    for index, output in _outputs(nb):
        text = _text_of(output)
        assert not LOCAL_PATH.search(text), f"{path.name} cell {index}: local path {LOCAL_PATH.search(text)[0]!r}"


def test_the_path_check_catches_a_local_path():
    leaky = {"output_type": "stream", "name": "stdout", "text": "saved to /home/alice/run.csv"}
    assert LOCAL_PATH.search(_text_of(leaky))
