"""Instructor mode reaches every plot and explorer made while it is on, and switches off cleanly."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import ftlab  # noqa: E402
from ftlab import widgets  # noqa: E402
from ftlab.widgets import presenter  # noqa: E402


@pytest.fixture
def projector():
    before = dict(matplotlib.rcParams)
    ftlab.presenter()
    yield
    ftlab.presenter(False)
    assert dict(matplotlib.rcParams) == before, "presenter(False) did not restore rcParams"
    plt.close("all")


def _label_size(fig):
    return fig.axes[0].xaxis.label.get_fontsize()


def test_loss_plots_follow_instructor_mode(projector):
    run = ftlab.load_sample("patent-insights")
    big = ftlab.plot_run(run)
    ftlab.presenter(False)
    small = ftlab.plot_run(run)
    ftlab.presenter()
    assert _label_size(big) > _label_size(small)
    assert big.axes[0].lines[1].get_linewidth() > small.axes[0].lines[1].get_linewidth()


def test_explorers_get_bigger_text_wider_sliders_and_a_calmer_replay(projector):
    ex = widgets.uniform_choice_explorer(vocab_size=5)
    assert "font-size:1.60em" in ex.readout.value
    assert ex.controls["k"].layout.width == "95%"
    replay = widgets.replay("historygpt")
    assert replay.play.interval == presenter.REPLAY_INTERVAL_MS[True]
    assert replay.speed.label == "slow"
    ftlab.presenter(False)
    normal = widgets.replay("historygpt")
    assert normal.play.interval < replay.play.interval
    assert "font-size:1.00em" in widgets.uniform_choice_explorer(vocab_size=5).readout.value
    ftlab.presenter()


def test_switching_on_twice_keeps_the_original_settings(projector):
    ftlab.presenter(scale=2.5)
    assert matplotlib.rcParams["font.size"] == 25.0
