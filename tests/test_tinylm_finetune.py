"""Fine-tuning the tiny model on the course's chat data: a Run like a hosted job's, and it learns."""

import math

import numpy as np
import pytest

import ftlab
from ftlab import tinylm
from ftlab._data import data_dir
from ftlab.tinylm.training import EarlyStopping


@pytest.fixture(scope="module")
def marv():
    train = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_train.jsonl")
    valid = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_valid.jsonl")
    return train, valid


@pytest.fixture(scope="module")
def pretrained():
    return tinylm.load_pretrained("tinylm-char-v1")  # the MLP: seconds per job


@pytest.fixture(scope="module")
def three_epochs(marv, pretrained):
    """The course's default job: 3 epochs on the whole dataset, from the pretrained weights."""
    model = pretrained.copy()
    run = model.finetune(*marv, n_epochs=3, progress=False)
    return model, run


def test_run_has_the_shape_of_a_hosted_job(three_epochs, marv):
    _, run = three_epochs
    train, valid = marv
    assert isinstance(run, ftlab.Run) and run.format == "tinylm"
    m, meta = run.metrics, run.meta
    steps_per_epoch = math.ceil(len(train) / 4)
    assert meta["steps_per_epoch"] == steps_per_epoch and meta["total_steps"] == 3 * steps_per_epoch
    assert list(m.index) == list(range(1, 3 * steps_per_epoch + 1))
    assert meta["hyperparameters"] == {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.0,
                                       "lr_schedule": "constant"}
    assert (m["learning_rate"] == meta["learning_rate"]).all()  # constant: the same every step
    assert meta["n_train_examples"] == len(train) and meta["n_valid_examples"] == len(valid)
    assert m["train_loss"].notna().all() and m["train_accuracy"].between(0, 1).all()
    # full validation exactly at each epoch end, a checkpoint there too
    full = m["full_valid_loss"].dropna()
    assert list(full.index) == [steps_per_epoch * e for e in (1, 2, 3)]
    assert meta["checkpoints"] == list(full.index)
    assert m["valid_loss"].notna().sum() >= 3 * 4  # about four samples per epoch
    assert m["elapsed_tokens"].is_monotonic_increasing
    assert meta["trained_tokens"] == m["elapsed_tokens"].iloc[-1]
    assert meta["wall_time_s"] > 0


def test_three_epochs_improve_validation_loss_over_the_pretrained_model(three_epochs, marv,
                                                                        pretrained):
    model, run = three_epochs
    before = pretrained.evaluate(marv[1])["loss"]
    after = model.evaluate(marv[1])["loss"]
    assert after < before - 0.2
    assert run.metrics["full_valid_loss"].dropna().iloc[-1] == pytest.approx(after, rel=1e-6)


def test_finetune_leaves_the_original_alone_and_is_deterministic(marv, pretrained):
    train = marv[0][:16]
    before = pretrained.params["W1"].copy()
    a, b, c = pretrained.copy(), pretrained.copy(), pretrained.copy()
    run_a = a.finetune(train, marv[1][:8], n_epochs=2, seed=5, progress=False)
    run_b = b.finetune(train, marv[1][:8], n_epochs=2, seed=5, progress=False)
    run_c = c.finetune(train, marv[1][:8], n_epochs=2, seed=6, progress=False)
    cols = ["train_loss", "valid_loss", "full_valid_loss"]
    assert run_a.metrics[cols].equals(run_b.metrics[cols])
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not run_a.metrics["train_loss"].equals(run_c.metrics["train_loss"])
    np.testing.assert_array_equal(pretrained.params["W1"], before)


def test_evaluating_more_often_does_not_change_training(marv, pretrained):
    train, valid = marv[0][:12], marv[1][:6]
    a, b = pretrained.copy(), pretrained.copy()
    run_a = a.finetune(train, valid, n_epochs=1, eval_every=1, progress=False)
    run_b = b.finetune(train, valid, n_epochs=1, eval_every=3, progress=False)
    assert run_a.metrics["train_loss"].equals(run_b.metrics["train_loss"])
    assert run_a.metrics["valid_loss"].notna().sum() > run_b.metrics["valid_loss"].notna().sum()


def test_weight_zero_examples_add_no_tokens(marv, pretrained):
    train = [dict(r) for r in marv[0][:8]]
    for record in train[:4]:
        record["messages"] = [dict(m, weight=0) if m["role"] == "assistant" else m
                              for m in record["messages"]]
    run = pretrained.copy().finetune(train, n_epochs=1, batch_size=4, seed=0, progress=False)
    expected = sum(pretrained.evaluate([r])["n_tokens"] for r in train[4:])
    assert run.meta["trained_tokens"] == expected
    # one example per step: the four weight-0 examples give steps with nothing to learn (NaN)
    mixed = pretrained.copy().finetune(train[:5], n_epochs=2, batch_size=1, progress=False)
    assert mixed.metrics["train_loss"].isna().sum() == 2 * 4
    assert mixed.metrics["train_loss"].notna().sum() == 2
    with pytest.raises(ValueError, match="no example has an assistant reply"):
        pretrained.copy().finetune(train[:4], progress=False)


def test_restore_best_keeps_the_best_epoch(marv, pretrained):
    train, valid = marv[0][:24], marv[1][:8]
    model = pretrained.copy()
    run = model.finetune(train, valid, n_epochs=6, learning_rate_multiplier=4, restore_best=True,
                         progress=False)
    full = run.metrics["full_valid_loss"].dropna()
    assert run.meta["best_checkpoint_step"] == full.idxmin()
    assert model.evaluate(valid)["loss"] == pytest.approx(full.min(), rel=1e-6)
    assert len(model.checkpoints) == 6


def test_early_stopping_callback_uses_the_keras_rule(marv, pretrained):
    train, valid = marv[0][:24], marv[1][:8]
    stopper = EarlyStopping(patience=1)
    run = pretrained.copy().finetune(train, valid, n_epochs=30, learning_rate_multiplier=4,
                                     callbacks=[stopper], progress=False)
    assert run.meta["stopped_early_at"] == stopper.stopped_step == run.metrics.index[-1]
    full = run.metrics["full_valid_loss"].dropna().tolist()
    # the same values replayed by the simulator stop at the same evaluation: the last one
    assert ftlab.simulate_early_stopping(full, patience=1).stopped_index == len(full) - 1
    assert len(full) < 30


def test_early_stopping_without_validation_is_a_clear_error(marv, pretrained):
    with pytest.raises(ValueError, match="valid="):
        pretrained.copy().finetune(marv[0][:4], callbacks=[EarlyStopping()], progress=False)


def test_callbacks_see_each_step_and_can_stop(marv, pretrained):
    seen = []

    def stop_at_three(state):
        seen.append((state.step, state.epoch, state.metrics["train_loss"]))
        state.stop_training = state.step == 3

    run = pretrained.copy().finetune(marv[0][:20], marv[1][:4], n_epochs=2, callbacks=[stop_at_three],
                                     progress=False)
    assert [s for s, _, _ in seen] == [1, 2, 3]
    assert run.meta["stopped_early_at"] == 3 and run.metrics.index[-1] == 3
    assert not math.isnan(run.metrics.loc[3, "full_valid_loss"])  # the final weights are evaluated


@pytest.mark.parametrize("kwargs, match", [
    ({"n_epochs": 0}, "n_epochs"), ({"batch_size": 0}, "batch_size"),
    ({"learning_rate_multiplier": 0}, "learning_rate_multiplier"), ({"eval_every": 0}, "eval_every"),
    ({"n_epochs": "auto"}, "n_epochs"), ({"batch_size": 2.5}, "batch_size"),
    ({"learning_rate_multiplier": "auto"}, "learning_rate_multiplier"),
])
def test_bad_hyperparameters_are_clear_errors(marv, pretrained, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pretrained.copy().finetune(marv[0][:4], progress=False, **kwargs)


def test_many_epochs_overfit(marv, pretrained):
    """The course's lesson on our own run: training loss keeps falling, validation turns up."""
    run = pretrained.copy().finetune(*marv, n_epochs=12, learning_rate_multiplier=2, progress=False)
    m = run.metrics
    full = m["full_valid_loss"].dropna()
    assert 1 <= full.values.argmin() <= len(full) - 4  # a minimum, then several epochs of rising
    assert full.iloc[-1] > full.min() + 0.2
    assert m["train_loss"].iloc[-10:].mean() < m["train_loss"].iloc[:10].mean() - 1.0
    assert ftlab.diagnose(run).verdict == "overfitting"


# ----------------------------------------------------------------------------- command line


def test_cli_finetune_writes_openai_results_and_prints_a_diagnosis(tmp_path, capsys):
    from ftlab.cli import main

    chat_dir = data_dir() / "chat"
    out = tmp_path / "run.csv"
    argv = ["finetune", str(chat_dir / "marv_train.jsonl"), "--valid",
            str(chat_dir / "marv_valid.jsonl"), "--model", "tinylm-char-v1", "--epochs", "1",
            "-o", str(out)]  # the MLP: its batch of 4 makes 32 steps
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "verdict:" in printed and f"wrote {out}" in printed
    assert out.read_text().splitlines()[0] == ("step,train_loss,train_accuracy,valid_loss,"
                                               "valid_mean_token_accuracy")
    run = ftlab.load_run(out)
    assert run.n_steps == 32 and run.metrics["valid_loss"].notna().any()
    before = out.read_bytes()
    assert main(argv) == 2  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == before


def test_a_linear_schedule_falls_from_the_peak_towards_zero_step_by_step(marv):
    model = tinylm.TinyLM(tinylm.Config(4, 4, 8), seed=0)
    run = model.finetune(marv[0][:12], n_epochs=2, batch_size=4, learning_rate_multiplier=2,
                         lr_schedule="linear", progress=False)
    peak, rates = run.meta["learning_rate"], run.metrics["learning_rate"]
    assert run.meta["hyperparameters"]["lr_schedule"] == "linear"
    assert peak == pytest.approx(2 * 2e-3) and len(rates) == 6
    assert rates.tolist() == pytest.approx([peak * (6 - s) / 6 for s in range(6)])
    with pytest.raises(ValueError, match="lr_schedule must be one of 'constant', 'linear'"):
        model.finetune(marv[0][:4], lr_schedule="cosine", progress=False)


def test_cli_finetune_starts_from_the_transformer_by_default_with_its_own_defaults(tmp_path, capsys):
    from ftlab.cli import main

    train = tmp_path / "train.jsonl"  # 4 tickets: the transformer's 12 default epochs stay quick
    train.write_text("".join((data_dir() / "chat" / "tickets_train.jsonl").read_text(
        encoding="utf-8").splitlines(True)[:4]), encoding="utf-8")
    out = tmp_path / "run.csv"
    assert main(["finetune", str(train), "-o", str(out)]) == 0
    assert "fine-tuned tinylm-attn-v1 on 4 examples" in capsys.readouterr().out
    defaults = tinylm.TinyTransformer.finetune_defaults
    steps = defaults["n_epochs"] * -(-4 // defaults["batch_size"])
    assert ftlab.load_run(out).n_steps == steps
    assert main(["finetune", str(train), "--model", "gpt-2", "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "tinylm-attn-v1" in err


def test_cli_finetune_takes_a_learning_rate_schedule(tmp_path):
    from ftlab.cli import main

    train = str(data_dir() / "chat" / "tickets_train.jsonl")
    saved = tmp_path / "model.npz"
    assert main(["finetune", train, "--epochs", "1", "--lr-schedule", "linear", "-o",
                 str(tmp_path / "run.csv"), "--save-model", str(saved)]) == 0
    job = tinylm.load(saved).info["finetuned"][-1]
    assert job["hyperparameters"]["lr_schedule"] == "linear"


def test_cli_finetune_reports_a_bad_file(tmp_path, capsys):
    from ftlab.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{not json\n')
    assert main(["finetune", str(bad), "-o", str(tmp_path / "r.csv")]) == 2
    assert "bad.jsonl" in capsys.readouterr().err
