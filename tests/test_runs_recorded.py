"""Every real recorded file loads into a Run with the right steps and values.

Values are checked against an independent reading of the same bytes with the csv/json modules.
"""

import csv
import json
import math
import re

import pandas as pd
import pytest

from ftlab.runs.run import CANONICAL, Run, load_run

CSV_FILES = {  # file -> (format, steps, canonical name of each source column)
    "openai_sft_patent-insights_step_metrics.csv": ("openai_csv", 1665, {
        "train_loss": "train_loss", "train_accuracy": "train_accuracy",
        "valid_loss": "valid_loss", "valid_mean_token_accuracy": "valid_accuracy"}),
    "openai_sft_historygpt_step_metrics.csv": ("openai_csv", 59, {
        "train_loss": "train_loss", "train_accuracy": "train_accuracy",
        "valid_loss": "valid_loss", "valid_mean_token_accuracy": "valid_accuracy"}),
    "openai_sft_nlbse_noval_step_metrics.csv": ("openai_csv", 1500, {
        "train_loss": "train_loss", "train_accuracy": "train_accuracy",
        "valid_loss": "valid_loss", "valid_mean_token_accuracy": "valid_accuracy"}),
    "openai_legacy_ms-thesis_compiled_results.csv": ("openai_legacy_csv", 2001, {
        "training_loss": "train_loss", "training_token_accuracy": "train_accuracy",
        "validation_loss": "valid_loss", "validation_token_accuracy": "valid_accuracy",
        "elapsed_tokens": "elapsed_tokens",
        "training_sequence_accuracy": "training_sequence_accuracy"}),
}


def _same(cell, value):
    if cell.strip() == "":
        return math.isnan(value)
    return float(cell) == value


@pytest.mark.parametrize("filename", sorted(CSV_FILES))
def test_recorded_csv_matches_csv_module(recorded, filename):
    fmt, n_steps, columns = CSV_FILES[filename]
    run = load_run(recorded / filename)
    assert run.format == fmt and run.n_steps == n_steps
    assert list(run.metrics.columns[:len(CANONICAL)]) == list(CANONICAL)
    with open(recorded / filename, newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    assert len(rows) == n_steps
    for i in sorted({0, 1, min(99, len(rows) - 1), len(rows) // 2, len(rows) - 1}):
        row = rows[i]
        step = int(row["step"])
        for source, canonical in columns.items():
            assert _same(row[source], run.metrics.loc[step, canonical]), (i, source)


def test_patent_insights_overfits_as_provenance_says(recorded):
    run = load_run(recorded / "openai_sft_patent-insights_step_metrics.csv")
    valid = run.metrics["valid_loss"].dropna()
    assert valid.index[0] == 100 and valid.index[-1] == 1600  # every 100 steps, not the last
    assert run.best_valid() == (100, valid.loc[100])
    assert valid.loc[1600] > valid.loc[100] + 0.4


def test_nlbse_has_no_validation_and_scientific_notation(recorded):
    text = (recorded / "openai_sft_nlbse_noval_step_metrics.csv").read_text()
    run = load_run(recorded / "openai_sft_nlbse_noval_step_metrics.csv")
    assert not run.has_validation
    sci = [line for line in text.splitlines() if re.search(r"\de-\d", line)]
    assert sci, "the file is known to hold 1e-05 style values"
    step, loss = sci[0].split(",")[:2]
    assert run.metrics.loc[int(step), "train_loss"] == float(loss)


def test_marv_log_has_83_steps_and_step_2_missing(recorded):
    run = load_run(recorded / "openai_sft_seed-marv_job_stdout.txt")
    assert run.format == "openai_event_log"
    assert run.n_steps == 83 and run.meta["total_steps"] == 84
    assert run.meta["missing_steps"] == [2]
    assert 2 not in run.metrics.index
    text = (recorded / "openai_sft_seed-marv_job_stdout.txt").read_text()
    printed = {int(s): float(v) for s, v in re.findall(r"Step (\d+)/84: training loss=([\d.]+)", text)}
    assert len(printed) == 83
    assert run.metrics["train_loss"].to_dict() == printed
    assert run.meta["job_id"] == "ftjob-eb5tUUfIqNnI7VTK6YsCVFMd"
    assert run.meta["checkpoints"] == [28, 56] and run.meta["status"] == "succeeded"
    # checkpoints at each epoch end give 28 steps per epoch: the last step closes epoch 3
    assert run.meta["steps_per_epoch"] == 28 and run.metrics.loc[84, "epoch"] == 3.0
    assert run.epochs()["steps"].tolist() == [27, 28, 28]


def test_patent_event_printout_keeps_exact_data(recorded):
    run = load_run(recorded / "openai_sft_patent-insights_list_events_limit10.txt")
    text = (recorded / "openai_sft_patent-insights_list_events_limit10.txt").read_text()
    blocks = [b for b in text.split("-" * 40) if "Additional Data:" in b]
    assert run.n_steps == len(blocks) == 6
    for block in blocks:
        data = dict(re.findall(r"^  (\w+): (\S+)$", block, re.M))
        step = int(data["step"])
        assert run.metrics.loc[step, "train_loss"] == float(data["train_loss"])
        assert run.metrics.loc[step, "train_accuracy"] == float(data["train_mean_token_accuracy"])
    assert run.metrics.loc[1665, "full_valid_loss"] == 0.8756469761440784
    assert run.meta["checkpoints"] == [555, 1110]
    assert run.meta["fine_tuned_model"] == "ft:gpt-3.5-turbo-0125:personal::9FR6HhPm"
    assert run.meta["missing_steps"] == [] and run.meta["has_more"] is False


def test_trainer_state_merges_train_and_eval_by_step(recorded):
    path = recorded / "hf_trl_sft_tinyllama_trainer_state.json"
    state = json.loads(path.read_text())
    run = load_run(path)
    train = [e for e in state["log_history"] if "loss" in e]
    evals = [e for e in state["log_history"] if "eval_loss" in e]
    assert run.n_steps == len({e["step"] for e in train + evals})
    for e in train[::37]:
        assert run.metrics.loc[e["step"], "train_loss"] == e["loss"]
        assert run.metrics.loc[e["step"], "grad_norm"] == e["grad_norm"]
        assert run.metrics.loc[e["step"], "epoch"] == e["epoch"]
    for e in evals:
        assert run.metrics.loc[e["step"], "valid_loss"] == e["eval_loss"]
        assert run.metrics.loc[e["step"], "valid_accuracy"] == e["eval_mean_token_accuracy"]
    assert run.meta["best_metric"] == state["best_metric"]
    assert run.meta["early_stopping"]["early_stopping_patience"] == 4
    assert run.meta["total_steps"] == state["max_steps"]
    assert run.metrics["valid_loss"].dropna().is_monotonic_decreasing  # "healthy run"


# The recordings read by the readers of this wing's text formats (TensorBoard and W&B files have
# their own modules; summary-only files raise SummaryOnlyError: tests/test_runs_formats.py).
READABLE = (
    "azure_results_ankitg28.csv",
    "hf_console_linxiang-ai_llamafactory_transformers5.log",
    "hf_console_nicolassalvan_ner_slurm-1361.out",
    "llamafactory_trainer_log_linxiang-ai.jsonl",
    "llamafactory_trainer_log_rameyjm7_2gpu_resumed.jsonl",
    "llamafactory_trainer_log_suzushi-tw_nullfields.jsonl",
    "mlx_lora_arjun-254.log",
    "openai_event_log_jamesdominiqueai_gpt41nano.txt",
    "openai_legacy_sdk_list_events_openaiobject_robinsmits.txt",
    "openai_sdk_events_list_repr_akey7.txt",
    "openai_sdk_events_list_repr_andreaseghetto_moderation.txt",
    "hf_trainer_state_akanksha28pathak_smolvlm_ckpt900.json",
    "hf_trainer_state_jaypee34_distilbert_bestf1.json",
    "hf_trl_sft_tinyllama_trainer_state.json",
    "openai_legacy_ms-thesis_compiled_results.csv",
    "openai_sft_historygpt_step_metrics.csv",
    "openai_sft_nlbse_noval_step_metrics.csv",
    "openai_sft_patent-insights_list_events_limit10.txt",
    "openai_sft_patent-insights_step_metrics.csv",
    "openai_sft_seed-marv_job_stdout.txt",
)


def test_every_readable_recorded_file_loads(recorded):
    for path in (recorded / name for name in READABLE):
        run = load_run(path)
        assert isinstance(run, Run) and run.n_steps > 0
        assert run.metrics.index.is_monotonic_increasing and run.metrics.index.is_unique


def test_base64_of_a_real_results_file(recorded):
    import base64

    raw = (recorded / "openai_sft_historygpt_step_metrics.csv").read_bytes()
    encoded = base64.b64encode(raw)
    plain, decoded = load_run(raw), load_run(encoded)
    pd.testing.assert_frame_equal(plain.metrics, decoded.metrics, check_exact=True)
    assert decoded.meta["encoding"] == "base64"
    as_text = load_run(encoded.decode())  # what people commit as step_metrics.csv
    pd.testing.assert_frame_equal(plain.metrics, as_text.metrics, check_exact=True)
