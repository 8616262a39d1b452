"""The replay and early-stopping explorers, driven from Python as a learner drives them."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ftlab  # noqa: E402

widgets = pytest.importorskip("ftlab.widgets.loss_curves")


@pytest.fixture(scope="module")
def rp():
    return widgets.replay("patent-insights")


def _png(explorer):
    return explorer.blitter.png()


def test_replay_step_slider_updates_result_readout_and_image(rp):
    rp.controls["run"].value = "patent-insights"
    rp.controls["step"].value = 150
    before = _png(rp)
    assert rp.result["valid_loss"] == pytest.approx(0.5191) and rp.result["valid_step"] == 100
    rp.controls["step"].value = 500
    r = rp.result
    assert (r["step"], r["valid_step"]) == (500, 500)
    assert r["valid_loss"] == pytest.approx(0.81092)
    assert r["train_loss"] == pytest.approx(ftlab.load_sample("patent-insights").metrics.loc[500, "train_loss"])
    assert r["valid_perplexity"] == pytest.approx(np.exp(0.81092))
    assert "step 500 of 1665" in rp.readout.value and "best 0.519 at step 100" in rp.readout.value
    assert _png(rp) != before
    # the curves are revealed up to the step, on the same figure (no rebuild)
    plot_lines = rp.figure.axes[0].lines
    assert max(plot_lines[0].get_xdata()) == 500 and len(plot_lines[2].get_xdata()) == 5


def test_replay_play_button_drives_the_slider(rp):
    rp.controls["run"].value = "patent-insights"
    rp.play.value = 1000
    assert rp.controls["step"].value == 1000 and rp.result["step"] == 1000
    rp.speed.value = 50
    assert rp.play.step == round(1665 * 50 / 1000)


def test_replay_smoothing_changes_the_trend_not_the_raw_curve(rp):
    rp.controls["run"].value = "patent-insights"
    rp.controls["step"].value = 1665
    raw, trend = rp.figure.axes[0].lines[:2]
    raw_y, trend_y = np.array(raw.get_ydata()), np.array(trend.get_ydata())
    rp.controls["smoothing"].value = 0.95
    assert np.array_equal(raw.get_ydata(), raw_y)
    assert not np.allclose(trend.get_ydata(), trend_y)
    assert np.std(np.diff(trend.get_ydata())) < np.std(np.diff(trend_y))
    rp.controls["smoothing"].value = 0.6


def test_replay_run_picker_switches_recording(rp):
    rp.controls["run"].value = "tinyllama-trl"
    assert rp.controls["step"].max == 2800 and rp.play.max == 2800
    assert rp.result["last_step"] == 2800 and "step 2800 of 2800" in rp.readout.value
    rp.controls["run"].value = "nlbse-noval"
    assert rp.controls["step"].min == 1 and rp.controls["step"].max == 1500
    # a run without a validation file: it says so, not that validation has not come "yet"
    assert "no validation loss in this recording" in rp.readout.value
    rp.controls["run"].value = "patent-insights"
    assert rp.controls["step"].max == 1665


def test_replay_accepts_a_run_object():
    run = ftlab.load_sample("historygpt")
    ex = widgets.replay(run, choices=["patent-insights"])
    assert ex.controls["run"].options[0] == "historygpt" and ex.result["last_step"] == 59


def test_early_stopping_explorer_matches_run_early_stopping():
    run = ftlab.load_sample("patent-insights")
    es = widgets.early_stopping_explorer(run)
    for patience in range(0, 5):
        es.controls["patience"].value = patience
        assert es.result.stop_step == run.early_stopping(patience=patience).stop_step
    es.controls["patience"].value = 2
    assert es.result.stop_step == 300 and "stops at step 300" in es.readout.value
    stop_line = es.figure.axes[0].lines[-2]
    assert list(stop_line.get_xdata()) == [300, 300]
    before = _png(es)
    es.controls["flavor"].value = "hf"
    es.controls["min_delta"].value = 0.05
    assert es.result.sequence.flavor == "hf" and es.readout.value.count("hf rule") == 1
    assert es.controls["patience"].max == 16  # one per evaluation
    es.controls["patience"].value = 16
    assert es.result.stop_step is None and "never stops" in es.readout.value
    assert np.isnan(stop_line.get_xdata()[0]) and _png(es) != before


def test_early_stopping_explorer_smoothing_changes_monitored_values():
    es = widgets.early_stopping_explorer("patent-insights")
    raw = es.result.values.copy()
    es.controls["smoothing"].value = 0.8
    assert es.result.values[0] == raw[0] and not np.allclose(es.result.values, raw)


def test_widgets_module_is_not_imported_by_ftlab():
    import subprocess
    import sys

    code = "import ftlab, sys; ftlab.smooth; ftlab.diagnose; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_explorers_leave_no_figure_in_pyplot():
    """An explorer draws on a Figure of its own: one left in pyplot's list would be shown again
    by the next plt.show() of the notebook (it was, under notebook 03a's plots)."""
    import matplotlib.pyplot as plt

    from ftlab.widgets import losses

    plt.close("all")
    ftlab.polling_explorer("marv", page_size=20, every=30)
    widgets.replay("historygpt")
    widgets.early_stopping_explorer("historygpt")
    losses.uniform_choice_explorer(vocab_size=5)
    assert plt.get_fignums() == []
