"""The command line speaks to people, and no file is ever lost.

Every bad invocation below runs as a real `ftlab` process in a folder of tiny inputs, and must end
with the right exit status, one line on stderr naming the file (and the fix), no traceback, and
not one file of the folder changed. Failures that cannot be made for real (a full disk, Ctrl-C, a
refused permission when the tests run as root) are injected by a few lines run before ``main``.
"""

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ftlab._files import atomic_write, write_all

CHAT = Path(__file__).resolve().parent.parent / "data" / "chat"
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _workspace(folder):
    """Tiny inputs for every case: a dozen chat examples, a few broken files, a notebook."""
    lines = (CHAT / "marv_train.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "train.jsonl").write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
    (folder / "tiny.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    questions = [{"messages": [{"role": "user", "content": f"question {i}"}]} for i in range(6)]
    (folder / "nolabel.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    (folder / "latin1.jsonl").write_bytes(
        '{"messages": [{"role": "user", "content": "café"}]}\n'.encode("latin-1"))
    (folder / "run.csv").write_text("step,train_loss,train_accuracy\n1,2.0,0.5\n2,1.5,0.6\n")
    (folder / "taken.csv").write_text("precious\n")
    (folder / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    (folder / "bad.ipynb").write_text("not json\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    (folder / "adir").mkdir()


def _snapshot(folder):
    """Every path under ``folder`` with its bytes and mtime (folders too: a new one is a change)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def ftlab(folder, *args, before="", env=None):
    """Run `ftlab ARGS` in ``folder`` as a new process; ``before`` is Python run first (a patch)."""
    code = f"{before}\nimport sys\nfrom ftlab.cli import main\nsys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", code] if before else [sys.executable, "-m", "ftlab.cli"]
    return subprocess.run([*command, *args], cwd=folder, capture_output=True, text=True,
                          env={**os.environ, "FTLAB_DEBUG": "", **(env or {})}, timeout=120)


def _nth_file_fails(n, error):
    """Patch: the n-th file ftlab opens for writing raises ``error`` on its first write."""
    return f"""
import errno, os
_fdopen, _count = os.fdopen, [0]
class _Failing:
    def __init__(self, f): self._f = f
    def write(self, data): raise {error}
    def __getattr__(self, name): return getattr(self._f, name)
    def __enter__(self): return self
    def __exit__(self, *exc): self._f.close()
def _patched(fd, *args, **kwargs):
    _count[0] += 1
    f = _fdopen(fd, *args, **kwargs)
    return _Failing(f) if _count[0] == {n} else f
os.fdopen = _patched
"""


DISK_FULL = 'OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))'
DENIED = """
import errno, tempfile
def _denied(*args, dir=None, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied", os.path.join(dir, ".x.tmp"))
import os
tempfile.mkstemp = _denied
"""
INTERRUPT_TRAINING = """
import ftlab.tinylm.training as training
def _interrupted(*args, **kwargs):
    raise KeyboardInterrupt
training.finetune = _interrupted
"""
SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz123456"
BUG_WITH_SECRET = f"""
import ftlab.runs.samples as samples
def _bug():
    raise RuntimeError("boom with key {SECRET}")
samples.sample_runs = _bug
"""

# (args, code run before main, exit status, what stderr must say)
CASES = {
    # 1. a command never writes over its own input, nor two outputs to one path, --overwrite or not
    "augment provenance over the input": (
        ["augment", "train.jsonl", "-o", "out.jsonl", "--provenance", "train.jsonl", "--overwrite"],
        "", 2, ["train.jsonl", "also an input"]),
    "augment provenance over the output": (
        ["augment", "train.jsonl", "-o", "out.jsonl", "--provenance", "out.jsonl", "--overwrite"],
        "", 2, ["out.jsonl", "two outputs"]),
    "finetune results over the training file": (
        ["finetune", "train.jsonl", "-o", "train.jsonl", "--overwrite"], "", 2,
        ["train.jsonl", "also an input"]),
    "finetune model over the results": (
        ["finetune", "train.jsonl", "-o", "m.json", "--save-model", "m", "--overwrite"], "", 2,
        ["m.json", "two outputs"]),
    "run saved over its source": (
        ["run", "run.csv", "--save", "run.csv", "--overwrite"], "", 2, ["run.csv", "also an input"]),
    # 3. everyday mistakes
    "output exists": (["finetune", "train.jsonl", "-o", "taken.csv"], "", 2,
                      ["taken.csv exists; pass --overwrite or choose another name"]),
    "output is a folder": (["run", "run.csv", "--save", "adir"], "", 2, ["adir", "not a folder"]),
    "permission denied": (["split", "train.jsonl", "-o", "out"], DENIED, 1,
                          ["train_train.jsonl", "Permission denied"]),
    "disk full in the second of two files": (
        ["split", "train.jsonl", "--valid-fraction", "0.25", "-o", "out"],
        _nth_file_fails(2, DISK_FULL), 1, ["train_valid.jsonl", "No space left", "disk space"]),
    "disk full in the provenance": (
        ["augment", "train.jsonl", "-o", "out.jsonl"], _nth_file_fails(2, DISK_FULL), 1,
        ["out.provenance.csv", "No space left"]),
    "ctrl-c while writing": (
        ["split", "train.jsonl", "--valid-fraction", "0.25", "-o", "out"],
        _nth_file_fails(2, "KeyboardInterrupt"), 130, ["ftlab split: interrupted"]),
    "ctrl-c while training": (["finetune", "train.jsonl", "-o", "r.csv"], INTERRUPT_TRAINING, 130,
                              ["ftlab finetune: interrupted"]),
    "solutions without a folder": (["solutions", "nb.ipynb"], "", 2,
                                        ["nb.ipynb", "the first argument is the folder"]),
    "solutions of a file that is not a notebook": (
        ["solutions", "out", "bad.ipynb"], "", 2, ["bad.ipynb", "not", "notebook"]),
    "solutions of two notebooks of one name": (
        ["solutions", "out", "nb.ipynb", "sub/nb.ipynb"], "", 2, ["nb.ipynb", "same file name"]),
    "finetune on a file that is not UTF-8": (["finetune", "latin1.jsonl", "-o", "r.csv"], "", 2,
                                             ["latin1.jsonl", "UTF-8"]),
    "missing input": (["finetune", "missing.jsonl", "-o", "r.csv"], "", 2, ["missing.jsonl"]),
    "missing input to split": (["split", "missing.jsonl", "-o", "out"], "", 2, ["missing.jsonl"]),
    "valid fraction out of range": (["split", "train.jsonl", "--valid-fraction", "1.5", "-o", "out"],
                                    "", 2, ["--valid-fraction", "between 0 and 1", "1.5"]),
    "epochs out of range": (["finetune", "train.jsonl", "--epochs", "0", "-o", "r.csv"], "", 2,
                            ["--epochs", "from 1 to 1000"]),
    "mistyped model name": (["check", "train.jsonl", "--model", "gpt-4o-mni"], "", 2,
                            ["gpt-4o-mni", "did you mean --model gpt-4o-mini"]),
    "split with nothing for validation": (
        ["split", "tiny.jsonl", "--valid-fraction", "0.1", "-o", "out"], "", 2,
        ["tiny.jsonl", "validation would be empty", "--valid-fraction"]),
    "stratify without labels": (["split", "nolabel.jsonl", "--stratify", "label", "-o", "out"], "", 2,
                                ["nolabel.jsonl", "drop --stratify"]),
    "stratify free-text replies": (["split", "train.jsonl", "--stratify", "label", "-o", "out"], "", 2,
                                   ["train.jsonl", "drop --stratify"]),
    "check a file that is not JSONL": (["check", "run.csv"], "", 2, ["run.csv", "not a JSONL file"]),
    # 4. no command at all: a hint and the list of commands
    "bare ftlab": ([], "", 2, ["which command", "solutions", "finetune"]),
    # a bug: one redacted line, the traceback only with FTLAB_DEBUG
    "unexpected error": (["runs"], BUG_WITH_SECRET, 1, ["RuntimeError: boom", "FTLAB_DEBUG=1"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_mistake_is_one_line_with_the_right_status_and_no_file_changes(tmp_path, name):
    args, before, status, expected = CASES[name]
    _workspace(tmp_path)
    files = _snapshot(tmp_path)
    proc = ftlab(tmp_path, *args, before=before)
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for text in expected:
        assert text in proc.stderr, proc.stderr
    if name != "bare ftlab":  # which lists the commands after its line
        said = [line for line in proc.stderr.splitlines() if line.strip() and "%|" not in line]
        assert len(said) == 1, proc.stderr  # one line, besides the progress bar of the work
    assert SECRET not in proc.stderr
    assert _snapshot(tmp_path) == files, "a file changed, or a partial file was left"


def test_ftlab_debug_shows_the_traceback_redacted(tmp_path):
    proc = ftlab(tmp_path, "runs", before=BUG_WITH_SECRET, env={"FTLAB_DEBUG": "1"})
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "_bug" in proc.stderr
    assert SECRET not in proc.stderr and "sk-***" in proc.stderr


# ----------------------------------------------------------------------------- terminals, output


def test_an_ascii_terminal_gets_escapes_not_a_crash(tmp_path):
    _workspace(tmp_path)
    proc = ftlab(tmp_path, "check", "train.jsonl", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "\\u2014 OK" in proc.stdout  # the "—" of the summary line, escaped


def test_check_lists_a_sensible_number_of_problems(tmp_path):
    good = (CHAT / "marv_train.jsonl").read_text(encoding="utf-8").splitlines()[:12]
    (tmp_path / "messy.jsonl").write_text("\n".join(good + ["{oops"] * 50) + "\n", encoding="utf-8")
    proc = ftlab(tmp_path, "check", "messy.jsonl")
    assert proc.returncode == 1 and proc.stdout.count("[invalid_json]") == 20
    assert "… 30 more problems (--all lists every one)" in proc.stdout
    assert ftlab(tmp_path, "check", "messy.jsonl", "--all").stdout.count("[invalid_json]") == 50


def test_runs_fits_the_terminal(tmp_path):
    for columns in (60, 100):
        proc = ftlab(tmp_path, "runs", env={"COLUMNS": str(columns)})
        assert proc.returncode == 0 and "marv" in proc.stdout and "story" in proc.stdout
        assert max(len(line) for line in proc.stdout.splitlines()) < columns


def test_every_subcommand_and_argument_has_a_help_text():
    from ftlab.cli import _build_parser

    sub = next(a for a in _build_parser()._actions if a.dest == "command")
    listed = {choice.dest: choice.help for choice in sub._choices_actions}
    assert set(listed) == set(sub.choices) and all(listed.values())
    for name, parser in sub.choices.items():
        assert parser.description, name
        for action in parser._actions:
            assert action.help, f"ftlab {name} {action.dest}: no help text"


# ----------------------------------------------------------------------------- writers


def test_a_set_of_files_is_written_whole_or_not_at_all(tmp_path):
    def interrupted(f):
        f.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_all([(tmp_path / "new" / "a.jsonl", lambda f: f.write("a")),
                   (tmp_path / "new" / "b.csv", interrupted)])
    assert list(tmp_path.iterdir()) == []  # no file, no temp file, not even the new folder
    with pytest.raises(ValueError, match="two outputs"):
        write_all([(tmp_path / "a", str), (tmp_path / "." / "a", str)], overwrite=True)
    source = tmp_path / "in.jsonl"
    source.write_text("data\n")
    with pytest.raises(ValueError, match="also an input"):
        write_all([(source, lambda f: f.write("x"))], overwrite=True, inputs=[source])
    assert source.read_text() == "data\n"


def test_a_file_another_process_writes_meanwhile_is_never_replaced(tmp_path):
    target = tmp_path / "out.jsonl"

    def racing(f):  # another process creates the target while this one is writing
        target.write_text("theirs\n")
        f.write("ours\n")

    with pytest.raises(FileExistsError):
        atomic_write(target, racing)
    assert target.read_text() == "theirs\n" and len(list(tmp_path.iterdir())) == 1


def test_two_writers_of_one_path_each_use_their_own_temp_file(tmp_path):
    target, barrier, errors = tmp_path / "out.txt", threading.Barrier(2), []

    def write(text):
        def fill(f):
            barrier.wait(timeout=10)  # both temp files exist at once
            f.write(text * 1000)
        try:
            atomic_write(target, fill, overwrite=True)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and target.read_text() in ("a" * 1000, "b" * 1000)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_augment_leaves_another_writers_temp_file_alone(tmp_path):
    from ftlab.augment.chat import augment_chat

    result = augment_chat([{"messages": [{"role": "user", "content": "Why is the sky blue?"},
                                         {"role": "assistant", "content": "Rayleigh."}]}],
                          ["swap"], n_per_example=1, seed=0, rate=0.3)
    theirs = tmp_path / ".aug.provenance.csv.tmp"  # the fixed temp name an older writer used
    theirs.write_text("another process is writing this\n")
    result.write(tmp_path / "aug.jsonl")
    assert theirs.read_text() == "another process is writing this\n"
    assert (tmp_path / "aug.provenance.csv").read_text().startswith("index,")


def test_solved_copies_refuse_two_notebooks_of_one_name(tmp_path):
    from ftlab.course.copies import write_solved_copies

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    with pytest.raises(ValueError, match="same file name"):
        write_solved_copies([tmp_path / "a" / "nb.ipynb", tmp_path / "b" / "nb.ipynb"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_full_disk_names_the_file(tmp_path):
    def full(f):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError) as caught:
        atomic_write(tmp_path / "out.csv", full)
    assert caught.value.filename == str(tmp_path / "out.csv") and list(tmp_path.iterdir()) == []
