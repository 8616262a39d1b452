"""diagnose, early stopping and plots on the shipped real recordings."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ftlab  # noqa: E402
from ftlab.curves.run_stopping import checkpoint_steps, run_early_stopping  # noqa: E402
from ftlab.curves.plots import CurvePlot  # noqa: E402


@pytest.fixture(scope="module")
def patent():
    return ftlab.load_sample("patent-insights")


@pytest.fixture(scope="module")
def tinyllama():
    return ftlab.load_sample("tinyllama-trl")


def test_overfitting_recording_is_overfitting(patent):
    d = ftlab.diagnose(patent)
    assert d.verdict == "overfitting"
    assert d.best_valid_step == 100 and round(d.best_valid_loss, 3) == 0.519
    assert d.rise_step == 200 and d.valid_slope > 0 > d.train_slope
    assert "fewer epochs" in d.advice and "100" in d.advice
    assert d.rise > d.rise_needed and (d.best_epoch, d.best_before_repeat) == (1, True)


def test_healthy_hf_run_is_not_overfitting(tinyllama):
    d = ftlab.diagnose(tinyllama)
    assert d.verdict in ("converged", "still-improving")
    assert d.best_valid_step == 2800


@pytest.mark.parametrize("name, verdict", [
    ("historygpt", "converged"), ("marv", "no-validation"), ("ms-thesis-legacy", "overfitting"),
    ("nlbse-noval", "no-validation"), ("patent-insights", "overfitting"),
    ("patent-insights-last-events", "too-little-validation"), ("tinyllama-trl", "converged"),
    # the logs learners bring after January 2027
    ("azure-storytelling", "overfitting"), ("hf-ner-console", "overfitting"),
    ("llamafactory-qwen", "too-little-validation"), ("mlx-medical", "too-little-validation"),
    ("roberta-tensorboard", "converged")])
def test_every_shipped_run_keeps_its_verdict(name, verdict):
    assert ftlab.diagnose(ftlab.load_sample(name)).verdict == verdict


@pytest.mark.parametrize("name", ["nlbse-noval", "marv"])
def test_runs_without_validation_file(name):
    d = ftlab.diagnose(ftlab.load_sample(name))
    assert d.verdict == "no-validation" and d.n_valid == 0 and "validation file" in d.advice


def test_run_early_stopping_on_the_overfitting_run(patent):
    r = patent.early_stopping(patience=2)
    # evaluations every 100 steps: best at 100, two worse evaluations (200, 300) -> stop at 300
    assert (r.stop_step, r.best_step, r.last_step) == (300, 100, 1665)
    assert r.steps_saved == 1365
    assert r.kept_valid_loss == pytest.approx(0.5191) and r.final_valid_loss == pytest.approx(0.94125)
    # OpenAI keeps one checkpoint per epoch: none exists at or before step 100
    assert r.checkpoints == [555, 1110, 1665] and r.checkpoint_step is None
    assert "step 300" in r.summary()


def test_run_early_stopping_uses_only_recorded_evaluations(tinyllama):
    r = run_early_stopping(tinyllama, patience=1)
    assert list(r.eval_steps) == list(range(200, 2801, 200)) and r.stop_step is None
    assert checkpoint_steps(tinyllama)[:2] == [200, 400]


def test_hf_keeps_only_a_saved_checkpoint(tinyllama):
    r = tinyllama.early_stopping(flavor="hf", patience=1)
    assert (r.best_step, r.checkpoint_step, r.recorded_best_step) == (2800, 2800, 2800)
    assert r.checkpoints_known and r.checkpoints[:2] == [200, 400]
    sparse = tinyllama.copy()
    sparse.meta["save_steps"], sparse.meta["checkpoints"] = 600, None
    r = sparse.early_stopping(flavor="hf", patience=1)  # 2800 is not a multiple of 600: not saved
    assert r.best_step == 2800 and r.checkpoint_step is None and "no saved checkpoint" in r.note


def test_hf_with_unknown_save_schedule_says_so(tinyllama, patent):
    bare = tinyllama.copy()
    del bare.meta["save_steps"]
    for run in (bare, patent):
        r = run.early_stopping(flavor="hf", patience=2)
        assert not r.checkpoints_known and r.checkpoint_step is None and r.checkpoints == []
        assert "unknown" in r.summary()


def test_hf_save_strategy_epoch_and_best(patent):
    run = patent.copy()
    run.meta["save_strategy"] = "epoch"
    assert run.early_stopping(flavor="hf", patience=2).checkpoints == [555, 1110, 1665]
    run.meta["save_strategy"] = "best"
    assert run.early_stopping(flavor="hf", patience=2).checkpoint_step == 100


def test_tokens_saved_from_recorded_token_counts():
    run = ftlab.load_sample("ms-thesis-legacy")
    r = run.early_stopping(patience=3)
    tokens = run.metrics["elapsed_tokens"]
    assert r.tokens_saved == pytest.approx(tokens[r.last_step] - tokens[r.stop_step])


def test_early_stopping_without_validation_says_why():
    with pytest.raises(ValueError, match="no validation file"):
        ftlab.load_sample("nlbse-noval").early_stopping()


def test_sweep_matches_single_replays(patent):
    table = ftlab.sweep_early_stopping(patent, patience=range(0, 4), min_delta=[0.0, 0.2])
    assert len(table) == 8
    for row in table.itertuples():
        r = patent.early_stopping(patience=row.patience, min_delta=row.min_delta)
        assert row.stop_step == (r.last_step if r.stop_step is None else r.stop_step)
    # a min_delta larger than any later improvement cannot change the best (step 100 here)
    assert set(table["best_step"]) == {100}


def test_plot_run_draws_every_curve(patent):
    fig = ftlab.plot_run(patent, perplexity=True, checkpoints=checkpoint_steps(patent))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training loss (smoothed)", "validation loss", "best validation", "checkpoint"]
    # the epochs are named on an axis of their own above the plot, perplexity on the right
    epochs, perplexity = ax.child_axes
    assert [t.get_text() for t in epochs.get_xticklabels()] == ["epoch 1", "epoch 2", "epoch 3"]
    assert list(epochs.get_xticks()) == [277.5, 832.5, 1387.5]  # the middle of each epoch
    assert perplexity.get_ylabel() == "perplexity  e^loss"
    plt.close(fig)


def test_curve_plot_reveals_up_to_a_step(patent):
    plot = CurvePlot(patent, pyplot=False)
    info = plot.show_until(250)
    assert info["n_train"] == 250 and info["n_valid"] == 2 and info["best"] == (100.0, 0.5191)
    assert np.max(plot.trend.get_xdata()) == 250
    plot.show_until(None)
    assert len(plot.raw.get_xdata()) == 1665


def test_projector_style_is_bigger(patent):
    small = ftlab.plot_run(patent)
    big = ftlab.plot_run(patent, style="projector")
    size = lambda f: f.axes[0].xaxis.label.get_fontsize()  # noqa: E731
    assert size(big) > size(small)
    assert big.axes[0].lines[1].get_linewidth() > small.axes[0].lines[1].get_linewidth()
    plt.close("all")


def test_plot_runs_and_sweep(patent, tinyllama):
    fig = ftlab.plot_runs([patent, tinyllama], x="epoch")
    assert len(fig.axes[0].lines) == 4
    table = ftlab.sweep_early_stopping(patent, patience=range(3), min_delta=[0, 0.1])
    fig = ftlab.plot_sweep(table, "stop_step")
    assert fig.axes[0].images[0].get_array().shape == (2, 3)
    with pytest.raises(ValueError, match="value must be"):
        ftlab.plot_sweep(table, "nope")
    plt.close("all")


def test_stored_save_steps_off_the_evaluation_grid_make_the_schedule_unknown():
    """trainer_state.json keeps save_steps=500 and eval_steps=500 although this run evaluated and
    saved per epoch (815, 1630, 2445): no checkpoint is invented at 500, 1000, ..."""
    from pathlib import Path

    from ftlab.curves.run_stopping import hf_saved_steps

    path = Path(__file__).resolve().parents[2] / "shared" / "recorded" / \
        "hf_trainer_state_jaypee34_distilbert_bestf1.json"
    if not path.exists():
        pytest.skip(f"the recorded sample is not here ({path})")
    run = ftlab.load_run(path)
    assert run.meta["save_steps"] == 500
    steps, how = hf_saved_steps(run)
    assert steps is None and "not on its eval_steps grid" in how
