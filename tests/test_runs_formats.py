"""The formats learners have after January 2027, read without a format hint.

Real files are read from ../shared/recorded (skipped when absent); every number checked here is
read again from the same bytes with csv/json/re, never typed in. Files marked SYNTHETIC are
written by the test itself, in a layout that is documented but of which no real sample was found.
"""

import ast
import csv
import json
import math
import re
import shutil
import sys

import numpy as np
import pytest

from ftlab.runs.formats import CANONICAL, RunFormatError, SummaryOnlyError
from ftlab.runs.run import Run, load_run

SUMMARIES = ("hf_all_results_linxiang-ai.json", "hf_eval_results_nicolassalvan_ner.json",
             "wandb_summary_gulbeycancagri_m09tvyzw.json")
BINARY = {"tfevents": "ftlab.runs.tensorboard", ".wandb": "ftlab.runs.wandb_files"}


def _needs_reader(name):
    for mark, module in BINARY.items():
        if mark in name:
            pytest.importorskip(module, reason=f"{module} (another reader) is not installed")


def _text(recorded, name):
    return (recorded / name).read_bytes().decode("utf-8")


# ----------------------------------------------------------------------------- every sample


def test_every_recorded_sample_loads_without_a_hint(recorded):
    names = sorted(p.name for p in recorded.iterdir() if p.name != "PROVENANCE.md")
    assert len(names) >= 28
    for name in names:
        if name in SUMMARIES:
            with pytest.raises(SummaryOnlyError, match="is a summary of a finished run"):
                load_run(recorded / name)
            continue
        if any(mark in name for mark in BINARY) and not all(
                _importable(m) for m in BINARY.values()):
            continue
        run = load_run(recorded / name)
        assert isinstance(run, Run) and run.n_steps > 0, name
        assert list(run.metrics.columns[:len(CANONICAL)]) == list(CANONICAL), name
        assert run.metrics.index.is_monotonic_increasing and run.metrics.index.is_unique


def _importable(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


# ----------------------------------------------------------------------------- 1. Azure results.csv


def test_azure_results_csv_real(recorded):
    name = "azure_results_ankitg28.csv"
    run = load_run(recorded / name)
    assert run.format == "azure_csv" and run.n_steps == 300
    with open(recorded / name, newline="") as f:
        rows = {int(r["step"]): r for r in csv.DictReader(f)}
    pairs = {"train_loss": "train_loss", "train_mean_token_accuracy": "train_accuracy",
             "valid_loss": "valid_loss", "valid_mean_token_accuracy": "valid_accuracy",
             "full_valid_loss": "full_valid_loss",
             "full_valid_mean_token_accuracy": "full_valid_accuracy"}
    for step in (1, 2, 8, 100, 150, 200, 300):
        for source, column in pairs.items():
            cell, value = rows[step][source], run.metrics.loc[step, column]
            assert (math.isnan(value) if cell == "" else float(cell) == value), (step, source)
    assert run.metrics.loc[1, "train_loss"] == 1.170532584
    assert run.metrics["full_valid_loss"].dropna().index.tolist() == [100, 200, 300]
    assert run.metrics["full_valid_loss"].dropna().tolist() == [0.170144082, 0.164201455,
                                                                0.188422374]


# SYNTHETIC: the 11-column layout Azure OpenAI documents (PROVENANCE.md, "Not obtained"), with
# -1 sentinels and the other spellings of "not recorded". No real file with -1 was found.
AZURE_11 = """step,train_loss,train_mean_token_accuracy,train_error_rate,valid_loss,\
valid_mean_token_accuracy,valid_error_rate,full_valid_loss,full_valid_mean_token_accuracy,\
full_valid_error_rate,timestamp
1,1.25,0.7,0.3,-1,-1,-1,-1,-1,-1,2025-01-02T10:00:00Z
2,1.0,0.75,0.25,1.5,0.6,0.4,-1,-1,-1,2025-01-02T10:00:05Z
3,0.75,0.8,0.2,nan,None,,-1,-1,-1,2025-01-02T10:00:09Z
4,0.5,0.85,0.15,1.25,0.65,0.35,1.125,0.66,0.34,2025-01-02T10:00:14Z
"""


def test_azure_eleven_columns_with_sentinels_synthetic():
    run = load_run(AZURE_11)
    m = run.metrics
    assert run.format == "azure_csv" and run.n_steps == 4
    assert m["valid_loss"].tolist()[1::2] == [1.5, 1.25] and m["valid_loss"].iloc[[0, 2]].isna().all()
    assert m["valid_accuracy"].isna().tolist() == [True, False, True, False]
    assert m["full_valid_loss"].dropna().to_dict() == {4: 1.125}
    assert m.loc[4, "full_valid_accuracy"] == 0.66 and m.loc[1, "train_accuracy"] == 0.7
    assert m["valid_error_rate"].isna().tolist() == [True, False, True, False]
    assert m.loc[2, "timestamp"] == "2025-01-02T10:00:05Z"
    assert run.meta["not_recorded_cells"] == 6 + 3 + 3  # -1 cells only (nan/None/empty are NaN)
    assert (m[list(CANONICAL)] != -1).all().all()


# ----------------------------------------------------------------------------- 2. printed SDK events


def _data_dicts(text):
    """Every event's data dict, read from the text with a regex + ast (independently)."""
    found = re.findall(r"data=(\{[^{}]*\}), type='(\w+)'", text)
    return [ast.literal_eval(d) for d, kind in found if kind == "metrics"]


@pytest.mark.parametrize("name, steps", [
    ("openai_sdk_events_list_repr_akey7.txt", list(range(192, 201))),
    ("openai_sdk_events_list_repr_andreaseghetto_moderation.txt", list(range(196, 201))),
])
def test_sdk_list_repr(recorded, name, steps):
    text = _text(recorded, name)
    run = load_run(recorded / name)
    assert run.format == "openai_sdk_repr" and run.steps.tolist() == steps
    datas = _data_dicts(text)
    assert len(datas) == len(steps)
    for data in datas:
        for key, column in (("train_loss", "train_loss"), ("valid_loss", "valid_loss"),
                            ("full_valid_loss", "full_valid_loss"),
                            ("train_mean_token_accuracy", "train_accuracy"),
                            ("full_valid_mean_token_accuracy", "full_valid_accuracy")):
            if key in data:
                assert run.metrics.loc[data["step"], column] == data[key]
    assert run.meta["total_steps"] == 200


def test_sdk_repr_numbers_and_moderation_skipped(recorded):
    akey = load_run(recorded / "openai_sdk_events_list_repr_akey7.txt")
    assert akey.metrics.loc[200, "train_loss"] == 1.3336222171783447
    assert akey.metrics.loc[200, "full_valid_loss"] == 0.874340443611145
    assert akey.metrics.loc[200, "full_valid_accuracy"] == 0.805
    mod = load_run(recorded / "openai_sdk_events_list_repr_andreaseghetto_moderation.txt")
    assert mod.meta["skipped_events"] == ["moderation_checks"]
    assert mod.metrics.loc[200, "full_valid_loss"] == 1.1244336032867432
    assert mod.meta["status"] == "succeeded"


def test_sync_cursor_page_repr_is_read(recorded):
    items = _text(recorded, "openai_sdk_events_list_repr_akey7.txt").strip()[1:-1]
    page = f"SyncCursorPage[FineTuningJobEvent](data=[{items}], has_more=True, object='list')"
    run = load_run(page)
    assert run.format == "openai_sdk_repr" and run.n_steps == 9 and run.meta["has_more"] is True
    assert run.metrics.loc[199, "train_loss"] == 0.5983221530914307


def test_sdk_repr_is_never_evaluated():
    hostile = "[FineTuningJobEvent(id='x', message=__import__('os').getcwd(), data={}, type='message')]"
    with pytest.raises(ValueError, match="printed OpenAI SDK objects"):
        load_run(hostile)


def test_openai_0x_object_repr(recorded):
    name = "openai_legacy_sdk_list_events_openaiobject_robinsmits.txt"
    text = _text(recorded, name)
    page = json.loads(text.split("JSON: ", 1)[1])
    run = load_run(recorded / name)
    assert run.format == "openai_sdk_repr" and run.steps.tolist() == [1301, 1401, 1501]
    for event in page["data"]:
        if event["type"] == "metrics":
            data = event["data"]
            assert run.metrics.loc[data["step"], "valid_loss"] == data["valid_loss"]
            assert run.metrics.loc[data["step"], "train_loss"] == data["train_loss"]
    assert run.metrics.loc[1501, "valid_loss"] == 9.5367431640625e-07
    assert run.meta["has_more"] is True
    assert run.meta["fine_tuned_model"] == "ft:gpt-3.5-turbo-0613:personal::8BTLwDu0"


# ----------------------------------------------------------------------------- 3. message-only logs


def test_event_log_with_date_and_level_prefix(recorded):
    name = "openai_event_log_jamesdominiqueai_gpt41nano.txt"
    text = _text(recorded, name)
    run = load_run(recorded / name)
    assert run.format == "openai_event_log" and run.n_steps == 698
    printed = re.findall(r"Step (\d+)/750: training loss=([\d.]+)(?:, validation loss=([\d.]+))?"
                         r"(?:, full validation loss=([\d.]+))?", text)
    assert len(printed) == 698
    for step, train, valid, full in printed:
        row = run.metrics.loc[int(step)]
        assert row["train_loss"] == float(train)
        assert (math.isnan(row["valid_loss"]) if not valid else row["valid_loss"] == float(valid))
        assert (math.isnan(row["full_valid_loss"]) if not full
                else row["full_valid_loss"] == float(full))
    valid = run.metrics["valid_loss"].dropna()
    assert len(valid) == 75 and (valid.index % 10 == 0).all()
    assert valid[10] == 2.38 and valid[740] == 1.05 and valid[750] == 1.81
    assert run.metrics.loc[750, "full_valid_loss"] == 1.23
    assert run.meta["total_steps"] == 750 and len(run.meta["missing_steps"]) == 52
    assert run.meta["missing_steps"][:2] == [24, 25]
    assert run.meta["checkpoints"] == [250, 500] and run.meta["status"] == "succeeded"


MESSAGES = """Step 1/300: training loss=2.10
1734182951: Step 2/300: training loss=1.90
2025-01-02 10:00:00 | INFO | Step 10/300: training loss=1.20, validation loss=1.40
[2025-01-02T10:00:09] INFO: Step 12/300: training loss=0.51, validation loss=0.60
job 42 >> Step 300/300: training loss=0.30, full validation loss=0.45
Checkpoint created at step 100
"""


def test_message_only_lines_with_any_prefix():
    run = load_run(MESSAGES)
    m = run.metrics
    assert run.format == "openai_event_log" and run.steps.tolist() == [1, 2, 10, 12, 300]
    assert m["train_loss"].tolist() == [2.10, 1.90, 1.20, 0.51, 0.30]
    assert m["valid_loss"].dropna().to_dict() == {10: 1.40, 12: 0.60}
    assert m["full_valid_loss"].dropna().to_dict() == {300: 0.45}
    assert run.meta["checkpoints"] == [100] and run.meta["total_steps"] == 300


# ----------------------------------------------------------------------------- 4. HF console output


def _printed_dicts(text):
    out = []
    for piece in re.split(r"[\r\n]", text):
        if re.match(r"\{'(loss|eval_loss|train_runtime)'", piece):
            out.append(ast.literal_eval(piece.strip()))
    return out


def _console(recorded, name):
    """The train and eval dicts printed in a console log (read here on their own), and the Run."""
    dicts = _printed_dicts(_text(recorded, name))
    train = [d for d in dicts if "loss" in d]
    evals = [d for d in dicts if "eval_loss" in d]
    return train, evals, load_run(recorded / name)


def test_hf_console_transformers5_quoted_values(recorded):
    train, evals, run = _console(recorded, "hf_console_linxiang-ai_llamafactory_transformers5.log")
    assert len(train) == 73 and len(evals) == 4
    m = run.metrics
    assert run.format == "hf_console" and run.meta["steps_are"] == "log positions"
    assert run.n_steps == 74 and run.steps.tolist() == list(range(1, 75))
    assert m["train_loss"].dropna().tolist() == [float(d["loss"]) for d in train]
    assert m["learning_rate"].dropna().tolist() == [float(d["learning_rate"]) for d in train]
    assert m["valid_loss"].dropna().tolist() == [float(d["eval_loss"]) for d in evals]
    assert m.loc[1, "train_loss"] == 1.703 and m.loc[1, "epoch"] == 0.04077
    # an eval logged with a training row (same epoch) shares it; the last eval stands alone
    shared = m[m["valid_loss"].notna() & m["train_loss"].notna()]
    assert shared["epoch"].tolist() == [0.8155, 1.628, 2.44]
    assert m.loc[74, "epoch"] == 3.0 and math.isnan(m.loc[74, "train_loss"])
    # the closing summary is not a point
    assert run.meta["summary"]["train_loss"] == 1.329 and run.meta["summary"]["train_runtime"] == 767.1
    assert 1.329 not in m["train_loss"].tolist()
    assert run.meta["total_steps"] == 369


def test_hf_console_slurm_numeric_dicts(recorded):
    train, evals, run = _console(recorded, "hf_console_nicolassalvan_ner_slurm-1361.out")
    assert len(train) == 29 and len(evals) == 10
    m = run.metrics
    assert run.format == "hf_console" and run.n_steps == 39
    assert m["train_loss"].dropna().tolist() == [d["loss"] for d in train]
    assert m["valid_loss"].dropna().tolist() == [d["eval_loss"] for d in evals]
    assert m["eval_overall_f1"].dropna().tolist() == [d["eval_overall_f1"] for d in evals]
    assert m["valid_loss"].min() == 0.40698766708374023
    assert m["valid_loss"].dropna().iloc[-1] == 0.6760383248329163
    assert run.meta["summary"]["train_loss"] == 0.17759943430366384
    assert 0.17759943430366384 not in m["train_loss"].tolist()


def test_hf_console_dicts_after_tqdm_carriage_returns():
    text = ("  5%|5         | 1/20 [00:01<00:19]\r 10%|#         | 2/20 "
            "[00:02<00:18]{'loss': 2.5, 'grad_norm': nan, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
            "\r 50%|#####     | 10/20{'eval_loss': 2.25, 'epoch': 0.1}\r\n"
            "{'loss': '1.5', 'epoch': '0.2'}\n"
            "{'train_runtime': 10.0, 'train_loss': 2.0, 'epoch': 0.2}\n"
            "{'eval_loss': 1.75, 'epoch': 0.2}\n")
    run = load_run(text.encode())
    m = run.metrics
    assert m["train_loss"].tolist() == [2.5, 1.5] and m.loc[1, "valid_loss"] == 2.25
    assert math.isnan(m.loc[1, "grad_norm"]) and run.meta["summary"]["train_loss"] == 2.0
    assert run.n_steps == 2 and run.meta["after_training"] == [{"eval_loss": 1.75, "epoch": 0.2}]


# ----------------------------------------------------------------------------- 5. summary-only files


@pytest.mark.parametrize("name", SUMMARIES)
def test_summary_files_say_so_and_read_when_asked(recorded, name):
    summary = json.loads(_text(recorded, name))
    with pytest.raises(SummaryOnlyError) as err:
        load_run(recorded / name)
    assert err.value.summary == summary and "format='summary'" in str(err.value)
    run = load_run(recorded / name, format="summary")
    assert run.n_steps == 0 and run.meta["summary"] == summary and run.format == "summary"


def test_summary_points_to_the_curve_in_its_folder(recorded, tmp_path):
    out = tmp_path / "qwen25-7b-lora-sft"  # a LLaMA-Factory output folder, as it is laid out
    out.mkdir()
    shutil.copy(recorded / "hf_all_results_linxiang-ai.json", out / "all_results.json")
    shutil.copy(recorded / "llamafactory_trainer_log_linxiang-ai.jsonl", out / "trainer_log.jsonl")
    with pytest.raises(SummaryOnlyError) as err:
        load_run(out / "all_results.json")
    assert err.value.curve_file == out / "trainer_log.jsonl"
    assert "trainer_log.jsonl" in str(err.value) and "1.3785396814346313" in str(err.value)
    run = load_run(out)
    assert run.meta["source_file"] == "trainer_log.jsonl" and run.format == "llamafactory_log"


def test_trainer_state_with_only_a_summary():
    state = {"global_step": 10, "log_history": [
        {"epoch": 1.0, "step": 10, "train_runtime": 5.0, "train_loss": 0.75}]}
    with pytest.raises(SummaryOnlyError, match="train_loss=0.75"):
        load_run(json.dumps(state))
    assert load_run(state, format="summary").meta["summary"]["train_loss"] == 0.75


# ----------------------------------------------------------------------------- 6. LLaMA-Factory


def _records(recorded, name):
    return [json.loads(line) for line in _text(recorded, name).splitlines() if line.strip()]


def test_llamafactory_with_eval_lines(recorded):
    name = "llamafactory_trainer_log_linxiang-ai.jsonl"
    records = _records(recorded, name)
    run = load_run(recorded / name)
    m = run.metrics
    assert run.format == "llamafactory_log" and run.n_steps == 74
    for r in records:
        if r.get("loss") is not None:
            assert m.loc[r["current_steps"], "train_loss"] == r["loss"]
            assert m.loc[r["current_steps"], "learning_rate"] == r["lr"]
    evals = {r["current_steps"]: r["eval_loss"] for r in records if "eval_loss" in r}
    assert m["valid_loss"].dropna().to_dict() == evals
    assert evals[369] == 1.3785396814346313 and math.isnan(m.loc[369, "train_loss"])
    assert m.loc[5, "train_loss"] == 1.7032926559448243 and run.meta["total_steps"] == 369


def test_llamafactory_two_processes_and_a_resumed_run(recorded):
    name = "llamafactory_trainer_log_rameyjm7_2gpu_resumed.jsonl"
    records = _records(recorded, name)
    resume = next(i for i, r in enumerate(records) if r["elapsed_time"] == "0:02:38")
    before, after = records[:resume], records[resume:]
    run = load_run(recorded / name)
    m = run.metrics
    assert run.meta["resumed_at"] == [5010] and run.steps.tolist() == list(range(10, 6570, 10))
    for step in (10, 20, 1000, 5000):  # two processes: the mean of their two values
        values = [r["loss"] for r in before if r["current_steps"] == step]
        assert len(values) == 2 and m.loc[step, "train_loss"] == np.mean(values)
    for step in (5010, 5240, 6560):  # the resumed run's values replace the first run's
        values = [r["loss"] for r in after if r["current_steps"] == step and "loss" in r]
        assert m.loc[step, "train_loss"] == np.mean(values)
    first_run_5240 = [r["loss"] for r in before if r["current_steps"] == 5240]
    assert m.loc[5240, "train_loss"] != np.mean(first_run_5240)
    assert "mean" in run.meta["duplicates_resolved"] and run.meta["duplicate_steps"] > 500
    assert run.meta["total_steps"] == 6566 and 6565 not in run.steps


def test_llamafactory_nulls_are_absent(recorded):
    name = "llamafactory_trainer_log_suzushi-tw_nullfields.jsonl"
    records = _records(recorded, name)
    run = load_run(recorded / name)
    m = run.metrics
    with_loss = [r for r in records if r["loss"] is not None]
    assert run.n_steps == len(with_loss) and 8712 not in run.steps
    assert not run.has_validation and "predict_loss" not in m and "reward" not in m
    for r in with_loss[::97] + with_loss[-1:]:
        assert m.loc[r["current_steps"], "train_loss"] == r["loss"]
        assert m.loc[r["current_steps"], "learning_rate"] == r["learning_rate"]
        assert m.loc[r["current_steps"], "epoch"] == r["epoch"]


# ----------------------------------------------------------------------------- 7. MLX-LM


def test_mlx_lora_log(recorded):
    name = "mlx_lora_arjun-254.log"
    text = _text(recorded, name)
    train = {int(s): float(v) for s, v in re.findall(r"Iter (\d+): Train loss ([\d.]+)", text)}
    valid = {int(s): float(v) for s, v in re.findall(r"Iter (\d+): Val loss ([\d.]+)", text)}
    run = load_run(recorded / name)
    m = run.metrics
    assert run.format == "mlx_lora" and len(train) == 60
    assert m["train_loss"].dropna().to_dict() == train
    assert m["valid_loss"].dropna().to_dict() == valid == {1: 2.247, 200: 1.813, 400: 1.708,
                                                            600: 1.637}
    assert m.loc[10, "learning_rate"] == 1e-05 and m.loc[10, "tokens_per_sec"] == 875.431
    assert m.loc[10, "trained_tokens"] == 2595 and m.loc[10, "peak_mem_gb"] == 5.258
    assert m.loc[200, "val_took_s"] == 7.531 and "inflated" in run.meta["notes"][0]


# ----------------------------------------------------------------------------- 8. errors that help


def test_jsonl_and_json_arrays_with_a_column_map_are_json():
    jsonl = '{"it": 1, "l": 2.0}\n{"it": 2, "l": 1.5}\n'
    array = '[{"it": 1, "l": 2.0},\n {"it": 2, "l": 1.5}]\n'
    for text in (jsonl, array):
        run = load_run(text, column_map={"it": "step", "l": "train_loss"})
        assert run.metrics["train_loss"].to_dict() == {1: 2.0, 2: 1.5}
    pretty = '[\n {"step": 1, "loss": 2.0},\n {"step": 2, "loss": 1.5}\n]'
    assert load_run(pretty).metrics["train_loss"].tolist() == [2.0, 1.5]


def test_errors_name_the_guess_the_line_and_the_fix():
    with pytest.raises(RunFormatError) as err:
        load_run("step,train_loss,train_accuracy\n1,0.5,0.1\n2,oops,0.2\n")
    message = str(err.value)
    assert "line 3, column train_loss: 'oops'" in message
    assert "read as openai_csv because its header has step, train_loss and train_accuracy" in message
    with pytest.raises(RunFormatError, match="line 2 has no 'current_steps'.*read as "
                                             "llamafactory_log because its first line has "
                                             "current_steps"):
        load_run('{"current_steps": 1, "loss": 1.0}\n{"loss": 2.0}\n')


def test_unknown_file_shows_its_first_line_and_what_was_tried(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my training went well\nloss went down\n")
    with pytest.raises(ValueError) as err:
        load_run(path)
    message = str(err.value)
    assert "'my training went well'" in message and "Tried:" in message
    assert "load_run reads:" in message and "mlx_lora" in message


# ----------------------------------------------------------------------------- 9. folders


def _state(steps):
    return json.dumps({"global_step": steps[-1], "log_history": [
        {"step": s, "loss": 1.0 / s, "epoch": s / 100} for s in steps]})


def test_hf_output_dir_reads_the_latest_checkpoint(tmp_path):
    for n in (500, 1000):
        (tmp_path / f"checkpoint-{n}").mkdir()
        (tmp_path / f"checkpoint-{n}" / "trainer_state.json").write_text(
            _state(list(range(100, n + 1, 100))))
    (tmp_path / "runs" / "May01").mkdir(parents=True)
    (tmp_path / "train.log").write_text("{'loss': 1.0, 'epoch': 0.1}\n")
    run = load_run(tmp_path)
    assert run.meta["source_file"] == "checkpoint-1000/trainer_state.json"
    assert run.steps[-1] == 1000 and run.format == "hf_trainer_state"
    (tmp_path / "trainer_state.json").write_text(_state([100, 200, 300, 400, 500, 600, 700, 800,
                                                         900, 1000, 1100]))
    assert load_run(str(tmp_path)).meta["source_file"] == "trainer_state.json"  # save_state's


def test_llamafactory_output_dir_and_mlx_folder(recorded, tmp_path):
    shutil.copy(recorded / "llamafactory_trainer_log_suzushi-tw_nullfields.jsonl",
                tmp_path / "trainer_log.jsonl")
    shutil.copy(recorded / "hf_console_linxiang-ai_llamafactory_transformers5.log",
                tmp_path / "train.log")
    assert load_run(tmp_path).meta["source_file"] == "trainer_log.jsonl"
    mlx = tmp_path / "adapters"
    mlx.mkdir()
    (mlx / "adapter_config.json").write_text("{}")
    (mlx / "adapters.safetensors").write_bytes(b"\0")
    with pytest.raises(ValueError, match="MLX-LM adapter folder.*tee train.log"):
        load_run(mlx)
    shutil.copy(recorded / "mlx_lora_arjun-254.log", mlx / "train.log")
    run = load_run(mlx)
    assert run.format == "mlx_lora" and run.meta["source_file"] == "train.log"


def test_wandb_run_folder_prefers_the_wandb_file(recorded, tmp_path):
    pytest.importorskip("ftlab.runs.wandb_files", reason="the W&B reader is another module")
    run_dir = tmp_path / "wandb" / "run-20250624_170930-m09tvyzw"
    (run_dir / "files").mkdir(parents=True)
    shutil.copy(recorded / "wandb_gulbeycancagri_run-m09tvyzw.wandb", run_dir / "run-m09tvyzw.wandb")
    shutil.copy(recorded / "wandb_summary_gulbeycancagri_m09tvyzw.json",
                run_dir / "files" / "wandb-summary.json")
    run = load_run(tmp_path)
    assert run.meta["source_file"] == "wandb/run-20250624_170930-m09tvyzw/run-m09tvyzw.wandb"
    with pytest.raises(SummaryOnlyError) as err:
        load_run(run_dir / "files" / "wandb-summary.json")
    assert err.value.curve_file == run_dir / "run-m09tvyzw.wandb"


def test_binary_formats_go_to_their_modules(recorded, monkeypatch, tmp_path):
    name = "tfevents_aguleon_roberta_lora_run4.events.out.tfevents.1744230855.b-3-167.5388.4"
    fake = type(sys)("ftlab.runs.tensorboard")
    fake.read_tfevents = lambda path, label: (
        load_run("step,train_loss\n100,1.5\n").metrics, {"format": "tfevents", "seen": label})
    monkeypatch.setitem(sys.modules, "ftlab.runs.tensorboard", fake)
    run = load_run(recorded / name)
    assert run.format == "tfevents" and run.meta["seen"] == str(recorded / name)
    assert run.meta["source_file"] == name
    monkeypatch.setitem(sys.modules, "ftlab.runs.tensorboard", None)  # the module is missing
    with pytest.raises(ValueError, match="cannot read that format.*ftlab.runs.tensorboard"):
        load_run(recorded / name)
    with pytest.raises(ValueError, match="read from its path"):
        load_run((recorded / "wandb_gulbeycancagri_run-m09tvyzw.wandb").read_bytes())
