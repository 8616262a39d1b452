"""The training lab of notebook 07, driven from Python: each setting fine-tunes once, curves overlay."""

import matplotlib
import pytest

from ftlab.widgets.lab import Lab, training_lab, _tickets

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def lab():
    # a quarter of the tickets keeps each fine-tune short whatever the tiny model is
    return Lab(train=_tickets("train")[:24], test=_tickets("test")[:40])


def test_each_new_setting_fine_tunes_and_adds_its_curve_and_accuracy(lab):
    ex = training_lab(lab, n_epochs=1, batch_size=8, n_train=24)
    first = ex.result["trial"]
    assert first.run.meta["hyperparameters"]["n_epochs"] == 1 and first.accuracy.n == 40
    ex.controls["n_epochs"].value = 4
    second = ex.result["trial"]
    assert second is not first and len(lab.trials) == 2
    assert len(second.run.metrics["full_valid_loss"].dropna()) == 4
    loss_ax, acc_ax = ex.figure.axes
    assert len(loss_ax.lines) == 3          # both validation curves, the current training loss
    assert second.run.metrics["train_loss"].iloc[-1] != first.run.metrics["train_loss"].iloc[-1]
    assert "4 ep" in ex.readout.value and "task accuracy" in ex.readout.value
    assert "training loss" in ex.readout.value
    assert f"{second.accuracy.accuracy:.2f}" in ex.readout.value


def test_going_back_to_a_setting_reuses_its_trial(lab):
    ex = training_lab(lab, n_epochs=1, batch_size=8, n_train=24)
    before = dict(lab.trials)
    ex.controls["seed"].value = 1
    ex.controls["seed"].value = 0
    assert len(lab.trials) == len(before) + 1           # seed 1 trained once; seed 0 remembered
    assert ex.result["trial"] is before[(1, 1.0, 8, 24, 0)]


def test_the_training_set_grows_with_the_examples_control(lab):
    ex = training_lab(lab, n_epochs=1, batch_size=8, n_train=8)
    assert ex.result["trial"].run.meta["n_train_examples"] == 8
    ex.controls["n_train"].value = 16
    assert ex.result["trial"].run.meta["n_train_examples"] == 16


def test_the_lab_fine_tunes_the_transformer_from_its_own_defaults(lab):
    from ftlab.tinylm import TinyTransformer

    ex = training_lab(lab, n_train=16)
    trial = ex.result["trial"]
    defaults = TinyTransformer.default_hyperparameters(16)
    assert trial.run.meta["model"] == "tinylm-attn-v1"
    for name in ("n_epochs", "batch_size", "learning_rate_multiplier"):
        assert ex.controls[name].value == trial.setting[name] == defaults[name]
