"""Every Colab badge, setup cell and README link comes from one setting, and tools/publish.py moves them."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ftlab.course import facts

ROOT = Path(__file__).resolve().parent.parent
COLAB = re.compile(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([\w.-]+)/notebooks/([\w.-]+)")
GIT = re.compile(r"git\+https://github\.com/([\w.-]+/[\w.-]+)@([\w./-]+?)\\?\"")
REPO_LINK = re.compile(r"github\.com/([\w.-]+/[\w.-]+)")


def _disagreements(root, repo, branch):
    """Every link under ``root`` that does not point at ``repo``/``branch``."""
    wrong = []
    for path in [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]:
        text = path.read_text(encoding="utf-8")
        for found, want in [(COLAB, (repo, branch)), (GIT, (repo, branch))]:
            wrong += [(path.name, m.group(0)) for m in found.finditer(text) if m.groups()[:2] != want]
        wrong += [(path.name, m.group(0)) for m in REPO_LINK.finditer(text)
                  if m.group(1).split("/")[0] == repo.split("/")[0] and m.group(1) != repo]
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            badge = next(c for c in cells if c["cell_type"] == "markdown")
            if f"github/{repo}/blob/{branch}/notebooks/{path.name}" not in "".join(badge["source"]):
                wrong.append((path.name, "no badge for itself in its first markdown cell"))
            setup = next(c for c in cells if c["cell_type"] == "code")
            if f"git+https://github.com/{repo}@{branch}" not in "".join(setup["source"]):
                wrong.append((path.name, "its first code cell does not install from the setting"))
    return wrong


def test_every_notebook_and_the_readme_agree_with_the_setting():
    assert _disagreements(ROOT, facts.REPO, facts.BRANCH) == []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        setup = next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        assert "".join(setup["source"]) == facts.SETUP_CELL, f"{path.name}'s setup cell differs"


def _course_copy(tmp_path):
    for rel in ["README.md", "ftlab/course/facts.py", "notebooks"]:
        source, target = ROOT / rel, tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return tmp_path


def _publish(*args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "publish.py"), *args],
                          capture_output=True, text=True)


def test_publish_moves_every_link_to_the_fork(tmp_path):
    root = _course_copy(tmp_path)
    proc = _publish("my-school/ml-course", "--branch", "autumn", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("rewrote") == 2 + len(list((root / "notebooks").glob("*.ipynb")))
    assert 'REPO = "my-school/ml-course"' in (root / "ftlab/course/facts.py").read_text()
    assert _disagreements(root, "my-school/ml-course", "autumn") == []
    everything = "".join(p.read_text() for p in [root / "README.md", *root.glob("notebooks/*")])
    assert facts.REPO not in everything


def test_publish_refuses_a_name_that_is_no_repository(tmp_path):
    root = _course_copy(tmp_path)
    before = (root / "ftlab/course/facts.py").read_text()
    proc = _publish("https://github.com/me/fork", "--root", str(root))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "OWNER/REPO" in proc.stderr and "Traceback" not in proc.stderr
    assert (root / "ftlab/course/facts.py").read_text() == before
