"""TensorBoard event files and W&B run files, read from real recordings (shared/recorded, see its
PROVENANCE.md: A6-A11) into ftlab's run shape."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ftlab.runs.tensorboard import read_tfevents
from ftlab.runs.wandb_files import read_wandb

RECORDED = Path(__file__).resolve().parents[1].parent / "shared" / "recorded"


def sample(prefix):
    found = sorted(RECORDED.glob(prefix + "*"))
    if not found:
        pytest.skip(f"recorded sample {prefix}* not found in {RECORDED} (shared/ is not beside "
                    "this checkout)")
    return found[0]


def f32(values):
    return np.asarray(values, dtype=np.float32)


def points(metrics, column):
    return metrics[column].dropna()


# --- TensorBoard -------------------------------------------------------------------------------

def test_tfevents_healthy_roberta_run():
    metrics, meta = read_tfevents(sample("tfevents_aguleon_roberta_lora_run4"), "run4")
    steps = list(range(100, 1201, 100))
    train, valid = points(metrics, "train_loss"), points(metrics, "valid_loss")
    assert list(train.index) == steps and list(valid.index) == steps
    assert f32(train[[100, 1200]]).tolist() == f32([1.2893, 0.2362]).tolist()  # logged as float32
    assert valid[100] == 0.7435560822486877 and valid[1200] == 0.289970725774765
    assert metrics.loc[100, "valid_accuracy"] == 0.875
    assert {"learning_rate", "grad_norm", "eval_runtime"} <= set(metrics.columns)
    assert metrics.loc[1200, "learning_rate"] == 0.0
    # The run's mean training loss is a figure of the whole run, not a point of the curve.
    assert meta["summary"]["train_loss"] == 0.38298723101615906
    assert "train_runtime" in meta["summary"] and meta["global_step"] == 1200
    assert not any("train_train" in c or c == "total_flos" for c in metrics.columns)
    assert meta["format"] == "tfevents" and meta["hyperparameters"]["max_steps"] == 1200


def test_tfevents_flat_run_stays_at_chance():
    metrics, meta = read_tfevents(sample("tfevents_aguleon_roberta_lora_run0_flat"), "run0")
    assert len(points(metrics, "train_loss")) == 12 and len(points(metrics, "valid_loss")) == 12
    assert f32(points(metrics, "train_loss")[[100, 1200]]).tolist() == f32([1.3975, 1.3945]).tolist()
    accuracy = points(metrics, "valid_accuracy")  # one class every time: 0.24083 to 0.24100
    assert accuracy[100] == accuracy[1200] == 0.2409166693687439 and np.ptp(accuracy) < 2e-4
    assert meta["summary"]["train_loss"] == 1.3949912786483765


def test_tfevents_llama_run_with_eval_every_epoch():
    path = sample("tfevents_abhijeetanand23_llama_lora")
    metrics, meta = read_tfevents(path, "llama")
    train, valid = points(metrics, "train_loss"), points(metrics, "valid_loss")
    assert list(train.index) == [4, 8, 12, 16, 20] and list(valid.index) == [4, 8, 12, 16, 20]
    assert f32(train[[4, 20]]).tolist() == f32([17.1136, 5.3803]).tolist()
    assert valid[4] == 1.7586032152175903 and valid[20] == 0.7179824113845825
    assert metrics["epoch"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert meta["summary"]["train_loss"] == 9.842738151550293 and meta["model"] == "microsoft/phi-2"
    # The same file given as bytes (as readers.py may hold it) reads the same.
    again, _ = read_tfevents(path.read_bytes(), "llama")
    assert again.equals(metrics)


# --- Weights & Biases --------------------------------------------------------------------------

def test_wandb_finished_run_uses_the_trainers_global_step():
    metrics, meta = read_wandb(sample("wandb_gulbeycancagri_run-m09tvyzw"), "m09tvyzw")
    train = points(metrics, "train_loss")
    assert list(train.index) == list(range(100, 10301, 100))  # 103 rows, not _step 0..102
    assert train[100] == 0.6966 and train[10300] == 0.4512
    assert all(round(v, 4) == v for v in train)  # the JSON text exactly, no float32 on the way
    assert points(metrics, "valid_loss").to_dict() == {10360: 0.6709284782409668}
    assert metrics.loc[10360, "epoch"] == 10 and "grad_norm" in metrics.columns
    # The run's mean training loss exists only in the summary; the author's own un-prefixed
    # test-set row is kept aside, not as a curve point.
    assert meta["summary"]["train_loss"] == 0.4303357726358539
    assert "train_runtime" in meta["summary"]
    [own] = meta["other_history"]
    assert own["step"] == 10360 and own["eval_loss"] == 0.6709284782409668
    assert meta["status"] == "succeeded" and meta["wandb"]["run_id"] == "m09tvyzw"


def test_wandb_agrees_with_the_runs_own_summary_file():
    import json

    metrics, meta = read_wandb(sample("wandb_gulbeycancagri_run-m09tvyzw"), "m09tvyzw")
    summary = json.loads(sample("wandb_summary_gulbeycancagri_m09tvyzw").read_text())
    assert points(metrics, "train_loss").iloc[-1] == summary["train/loss"]
    assert points(metrics, "valid_loss").iloc[-1] == summary["eval/loss"]
    assert meta["summary"]["train_loss"] == summary["train_loss"]


def test_wandb_unfinished_run_loads_what_it_has():
    metrics, meta = read_wandb(sample("wandb_abhijeetanand23_run-6nfu6jdx_unfinished"), "6nfu")
    train, valid = points(metrics, "train_loss"), points(metrics, "valid_loss")
    assert list(train.index) == [4, 8, 12, 16] and list(valid.index) == [4, 8, 12, 16]
    assert train[4] == 17.1136 and train[16] == 6.7152
    assert valid[4] == 1.7586032152175903 and valid[16] == 0.8364404439926147
    assert meta["status"] == "unfinished"
    assert any("no exit record" in note for note in meta["notes"])


def test_wandb_and_tensorboard_logs_of_one_run_agree():
    """A8 and A11 are the same run: W&B keeps the JSON numbers, TensorBoard their float32."""
    wandb, _ = read_wandb(sample("wandb_abhijeetanand23_run-6nfu6jdx_unfinished"), "wandb")
    tb, _ = read_tfevents(sample("tfevents_abhijeetanand23_llama_lora"), "tb")
    for column in ("train_loss", "valid_loss", "valid_accuracy", "epoch"):
        assert f32(wandb[column]).tolist() == f32(tb.loc[wandb.index, column]).tolist(), column


def test_wandb_file_cut_short_or_damaged_is_read_not_crashed():
    data = sample("wandb_gulbeycancagri_run-m09tvyzw").read_bytes()
    cut, meta = read_wandb(data[:100_000], "cut")  # a copy that stopped mid-record
    assert 0 < len(cut) < 103 and meta["status"] == "unfinished"
    assert any("middle of a record" in note for note in meta["notes"])
    damaged = bytearray(data)
    damaged[40_000] ^= 0xFF  # one flipped byte in the second 32 KiB block
    whole, _ = read_wandb(data, "whole")
    kept, meta = read_wandb(bytes(damaged), "damaged")
    assert any("damaged chunk" in note for note in meta["notes"]) and meta["status"] == "succeeded"
    assert 0 < len(points(kept, "train_loss")) < len(points(whole, "train_loss"))


def test_not_a_wandb_file_is_a_clear_error(tmp_path):
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"not a wandb file")
    with pytest.raises(ValueError, match=r"run-x: is not a W&B run file"):
        read_wandb(path, "run-x")


# --- without the extra -------------------------------------------------------------------------

@pytest.mark.parametrize("reader, module, package", [
    (read_tfevents, "tensorboard.backend.event_processing.event_accumulator", "tensorboard"),
    (read_wandb, "wandb.proto.wandb_internal_pb2", "wandb"),
])
def test_missing_extra_says_what_to_install(monkeypatch, tmp_path, reader, module, package):
    monkeypatch.setitem(sys.modules, module, None)  # what Python does for a module it cannot find
    with pytest.raises(ImportError) as caught:
        reader(tmp_path / "events.out.tfevents.1", "my.log")
    message = str(caught.value)
    assert message.startswith("my.log: ") and f"'{package}'" in message
    assert 'pip install "ftlab[logs]"' in message


def test_importing_ftlab_and_the_readers_loads_neither_package():
    code = ("import sys, ftlab, ftlab.runs.tensorboard, ftlab.runs.wandb_files\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorboard', 'wandb'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
