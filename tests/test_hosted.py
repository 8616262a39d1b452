"""The hosted fine-tuning workflow against a loopback stand-in of the API (tests/fake_openai.py).

Everything runs offline: the real ``openai`` client talks HTTP to 127.0.0.1, and the stand-in answers
with the API's response shapes (events newest first, 20 per page, has_more/after, base64 results
files, checkpoints with full_valid_*, error bodies).
"""

import sys
import types

import pytest

openai = pytest.importorskip("openai")

from fake_openai import FakeServer, metrics_at  # noqa: E402

import ftlab  # noqa: E402
from ftlab.hosted.client import HostedError, find_client, get_client, require_client  # noqa: E402
from ftlab.hosted.jobs import plan_job, start_job, wait  # noqa: E402
from ftlab.hosted.fetch import fetch_run, list_jobs  # noqa: E402

KEY = "test-key-0000"  # not key-shaped on purpose; test_no_secrets plants a realistic one
MARV = ftlab.hosted.jobs._marv
FAST = {"retry-after-ms": "5"}  # the client honours it, so retries take milliseconds


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make_client(server, retries=2):
    return openai.OpenAI(api_key=KEY, base_url=server.url + "/v1", max_retries=retries)


def paths(server, method=None):
    return [r["path"] for r in server.api.requests if method in (None, r["method"])]


# ----------------------------------------------------------------------------- client and key


def test_key_from_environment_makes_an_openai_client_and_says_where_not_what():
    client, message = find_client(environ={"OPENAI_API_KEY": KEY}, colab=False, ask=False)
    assert isinstance(client, openai.OpenAI) and not isinstance(client, openai.AzureOpenAI)
    assert "environment" in message and KEY not in message and KEY not in repr(client)


def test_azure_client_is_built_from_its_three_variables_and_talks_the_azure_way(server):
    env = {"AZURE_OPENAI_API_KEY": KEY, "AZURE_OPENAI_ENDPOINT": server.url,
           "OPENAI_API_VERSION": "2025-02-01-preview"}
    client, message = find_client(environ=env, colab=False, ask=False, max_retries=0)
    assert isinstance(client, openai.AzureOpenAI)
    assert "2025-02-01-preview" in message and KEY not in message
    server.api.add_job()
    assert len(list_jobs(client)) == 1
    request = server.api.requests[-1]
    assert request["path"] == "/fine_tuning/jobs"
    assert request["query"]["api-version"] == ["2025-02-01-preview"]
    assert request["headers"]["api-key"] == KEY  # Azure's header, not a bearer token


def test_azure_without_a_version_uses_the_default_and_without_an_endpoint_says_so():
    env = {"AZURE_OPENAI_API_KEY": KEY, "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}
    client, message = find_client("azure", environ=env, colab=False, ask=False)
    assert isinstance(client, openai.AzureOpenAI)
    assert ftlab.hosted.client.DEFAULT_AZURE_API_VERSION in message
    client, message = find_client("azure", environ={"AZURE_OPENAI_API_KEY": KEY}, colab=False,
                                  ask=False)
    assert client is None and "AZURE_OPENAI_ENDPOINT is not set" in message


def _fake_colab(monkeypatch, secrets, error=None):
    userdata = types.ModuleType("google.colab.userdata")

    class SecretNotFoundError(Exception):
        pass

    def get(name):
        if error:
            raise error
        if name not in secrets:
            raise SecretNotFoundError(name)
        return secrets[name]

    userdata.get, userdata.SecretNotFoundError = get, SecretNotFoundError
    colab = types.ModuleType("google.colab")
    colab.userdata = userdata
    google = types.ModuleType("google")
    google.colab = colab
    for name, module in (("google", google), ("google.colab", colab),
                         ("google.colab.userdata", userdata)):
        monkeypatch.setitem(sys.modules, name, module)


def test_colab_secret_is_used_and_its_errors_become_reasons(monkeypatch):
    _fake_colab(monkeypatch, {"OPENAI_API_KEY": KEY})
    client, message = find_client(environ={}, ask=False)
    assert isinstance(client, openai.OpenAI) and "Colab Secrets" in message
    _fake_colab(monkeypatch, {})
    client, message = find_client(environ={}, ask=False)
    assert client is None and "SecretNotFoundError" in message and "Secrets" in message

    class NotebookAccessError(Exception):
        pass

    _fake_colab(monkeypatch, {}, error=NotebookAccessError("access not granted"))
    client, message = find_client(environ={}, ask=False)
    assert client is None and "NotebookAccessError" in message


def test_getpass_only_when_asked_or_interactive(monkeypatch):
    import getpass

    monkeypatch.setattr(getpass, "getpass", lambda prompt: KEY)
    client, message = find_client(environ={}, colab=False, ask=True)
    assert isinstance(client, openai.OpenAI) and "typed" in message
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "")
    assert find_client(environ={}, colab=False, ask=True)[0] is None

    def refuse(prompt):
        raise AssertionError("getpass must not be called outside an interactive session")

    monkeypatch.setattr(getpass, "getpass", refuse)
    assert find_client(environ={}, colab=False)[0] is None  # pytest is not interactive


def test_no_key_gives_none_a_printed_reason_and_a_clear_error_later(monkeypatch, capsys):
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert get_client(ask=False) is None
    out = capsys.readouterr().out
    assert out.startswith("No client: no API key found") and "load_sample('marv')" in out
    with pytest.raises(HostedError, match="no API client") as err:
        wait(None, "ftjob-1")
    assert err.value.kind == "no_client"


def test_provider_must_be_known():
    with pytest.raises(ValueError, match="provider"):
        find_client("anthropic", environ={}, colab=False, ask=False)


# ----------------------------------------------------------------------------- errors users hit


def test_401_says_the_key_was_rejected_without_repeating_it(server):
    leaked = "sk-proj-" + "Zx9" * 12
    server.api.fail("GET", "/fine_tuning/jobs", 401, f"Incorrect API key provided: {leaked}. You "
                    "can find your API key at https://platform.openai.com/account/api-keys.",
                    code="invalid_api_key")
    with pytest.raises(HostedError) as err:
        list_jobs(make_client(server))
    assert err.value.kind == "auth" and err.value.status == 401
    assert "rejected" in str(err.value) and "req_test123" in str(err.value)
    assert leaked not in str(err.value) and "sk-***" in str(err.value)
    assert err.value.__suppress_context__  # the original (with the key) is not shown in tracebacks


def test_403_on_create_explains_the_wind_down_and_the_ways_out(server):
    server.api.fail("POST", "/fine_tuning/jobs", 403, "You do not have access to fine-tuning.")
    with pytest.raises(HostedError) as err:
        start_job(make_client(server), MARV("train"), MARV("valid"), model="gpt-4o-mini-2024-07-18",
                  n_epochs=3, batch_size=1, learning_rate_multiplier=1.8, confirm=False)
    text = str(err.value)
    assert err.value.kind == "wind_down"
    for fact in ("2026-05-07", "2027-01-06", "Azure OpenAI", "load_sample('marv')", "tinylm"):
        assert fact in text


def test_400_on_create_names_the_parameter_and_points_to_the_validator(server):
    server.api.fail("POST", "/fine_tuning/jobs", 400, "Invalid value for 'n_epochs': must be at most "
                    "50 for this model.", code="invalid_value")
    with pytest.raises(HostedError) as err:
        start_job(make_client(server), MARV("train"), None, model="gpt-4o-mini-2024-07-18",
                  n_epochs=3, batch_size=1, learning_rate_multiplier=1.8, confirm=False)
    assert err.value.kind == "bad_request" and err.value.status == 400
    assert "n_epochs" in str(err.value) and "validate_chat" in str(err.value)


def test_403_elsewhere_is_a_permission_problem(server):
    server.api.fail("GET", "/fine_tuning/jobs", 403, "Project does not have access")
    with pytest.raises(HostedError) as err:
        list_jobs(make_client(server))
    assert err.value.kind == "permission"


def test_404_for_an_unknown_job(server):
    with pytest.raises(HostedError, match="Not found") as err:
        fetch_run(make_client(server), "ftjob-nope")
    assert err.value.kind == "not_found" and "ftjob-" in str(err.value)


def test_429_then_success_is_retried_by_the_client(server):
    server.api.add_job()
    server.api.fail("GET", "/fine_tuning/jobs", 429, "Rate limit reached", headers=FAST)
    table = list_jobs(make_client(server))
    assert len(table) == 1
    assert paths(server).count("/fine_tuning/jobs") == 2  # one refused, one answered


def test_429_that_persists_distinguishes_rate_limit_from_quota(server):
    server.api.fail("GET", "/fine_tuning/jobs", 429, "Rate limit reached", times=9, headers=FAST)
    with pytest.raises(HostedError) as err:
        list_jobs(make_client(server, retries=1))
    assert err.value.kind == "rate_limit" and "Rate limited. Wait a minute" in str(err.value)
    server.api.failures.clear()
    server.api.fail("GET", "/fine_tuning/jobs", 429, "You exceeded your current quota, please check "
                    "your plan and billing details.", code="insufficient_quota", times=9, headers=FAST)
    with pytest.raises(HostedError) as err:
        list_jobs(make_client(server, retries=1))
    assert err.value.kind == "quota" and "credit" in str(err.value)


def test_5xx_and_network_failures(server):
    server.api.fail("GET", "/fine_tuning/jobs", 500, "The server had an error", times=9, headers=FAST)
    with pytest.raises(HostedError) as err:
        list_jobs(make_client(server, retries=1))
    assert err.value.kind == "server" and err.value.status == 500
    dead = openai.OpenAI(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(HostedError) as err:
        list_jobs(dead)
    assert err.value.kind == "network" and "network" in str(err.value)


# ----------------------------------------------------------------------------- plan and start


def test_start_job_uploads_both_files_and_creates_with_explicit_hyperparameters(server, capsys):
    job_id = start_job(make_client(server), MARV("train"), MARV("valid"),
                       model="gpt-4o-mini-2024-07-18", n_epochs=3, batch_size=1,
                       learning_rate_multiplier=1.8, suffix="marv", seed=7, confirm=False)
    api = server.api
    uploads = [f for f in api.files.values() if f["filename"] in ("marv_train.jsonl", "marv_valid.jsonl")]
    assert sorted(f["purpose"] for f in uploads) == ["fine-tune", "fine-tune"]
    assert {f["data"] for f in uploads} == {MARV("train").read_bytes(), MARV("valid").read_bytes()}
    args = api.jobs[job_id]["create_args"]
    assert args["method"] == {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}}}
    assert args["suffix"] == "marv" and args["seed"] == 7 and args["model"] == "gpt-4o-mini-2024-07-18"
    assert api.files[args["training_file"]]["filename"] == "marv_train.jsonl"
    assert api.files[args["validation_file"]]["filename"] == "marv_valid.jsonl"
    out = capsys.readouterr().out
    assert "billed tokens" in out and "cost" in out and job_id in out


def test_start_job_asks_first_and_a_no_spends_nothing(server, monkeypatch, capsys):
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert start_job(make_client(server), MARV("train"), MARV("valid"), model="gpt-4o-mini-2024-07-18",
                     n_epochs=3, batch_size=1, learning_rate_multiplier=1.8) is None
    assert server.api.requests == [] and "Not started" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert start_job(make_client(server), MARV("train"), None, model="gpt-4o-mini-2024-07-18",
                     n_epochs=3, batch_size=1, learning_rate_multiplier=1.8).startswith("ftjob-")


def test_start_job_refuses_files_with_errors_and_overlapping_validation(server):
    from ftlab._data import data_dir

    broken = data_dir() / "chat" / "broken_train.jsonl"
    with pytest.raises(ValueError, match="files need fixing") as err:
        start_job(make_client(server), broken, MARV("valid"), model="gpt-4o-mini-2024-07-18",
                  n_epochs=3, batch_size=1, learning_rate_multiplier=1.0, confirm=False)
    assert "line " in str(err.value) and "Fix:" in str(err.value)
    with pytest.raises(ValueError, match="overlaps the training file"):
        start_job(make_client(server), MARV("train"), MARV("train"), model="gpt-4o-mini-2024-07-18",
                  n_epochs=3, batch_size=1, learning_rate_multiplier=1.0, confirm=False)
    assert server.api.requests == []  # nothing uploaded


@pytest.mark.parametrize("bad, message", [
    ({"n_epochs": 0}, "n_epochs must be a whole number from 1 to 50"),
    ({"batch_size": 257}, "batch_size must be a whole number from 1 to 256"),
    ({"learning_rate_multiplier": -1}, "learning_rate_multiplier must be a number > 0"),
    ({"suffix": "x" * 65}, "suffix must be a string of 1 to 64"),
])
def test_plan_checks_the_apis_bounds(bad, message):
    args = dict(model="gpt-4o-mini-2024-07-18", n_epochs=3, batch_size=1, learning_rate_multiplier=1.0)
    with pytest.raises(ValueError, match=message):
        plan_job(MARV("train"), **{**args, **bad})


def test_plan_estimate_matches_the_token_estimate():
    plan = plan_job(MARV("train"), MARV("valid"), model="gpt-4o-mini-2024-07-18", n_epochs=2,
                    batch_size="auto", learning_rate_multiplier="auto")
    assert plan.ok and plan.estimate.n_epochs == 2
    assert plan.estimate.billed_tokens == 2 * plan.report.n_tokens


# ----------------------------------------------------------------------------- wait


def _message_events(server, job_id):
    return [e["message"] for e in server.api.jobs[job_id]["events"] if e["type"] == "message"]


def test_wait_follows_a_job_to_success_printing_each_event_once(server, capsys):
    job_id = server.api.add_job(n_steps=60, n_epochs=3, events_per_poll=25)  # > 20 new per poll
    job = wait(make_client(server), job_id, poll=0, timeout=30)
    assert job.status == "succeeded" and job.fine_tuned_model.startswith("ft:")
    out, err = capsys.readouterr()
    for message in _message_events(server, job_id):
        assert out.count(message) == 1, message
    assert "succeeded: fine-tuned model ft:" in out
    assert "60/60" in err and "train=" in err  # the bar reached the last step, losses in its postfix


def test_wait_ends_on_a_server_side_validation_failure_with_the_jobs_error(server, capsys):
    job_id = server.api.add_job(outcome="failed", events_per_poll=1)
    job = wait(make_client(server), job_id, poll=0, timeout=30)
    out = capsys.readouterr().out
    assert job.status == "failed" and "FAILED" in out and "invalid training file" in out
    assert "code invalid_training_file" in out and "validate_chat" in out


def test_wait_ends_on_cancel_and_on_timeout(server, capsys):
    job_id = server.api.add_job(outcome="cancelled", events_per_poll=50)
    assert wait(make_client(server), job_id, poll=0, timeout=30).status == "cancelled"
    assert "was cancelled" in capsys.readouterr().out
    job_id = server.api.add_job(n_steps=300, events_per_poll=1)
    job = wait(make_client(server), job_id, poll=0.01, timeout=0.05)
    assert job.status in ("validating_files", "running")
    assert "Stopped waiting" in capsys.readouterr().out


# ----------------------------------------------------------------------------- fetch_run


def test_fetch_run_pages_through_250_steps_over_13_pages(server):
    job_id = server.api.add_job(n_steps=250, n_epochs=5, results="base64")
    run = fetch_run(make_client(server), job_id)
    assert paths(server).count(f"/fine_tuning/jobs/{job_id}/events") == 13
    assert run.n_steps == 250 and run.steps.tolist() == list(range(1, 251))
    assert run.meta["missing_steps"] == [] and run.meta["n_events"] == 258
    for step in (1, 17, 130, 250):
        expected = metrics_at(step, 250)
        assert run.metrics.loc[step, "train_loss"] == expected["train_loss"]
        assert run.metrics.loc[step, "train_accuracy"] == expected["train_mean_token_accuracy"]
    assert run.metrics["valid_loss"].notna().sum() == 25  # every 10th step
    # full validation loss only exists in checkpoints and the last metrics event: merged by step
    full = run.metrics["full_valid_loss"].dropna()
    assert full.index.tolist() == [150, 200, 250]
    assert run.meta["checkpoints"] == [150, 200, 250]
    assert run.metrics.loc[250, "epoch"] == 5.0 and run.metrics.loc[50, "epoch"] == 1.0


def test_fetch_run_decodes_a_base64_results_file_and_prefers_it(server):
    job_id = server.api.add_job(n_steps=30, n_epochs=3, results="base64")
    results_id = server.api.jobs[job_id]["job"]["result_files"][0]
    assert not server.api.files[results_id]["data"].startswith(b"step")  # really base64
    run = fetch_run(make_client(server), job_id)
    assert f"/files/{results_id}/content" in paths(server)
    assert run.meta["encoding"] == "base64" and run.n_steps == 30
    meta = run.meta
    assert meta["model"] == "gpt-4o-mini-2024-07-18" and meta["fine_tuned_model"].startswith("ft:")
    assert meta["hyperparameters"] == {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
    assert meta["status"] == "succeeded" and meta["trained_tokens"] == 30_000
    assert meta["finished_at"] > meta["created_at"] and run.name == "marv"


def test_fetch_run_without_a_results_file_reads_the_events(server):
    job_id = server.api.add_job(n_steps=45, n_epochs=3, results=None, validation=False)
    run = fetch_run(make_client(server), job_id)
    assert run.n_steps == 45 and not run.has_validation


def test_fetch_run_of_failed_and_cancelled_jobs(server):
    failed = fetch_run(make_client(server), server.api.add_job(outcome="failed"))
    assert failed.n_steps == 0 and failed.meta["status"] == "failed"
    assert "invalid training file" in failed.meta["error"]["message"]
    cancelled = fetch_run(make_client(server), server.api.add_job(n_steps=250, outcome="cancelled"))
    assert cancelled.meta["status"] == "cancelled" and cancelled.n_steps == 100
    assert "fine_tuned_model" not in cancelled.meta


def test_fetch_run_result_works_with_the_rest_of_ftlab(server):
    run = fetch_run(make_client(server), server.api.add_job(n_steps=84, n_epochs=3))
    assert run.best_valid() is not None
    assert run.epochs().index.tolist() == [1, 2, 3]


def test_list_jobs_is_a_small_table(server):
    server.api.add_job(suffix="a")
    server.api.add_job(outcome="failed")
    table = list_jobs(make_client(server))
    assert table.columns.tolist()[:4] == ["id", "status", "model", "fine_tuned_model"]
    assert table["status"].tolist() == ["failed", "succeeded"]  # newest first


def test_public_names():
    for name in ("get_client", "start_job", "wait", "fetch_run", "list_jobs", "evaluate_chat",
                 "chat_model", "compare_chat"):
        assert callable(getattr(ftlab, name)), name
    assert require_client("x", "do it") == "x"


# ----------------------------------------------------------------------------- command line


def test_cli_jobs_and_fetch(server, monkeypatch, capsys, tmp_path):
    from ftlab.cli import main

    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["jobs"]) == 2 and "no API key found" in capsys.readouterr().err
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")  # the openai client reads it
    job_id = server.api.add_job(n_steps=30, n_epochs=3)
    assert main(["jobs"]) == 0 and job_id in capsys.readouterr().out
    out_file = tmp_path / "marv_run.csv"
    assert main(["fetch", job_id, "--save", str(out_file)]) == 0
    assert "30 steps" in capsys.readouterr().out
    assert ftlab.load_run(out_file).n_steps == 30
    assert main(["fetch", job_id, "--save", str(out_file)]) == 1  # never overwrites silently
    assert "overwrite" in capsys.readouterr().err
    assert main(["fetch", "ftjob-missing"]) == 1 and "Not found" in capsys.readouterr().err


def test_an_azure_plan_with_auto_epochs_says_it_cannot_estimate():
    plan = plan_job(MARV("train"), MARV("valid"), model="gpt-4o-mini-2024-07-18", n_epochs="auto",
                    batch_size="auto", learning_rate_multiplier="auto", provider="azure")
    assert isinstance(plan.estimate, str) and "Azure OpenAI chooses its own" in plan.estimate
    set_epochs = plan_job(MARV("train"), MARV("valid"), model="gpt-4o-mini-2024-07-18", n_epochs=2,
                          batch_size="auto", learning_rate_multiplier="auto", provider="azure")
    assert set_epochs.estimate.n_epochs == 2
