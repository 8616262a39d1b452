"""load_run on small fixtures of every format variant, the Run API, and bad input."""

import base64
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import ftlab
from ftlab.runs.run import CANONICAL, Run, load_run

OPENAI_CSV = """step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy
1,1.40411,0.69159,,
2,0.44700,0.75000,0.52000,0.70100
3,1e-05,1.0,,
4,8e-05,1.0,0.50000,0.71000

"""


# ----------------------------------------------------------------------------- OpenAI results CSV


def test_openai_csv_fixed_decimals_scientific_and_trailing_blank_line():
    run = load_run(OPENAI_CSV)
    assert run.format == "openai_csv" and run.n_steps == 4
    m = run.metrics
    assert m.loc[2, "train_loss"] == 0.447 and m.loc[3, "train_loss"] == 1e-05
    assert m.loc[4, "train_loss"] == 8e-05 and m.loc[4, "valid_accuracy"] == 0.71
    assert np.isnan(m.loc[1, "valid_loss"]) and np.isnan(m.loc[3, "valid_accuracy"])
    assert list(m.columns) == list(CANONICAL)
    assert m.index.name == "step" and m.index.dtype == np.int64
    assert run.meta["total_steps"] == 4


@pytest.mark.parametrize("wrap", [False, True])
def test_openai_csv_base64_is_decoded(wrap):
    encoded = base64.b64encode(OPENAI_CSV.encode()).decode()
    if wrap:  # base64 tools wrap at 76 characters
        encoded = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + "\n"
    run = load_run(encoded)
    pd.testing.assert_frame_equal(run.metrics, load_run(OPENAI_CSV).metrics)
    assert run.meta["encoding"] == "base64"
    assert load_run(encoded.encode()).n_steps == 4  # bytes, as files.content().read() gives


def test_truncated_base64_is_a_clear_error():
    encoded = base64.b64encode(OPENAI_CSV.encode()).decode()
    with pytest.raises(ValueError, match="base64.*truncated"):
        load_run(encoded[:-3])


def test_openai_csv_from_a_file_and_a_dataframe(tmp_path):
    path = tmp_path / "step_metrics.csv"
    path.write_text(OPENAI_CSV)
    from_file = load_run(path)
    assert from_file.name == "step_metrics" and from_file.meta["source_file"] == "step_metrics.csv"
    assert load_run(str(path)).n_steps == 4
    frame = pd.read_csv(path)
    pd.testing.assert_frame_equal(load_run(frame).metrics, from_file.metrics)


# ----------------------------------------------------------------------------- events


def _event(step, loss, created, **extra):
    data = {"step": step, "train_loss": loss, "train_mean_token_accuracy": 0.5, "total_steps": 4}
    data.update(extra)
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{step}", "created_at": created,
            "level": "info", "type": "metrics", "data": data,
            "message": f"Step {step}/4: training loss={loss:.2f}"}


EVENTS = [
    _event(4, 0.25, 40, full_valid_loss=0.61, full_valid_mean_token_accuracy=0.8),
    {"object": "fine_tuning.job.event", "id": "ftevent-ck", "created_at": 41, "level": "info",
     "type": "message", "data": {},
     "message": "Checkpoint created at step 2 with Snapshot ID: ft:gpt-4o-mini:org::abc:ckpt-step-2"},
    {"object": "fine_tuning.job.event", "id": "ftevent-done", "created_at": 42, "level": "info",
     "type": "message", "data": {}, "message": "New fine-tuned model created: ft:gpt-4o-mini:org::abc"},
    _event(3, 0.5, 30, valid_loss=0.7, valid_mean_token_accuracy=0.75),
    _event(1, 2.0, 10),
    _event(2, 1.0, 20),
]


def test_events_any_order_with_duplicates_counted_once():
    newest_first = sorted(EVENTS, key=lambda e: -e["created_at"])
    run = load_run(newest_first + newest_first[:3])  # an overlapping second poll
    assert run.format == "openai_events" and run.n_steps == 4
    assert run.meta["duplicate_events"] == 3
    m = run.metrics
    assert m["train_loss"].tolist() == [2.0, 1.0, 0.5, 0.25]
    assert m.loc[3, "valid_loss"] == 0.7 and m.loc[3, "valid_accuracy"] == 0.75
    assert m.loc[4, "full_valid_loss"] == 0.61 and m.loc[4, "full_valid_accuracy"] == 0.8
    assert m.loc[1, "train_accuracy"] == 0.5
    assert run.meta["checkpoints"] == [2] and run.meta["total_steps"] == 4
    assert run.meta["checkpoint_models"] == [{"step": 2, "model": "ft:gpt-4o-mini:org::abc:ckpt-step-2"}]
    assert run.meta["fine_tuned_model"] == "ft:gpt-4o-mini:org::abc"
    assert run.meta["steps_per_epoch"] == 2 and m["epoch"].tolist() == [0.5, 1.0, 1.5, 2.0]
    assert "total_steps" not in m.columns  # a job fact, not a metric
    pd.testing.assert_frame_equal(load_run(list(reversed(EVENTS))).metrics, m)


def test_events_page_object_json_text_and_jsonl():
    page = {"object": "list", "data": EVENTS, "has_more": True}
    run = load_run(page)
    assert run.n_steps == 4 and run.meta["has_more"] is True
    assert load_run(json.dumps(page)).n_steps == 4
    jsonl = "\n".join(json.dumps(e) for e in EVENTS)
    assert load_run(jsonl).n_steps == 4


def test_events_from_openai_sdk_objects():
    from openai.types.fine_tuning import FineTuningJobEvent

    objects = [FineTuningJobEvent(**e) for e in EVENTS]
    run = load_run(objects)
    pd.testing.assert_frame_equal(run.metrics, load_run(EVENTS).metrics)

    class Page:  # what client.fine_tuning.jobs.list_events returns: .data and .has_more
        data, has_more = objects, False

    assert load_run(Page()).meta["has_more"] is False


def test_azure_style_events_every_ten_steps_report_no_missing_steps_between():
    events = [dict(_event(s, 1.0 / s, s, valid_loss=1.1 / s, valid_mean_token_accuracy=0.5,
                          full_valid_loss=1.2 / s, full_valid_mean_token_accuracy=0.6))
              for s in (10, 20, 30, 40, 45)]
    for event in events:
        event["data"]["total_steps"] = 45  # the last step is logged although not on the grid
    run = load_run(events)
    assert run.metrics["full_valid_loss"].notna().all()
    assert run.meta["logged_every"] == 10 and run.meta["missing_steps"] == []
    del events[1]  # step 20 lost
    assert load_run(events).meta["missing_steps"] == [20]


def test_failed_job_events_kept_in_meta():
    events = [_event(1, 2.0, 10), {"id": "e2", "created_at": 11, "level": "error", "type": "message",
                                   "message": "Fine-tuning job failed: the training file has 3 bad lines"}]
    run = load_run(events)
    assert run.meta["status"] == "failed"
    assert "bad lines" in run.meta["errors"][0]


def test_conflicting_duplicate_steps_in_events_are_an_error():
    clash = dict(_event(1, 2.0, 10), id="other")
    clash["data"] = dict(clash["data"], train_loss=3.0)
    with pytest.raises(ValueError, match="step 1 was reported twice"):
        load_run([_event(1, 2.0, 10), clash])


# ----------------------------------------------------------------------------- printed logs


LOG = """Fine-Tuning Job ID: ftjob-abc
Fine-Tuning Job Status: running
1700000000: Created fine-tuning job: ftjob-abc
Waiting for updates...
1700000010: Step 3/6: training loss=1.50, validation loss=1.70
1700000010: Step 1/6: training loss=2.50
1700000012: Step 5/6: training loss=0.80
1700000012: Step 4/6: training loss=1.00
1700000013: Step 6/6: training loss=0.70, full validation loss=0.95
1700000014: Step 7/6: training loss=oops
1700000020: Checkpoint created at step 3
Fine-Tuning Job Status: succeeded
1700000021: The job has successfully completed
"""


def test_printed_log_sorted_missing_steps_reported_bad_line_reported():
    run = load_run(LOG)
    assert run.format == "openai_event_log"
    assert run.steps.tolist() == [1, 3, 4, 5, 6]
    assert run.meta["missing_steps"] == [2]
    assert run.metrics.loc[3, "valid_loss"] == 1.7 and run.metrics.loc[6, "full_valid_loss"] == 0.95
    assert run.meta["job_id"] == "ftjob-abc" and run.meta["status"] == "succeeded"
    assert run.meta["skipped_lines"] == ["line 10: Step 7/6: training loss=oops"]
    assert run.meta["checkpoints"] == [3] and run.meta["steps_per_epoch"] == 3
    assert run.meta["rounded_steps"] == 5


def test_log_that_starts_late_notes_it():
    run = load_run("1700000012: Step 5/6: training loss=0.80\n1700000013: Step 6/6: training loss=0.70\n")
    assert run.meta["missing_steps"] == []
    assert any("start at step 5" in note for note in run.meta["notes"])


# ----------------------------------------------------------------------------- checkpoints


CHECKPOINTS = {"object": "list", "has_more": False, "data": [
    {"object": "fine_tuning.job.checkpoint", "id": "ftckpt_b", "created_at": 2,
     "fine_tuned_model_checkpoint": "ft:gpt-4o-mini:org::x:ckpt-step-200",
     "fine_tuning_job_id": "ftjob-x", "step_number": 200,
     "metrics": {"step": 200.0, "train_loss": 0.4, "full_valid_loss": 0.9,
                 "full_valid_mean_token_accuracy": 0.7}},
    {"object": "fine_tuning.job.checkpoint", "id": "ftckpt_a", "created_at": 1,
     "fine_tuned_model_checkpoint": "ft:gpt-4o-mini:org::x:ckpt-step-100",
     "fine_tuning_job_id": "ftjob-x", "step_number": 100,
     "metrics": {"step": 100.0, "train_loss": 0.6, "valid_loss": None}},
]}


def test_checkpoints_page_float_steps_optional_fields():
    run = load_run(CHECKPOINTS)
    assert run.format == "openai_checkpoints" and run.steps.tolist() == [100, 200]
    assert run.metrics.loc[200, "full_valid_accuracy"] == 0.7
    assert np.isnan(run.metrics.loc[100, "valid_loss"])
    assert run.meta["checkpoints"] == [100, 200] and run.meta["job_id"] == "ftjob-x"
    assert run.meta["checkpoint_models"][0]["model"].endswith("ckpt-step-100")


def test_checkpoints_from_sdk_objects_and_step_from_metrics_only():
    from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

    objects = [FineTuningJobCheckpoint(**c) for c in CHECKPOINTS["data"]]
    assert load_run(objects).steps.tolist() == [100, 200]
    no_number = [{"id": "c", "metrics": {"step": 50.0, "train_loss": 1.0}}]
    assert load_run(no_number, format="openai_checkpoints").steps.tolist() == [50]


# ----------------------------------------------------------------------------- legacy CSV


LEGACY = """step,elapsed_tokens,elapsed_examples,training_loss,training_sequence_accuracy,training_token_accuracy,validation_loss,validation_sequence_accuracy,validation_token_accuracy,classification/accuracy,classification/weighted_f1_score
1,100,1,0.9,0.0,0.5,1.1,0.0,0.4,,
2,200,2,0.7,0.0,0.6,,,,0.5,0.45
3,300,3,0.5,0.0,0.7,0.8,0.0,0.6,,
4,400,4,0.3,1.0,0.8,,,,0.75,0.7
"""


def test_legacy_csv_maps_names_and_keeps_classification_columns():
    run = load_run(LEGACY)
    assert run.format == "openai_legacy_csv"
    m = run.metrics
    assert m["train_loss"].tolist() == [0.9, 0.7, 0.5, 0.3]
    assert m.loc[3, "valid_accuracy"] == 0.6
    assert m.loc[4, "classification/accuracy"] == 0.75 and m.loc[2, "elapsed_tokens"] == 200
    assert run.meta["epoch_end_steps"] == [2, 4] and run.meta["steps_per_epoch"] == 2
    assert run.epochs()["last_step"].tolist() == [2, 4]


# ----------------------------------------------------------------------------- trainer_state


STATE = {
    "global_step": 20, "max_steps": 20, "num_train_epochs": 2, "train_batch_size": 4,
    "best_metric": 1.5, "best_model_checkpoint": "out/checkpoint-20",
    "stateful_callbacks": {"EarlyStoppingCallback": {
        "args": {"early_stopping_patience": 3, "early_stopping_threshold": 0.0},
        "attributes": {"early_stopping_patience_counter": 1}}},
    "log_history": [
        {"loss": 2.5, "grad_norm": 1.0, "learning_rate": 2e-5, "epoch": 0.5, "step": 5},
        {"loss": 2.0, "grad_norm": 0.9, "learning_rate": 1.5e-5, "epoch": 1.0, "step": 10},
        {"eval_loss": 1.8, "eval_runtime": 1.0, "epoch": 1.0, "step": 10},
        {"loss": 1.7, "grad_norm": 0.8, "learning_rate": 1e-5, "epoch": 1.5, "step": 15},
        {"eval_loss": 1.5, "eval_runtime": 1.0, "epoch": 2.0, "step": 20},
        {"train_runtime": 12.0, "train_loss": 2.07, "epoch": 2.0, "step": 20},
    ],
}


def test_trainer_state_merges_by_step_and_fills_meta():
    run = load_run(STATE)
    m = run.metrics
    assert run.format == "hf_trainer_state" and run.steps.tolist() == [5, 10, 15, 20]
    assert m.loc[10, "train_loss"] == 2.0 and m.loc[10, "valid_loss"] == 1.8
    assert np.isnan(m.loc[20, "train_loss"]) and m.loc[20, "valid_loss"] == 1.5
    assert m["epoch"].tolist() == [0.5, 1.0, 1.5, 2.0] and m.loc[15, "grad_norm"] == 0.8
    assert run.meta["summary"]["train_loss"] == 2.07  # the summary is not step 20's loss
    assert run.meta["n_epochs"] == 2 and run.meta["best_model_checkpoint"] == "out/checkpoint-20"
    assert run.meta["early_stopping"]["early_stopping_patience_counter"] == 1
    assert load_run(json.dumps(STATE)).n_steps == 4


# ----------------------------------------------------------------------------- any table


def test_generic_csv_with_aliases_and_column_map():
    run = load_run("iteration,loss,val_loss,lr\n0,3.0,,0.1\n10,2.0,2.5,0.1\n")
    assert run.format == "table" and run.steps.tolist() == [0, 10]
    assert run.metrics.loc[10, "valid_loss"] == 2.5 and run.metrics.loc[0, "lr"] == 0.1
    frame = pd.DataFrame({"it": [1, 2], "nll": [2.0, 1.0], "heldout": [2.2, 1.4]})
    mapped = load_run(frame, column_map={"it": "step", "nll": "train_loss", "heldout": "valid_loss"})
    assert mapped.metrics["valid_loss"].tolist() == [2.2, 1.4]
    records = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}]
    assert load_run(records).metrics["train_loss"].tolist() == [2.0, 1.0]


def test_column_map_naming_a_missing_column():
    with pytest.raises(ValueError, match="column_map names \\['nope'\\]"):
        load_run("step,loss\n1,2\n", column_map={"nope": "train_loss"})


# ----------------------------------------------------------------------------- the Run itself


def _run():
    return load_run(OPENAI_CSV, name="demo", meta={"n_epochs": 2, "model": "gpt-4o-mini"})


def test_repr_tells_format_steps_metrics_and_validation():
    text = repr(_run())
    assert text.startswith("Run 'demo' (openai_csv): 4 steps, 1..4")
    assert "valid loss: last 0.5 (step 4), best 0.5 (step 4)" in text
    assert "train loss: 1.404 (step 1) -> 8e-05 (step 4)" in text


def test_to_openai_csv_reads_back_identically(tmp_path):
    run = _run()
    path = run.to_openai_csv(tmp_path / "out.csv")
    again = load_run(path)
    assert again.format == "openai_csv"
    pd.testing.assert_frame_equal(again.metrics[list(CANONICAL[:4])], run.metrics[list(CANONICAL[:4])])
    with pytest.raises(FileExistsError, match="already exists"):
        run.to_openai_csv(path)
    assert run.to_openai_csv().splitlines()[0] == \
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"


def test_with_perplexity_and_epochs():
    run = _run().with_perplexity()
    assert run.metrics.loc[2, "train_perplexity"] == pytest.approx(math.exp(0.447))
    assert np.isnan(run.metrics.loc[1, "valid_perplexity"])
    table = run.epochs()
    assert table.index.tolist() == [1, 2] and table["steps"].tolist() == [2, 2]
    assert table.loc[1, "train_loss"] == pytest.approx((1.40411 + 0.447) / 2)
    assert table.loc[2, "valid_loss"] == 0.5
    with pytest.raises(ValueError, match="n_epochs"):
        load_run(OPENAI_CSV).epochs()


def test_save_round_trips_exactly_and_refuses_to_overwrite(tmp_path):
    run = load_run(STATE, name="hf", meta={"note": "ünïcode", "nested": {"a": [1, 2.5]}})
    path = run.save(tmp_path / "hf.csv")
    again = load_run(path)
    pd.testing.assert_frame_equal(again.metrics, run.metrics, check_exact=True)
    assert again.meta == run.meta and again.format == "hf_trainer_state"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        run.save(path)
    run.save(path, overwrite=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), min_size=1, max_size=30),
       st.integers(min_value=0, max_value=10**12))
def test_saved_values_round_trip_exactly(values, first_step):
    frame = pd.DataFrame({"train_loss": values, "extra": values[::-1]},
                         index=range(first_step, first_step + len(values)))
    run = Run(frame, {"name": "prop"})
    again = load_run(run.to_text())
    pd.testing.assert_frame_equal(again.metrics, run.metrics, check_exact=True)


def test_a_results_csv_cut_off_mid_row_warns_with_its_line():
    text = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,2.0,0.5,,\n2,1.5,0.6,1.8,0.5\n3,1.2"
    with pytest.warns(UserWarning, match=r"line 4: 2 of 5 fields; the file looks cut off"):
        run = load_run(text)
    assert run.n_steps == 3 and math.isnan(run.metrics.loc[3, "train_accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the whole file: no warning
        load_run(text.rsplit("\n", 1)[0] + "\n")


def test_a_run_with_no_steps_yet_round_trips(tmp_path):
    empty = Run(pd.DataFrame({"train_loss": []}, index=pd.Index([], dtype="int64")), name="new")
    again = load_run(empty.save(tmp_path / "new.csv"))
    assert again.n_steps == 0 and list(again.metrics.columns) == list(empty.metrics.columns)


def test_run_rejects_bad_steps():
    with pytest.raises(ValueError, match="more than once"):
        Run(pd.DataFrame({"train_loss": [1.0, 2.0]}, index=[1, 1]))
    with pytest.raises(ValueError, match="negative"):
        Run(pd.DataFrame({"train_loss": [1.0]}, index=[-1]))
    with pytest.raises(ValueError, match="whole number"):
        Run(pd.DataFrame({"train_loss": [1.0]}, index=[1.5]))


def test_exported_from_ftlab():
    assert ftlab.Run is Run and ftlab.load_run is load_run
    assert callable(ftlab.sample_runs) and callable(ftlab.load_sample)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("source, words", [
    ("", "is empty"),
    ("   \n\n", "is empty"),
    (b"", "is empty"),
    ("loss,accuracy\n1.0,0.5\n", "no step column"),
    ("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,0.5,0.1,,\n2,abc,0.2,,\n",
     "line 3, column train_loss: 'abc' is not a number"),
    ("step,train_loss,train_accuracy\n1,0.5,0.1\n-2,0.4,0.2\n", "line 3: step -2"),
    ("step,train_loss,train_accuracy\n1,0.5,0.1\n1,0.4,0.2\n", "line 3: step 1 appears twice"),
    ("step,train_loss,train_accuracy\n1.5,0.5,0.1\n", "line 2: step 1.5"),
    ("step,train_loss,train_accuracy\n", "no rows"),
    ('{"hello": 1}', "neither a trainer_state"),
    ("[]", "empty list"),
    ("[1, 2]", "list of int"),
    ('{"log_history": []}', "empty log_history"),
    ("{not json", "looks like JSON but line 1"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    ("hello world, this is not a run\nat all", "no step column"),
    ("just words", "not a format load_run knows"),
    ("step,epoch\n1,0.5\n", "no loss column"),
])
def test_bad_input_names_source_place_and_formats(source, words):
    with pytest.raises(ValueError) as err:
        load_run(source)
    message = str(err.value)
    assert words in message
    assert "load_run reads: openai_csv" in message


def test_bad_file_error_names_the_file(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,train_loss,train_accuracy\n1,x,0.5\n")
    with pytest.raises(ValueError, match=f"{path}: line 2, column train_loss"):
        load_run(path)
    with pytest.raises(FileNotFoundError):
        load_run(tmp_path / "absent.csv")


def test_unknown_format_name_and_wrong_type():
    with pytest.raises(ValueError, match="unknown format 'excel'"):
        load_run(OPENAI_CSV, format="excel")
    with pytest.raises(ValueError, match="cannot read a int"):
        load_run(42)
    with pytest.raises(ValueError, match="format ftlab is text"):
        load_run(EVENTS, format="ftlab")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_give_a_run_or_a_value_error(data):
    try:
        run = load_run(data)
    except ValueError:
        return
    assert isinstance(run, Run)


CSV_ALPHABET = st.sampled_from(list("step,train_loss,valid_accuracy0123456789.-e\n {}[]\"':"))


@settings(max_examples=300, deadline=None)
@given(st.text(CSV_ALPHABET, max_size=200))
@pytest.mark.filterwarnings("ignore:.*looks cut off")  # garbage often ends in a short row
def test_csv_like_garbage_gives_a_run_or_a_value_error(text):
    try:
        run = load_run("step,train_loss,train_accuracy\n" + text)
    except ValueError:
        return
    assert isinstance(run, Run)


JSON_KEYS = st.sampled_from(["step", "data", "log_history", "message", "type", "metrics", "id",
                             "step_number", "object", "loss", "eval_loss", "train_loss",
                             "created_at", "has_more"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_KEYS, inner, max_size=5),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_random_json_shapes_give_a_run_or_a_value_error(obj):
    for source in (obj, json.dumps(obj)):
        try:
            run = load_run(source)
        except ValueError:
            continue
        assert isinstance(run, Run)


def test_load_run_of_a_run_is_a_renamed_copy():
    run = _run()
    copy = load_run(run, name="copy", meta={"note": "x"})
    assert copy.name == "copy" and copy.meta["note"] == "x" and run.name == "demo"
    copy.metrics.loc[1, "train_loss"] = 99.0
    assert run.metrics.loc[1, "train_loss"] != 99.0


def test_absurd_step_numbers_do_not_enumerate_the_gap():
    run = load_run([{"type": "metrics", "data": {"step": 1, "train_loss": 1.0}},
                    {"type": "metrics", "data": {"step": 2**50, "train_loss": 0.5}}])
    assert run.meta["missing_steps"] == [] and "gaps not listed" in run.meta["notes"][-1]


def test_windows_line_endings_and_byte_order_mark():
    crlf = OPENAI_CSV.replace("\n", "\r\n")
    pd.testing.assert_frame_equal(load_run("\ufeff" + crlf).metrics, load_run(OPENAI_CSV).metrics)
    assert load_run(("\ufeff" + crlf).encode("utf-8")).n_steps == 4
    log = load_run(LOG.replace("\n", "\r\n"))
    assert log.steps.tolist() == [1, 3, 4, 5, 6] and log.meta["status"] == "succeeded"


def test_epochs_from_examples_and_batch_size_and_auto_ignored():
    frame = pd.DataFrame({"train_loss": np.linspace(3, 1, 12)}, index=range(1, 13))
    run = Run(frame, {"n_train_examples": 7, "batch_size": 2})  # ceil(7 / 2) = 4 steps per epoch
    assert run.meta["steps_per_epoch"] == 4 and run.epochs()["last_step"].tolist() == [4, 8, 12]
    auto = Run(frame, {"n_epochs": "auto", "batch_size": "auto"})  # what a job says before it runs
    assert auto.metrics["epoch"].isna().all()
