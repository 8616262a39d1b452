"""The shipped recordings: listed, loadable, faithful to their originals, inside the wheel."""

import shutil
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

import ftlab
from ftlab.runs.run import load_run
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sample_runs_lists_every_shipped_file():
    table = ftlab.sample_runs()
    shipped = sorted(p.stem for p in (ROOT / "data" / "runs").glob("*.csv"))
    assert sorted(table["name"]) == shipped and len(shipped) == 12
    marv = table.set_index("name").loc["marv"]
    assert marv["steps"] == 83 and not marv["validation"] and "Marv" in marv["story"]
    assert table.set_index("name").loc["patent-insights", "steps"] == 1665
    assert all(table["story"].str.len() > 20)


def test_load_sample_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="marv"):
        ftlab.load_sample("no-such-run")


def test_each_shipped_run_equals_its_original(recorded):
    for name in ftlab.sample_runs()["name"]:
        shipped = ftlab.load_sample(name)
        source = shipped.meta["source"]
        again = load_run(recorded / source["file"], name=name, meta=shipped.meta)
        pd.testing.assert_frame_equal(shipped.metrics, again.metrics, check_exact=True)
        assert shipped.meta == again.meta


def test_sources_md_names_every_run_with_its_commit():
    text = (ROOT / "data" / "runs" / "SOURCES.md").read_text()
    for name in ftlab.sample_runs()["name"]:
        meta = ftlab.load_sample(name).meta
        assert f"`{name}`" in text and meta["source"]["commit"][:12] in text


def test_wheel_carries_the_runs_and_loads_them(tmp_path):
    """Build the wheel, install it into a scratch folder and load a sample from there."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        have = version("setuptools")
    except PackageNotFoundError:
        have = "none"
    if have == "none" or int(have.split(".")[0]) < 77:
        pytest.skip(f"building the wheel offline needs setuptools>=77 here (found {have}); "
                    'pip install -e ".[test]" installs it')
    source = tmp_path / "src"  # a copy, so the build leaves no build/ folder in the checkout
    source.mkdir()
    for part in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / part, source / part)
    for folder in ("ftlab", "data"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(source)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("ftlab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ftlab/data/runs/marv.csv" in names and "ftlab/data/runs/SOURCES.md" in names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "ftlab").rglob("*.py")}
    assert modules <= set(names), f"missing from the wheel: {sorted(modules - set(names))}"
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("import ftlab, sys; r = ftlab.load_sample('marv'); "
            "assert 'site' in ftlab.__file__, ftlab.__file__; "
            "print(r.n_steps, len(ftlab.sample_runs()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["83", "12"]


def test_stories_say_what_the_numbers_show():
    """Each one-line story is a claim about the data; check the claims."""
    import numpy as np

    assert ftlab.load_sample("historygpt").metrics["valid_loss"].notna().all()
    legacy = ftlab.load_sample("ms-thesis-legacy").metrics["valid_loss"].dropna().index
    assert set(np.diff(legacy)) == {8}
    assert ftlab.load_sample("nlbse-noval").metrics["train_loss"].iloc[-1] == 0.0
    assert not ftlab.load_sample("nlbse-noval").has_validation
    healthy = ftlab.load_sample("tinyllama-trl").metrics["valid_loss"].dropna()
    assert healthy.is_monotonic_decreasing
    patent = ftlab.load_sample("patent-insights")
    assert patent.best_valid()[0] == 100 and patent.metrics["train_loss"].iloc[-100:].mean() < \
        patent.metrics["train_loss"].iloc[:100].mean()
    last = ftlab.load_sample("patent-insights-last-events").metrics
    assert last["full_valid_loss"].notna().sum() == 1


def test_the_stories_of_the_newer_formats_are_true_of_their_data():
    """Each shipped run's one-line story states facts; check them against the numbers."""
    ner = ftlab.load_sample("hf-ner-console").metrics
    evals = ner.dropna(subset=["valid_loss"]).set_index("epoch")
    assert evals["valid_loss"].idxmin() == 2 and evals["valid_loss"].loc[2:].is_monotonic_increasing
    assert round(evals.loc[2, "eval_overall_f1"], 3) == 0.598
    assert round(evals.loc[10, "eval_overall_f1"], 3) == 0.654
    full = ftlab.load_sample("azure-storytelling").metrics["full_valid_loss"].dropna()
    assert full.index.tolist() == [100, 200, 300] and full.idxmin() == 200
    qwen = ftlab.load_sample("llamafactory-qwen").metrics
    assert qwen["valid_loss"].dropna().index.tolist() == [100, 200, 300, 369]
    assert (qwen["train_loss"].dropna().index % 5 == 0).all()
    mlx = ftlab.load_sample("mlx-medical").metrics
    assert mlx["valid_loss"].dropna().index.tolist() == [1, 200, 400, 600]
    assert (mlx["train_loss"].dropna().index % 10 == 0).all()
    noval = ftlab.load_sample("nlbse-noval").metrics["train_loss"].dropna()
    last_quarter = noval.iloc[-len(noval) // 4:]
    assert (last_quarter < 0.01).mean() > 0.5 and (last_quarter > 0.01).any()
    patent = ftlab.load_sample("patent-insights").metrics
    valid, train = patent["valid_loss"].dropna(), patent["train_loss"]
    assert valid.idxmin() == 100 and (valid.loc[200:] > valid.loc[100]).all()
    assert train.groupby((train.index - 1) // 555).mean().is_monotonic_decreasing
    roberta = ftlab.load_sample("roberta-tensorboard").metrics
    assert roberta.index.tolist() == list(range(100, 1201, 100))
    assert roberta[["train_loss", "valid_loss"]].notna().all().all()
