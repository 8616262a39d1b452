"""The project's own promises: light import, consistent dependency lists, working exports and CLI."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import ftlab
from ftlab.course.facts import SETUP_CELL, colab_url

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement):
    """'numpy>=1.24' -> 'numpy' (names compared the way pip does: case and -/_ folded)."""
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {_name(d) for d in dep["pip"] if not d.startswith("-e")}
            assert "-e ." in dep["pip"], "environment.yml must install ftlab itself (pip: -e .)"
        else:
            conda.add(_name(dep))
    assert conda >= {"python", "pip"}
    env_deps = (conda | pip) - {"python", "pip"}
    assert env_deps == {_name(d) for d in project["dependencies"]}


@pytest.mark.parametrize("name", sorted(ftlab._EXPORTS))
def test_every_export_resolves(name):
    assert getattr(ftlab, name) is not None
    assert name in dir(ftlab)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ftlab.nope  # noqa: B018


def test_cli_runs_as_installed_command():
    out = subprocess.run([sys.executable, "-m", "ftlab.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == ftlab.__version__


def test_notebooks_share_the_setup_cell_and_colab_badge():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert "".join(code[0]["source"]) == SETUP_CELL, f"{path.name}: first code cell is not the setup cell"
        first_markdown = "".join(nb["cells"][0]["source"])
        assert colab_url(path.name) in first_markdown, f"{path.name}: Colab badge missing or wrong"


def test_readme_first_screen_has_the_two_setup_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:30])
    assert "pip install -e . && jupyter lab notebooks/" in first_screen
    assert 'pip install -e ".[test]" && pytest' in first_screen


def test_cli_output_piped_into_head_is_not_an_error():
    """`ftlab runs | head -1`: the reader goes away before the command has written anything."""
    proc = subprocess.Popen([sys.executable, "-m", "ftlab.cli", "runs"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like head, stop reading at once: every write now fails with EPIPE
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "Traceback" not in stderr, stderr
