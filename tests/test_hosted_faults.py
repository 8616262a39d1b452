"""Hardening of the hosted workflow against a server that misbehaves (tests/fault_server.py):
paging that never ends, slow answers, HTML or cut-off bodies with status 200, errors that quote the
key, resets. Every wait ends, every error says what to do, no key is ever shown.

Clients use ``max_retries=0`` (or 1) and short timeouts, so the file runs in seconds.
"""

import random
import string
import time
import traceback

import pytest

openai = pytest.importorskip("openai")

from fault_server import FaultServer  # noqa: E402

from ftlab._secrets import known_secrets  # noqa: E402
from ftlab.augment.llm import ChatParaphraser, ParaphraseError  # noqa: E402
from ftlab.hosted.client import HostedError, find_keys  # noqa: E402
from ftlab.hosted.fetch import (MAX_PAGES, OutOfTime, PagingError, _bounded, all_events,  # noqa: E402
                                fetch_run, list_jobs)
from ftlab.hosted.jobs import wait  # noqa: E402

KEY = "test-key-0000"


def _planted(seed, prefix, alphabet, length):
    """A realistic key built at run time, so that no key literal sits in this file."""
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


PROJECT_KEY = _planted(1, "sk-proj-", string.ascii_letters + string.digits + "_-", 48)
LEGACY_KEY = _planted(2, "sk-", string.ascii_letters + string.digits, 48)
AZURE_KEY = _planted(3, "", "0123456789abcdef", 32)
PLANTED = [PROJECT_KEY, LEGACY_KEY, AZURE_KEY]


@pytest.fixture
def server():
    with FaultServer(lifetime=30) as srv:
        yield srv


def client_for(server, key=KEY, retries=0, timeout=5.0):
    return openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=retries,
                         timeout=timeout)


def count(server, path):
    return sum(r["path"] == path for r in server.api.requests)


def no_key_in(*texts):
    return find_keys("\n".join(texts), secrets=PLANTED) == []


# ----------------------------------------------------------------------------- 1. paging ends


@pytest.mark.parametrize("kind", ["cycle", "repeat"])
def test_fetch_run_stops_when_event_pages_loop_and_keeps_what_it_read(server, kind):
    job_id = server.api.add_job(n_steps=30, n_epochs=3)  # 38 events: 2 real pages
    server.api.inject(f"/fine_tuning/jobs/{job_id}/events", kind)
    with pytest.warns(UserWarning, match="paging loops"):
        run = fetch_run(client_for(server), job_id)
    assert count(server, f"/fine_tuning/jobs/{job_id}/events") == (3 if kind == "cycle" else 2)
    assert run.n_steps == 30  # the results file still gives every step
    assert any("paging loops" in note for note in run.meta["notes"])
    assert run.meta["n_events"] == (38 if kind == "cycle" else 20)  # each event once


def test_all_events_raises_a_paging_error_holding_the_events_read(server):
    job_id = server.api.add_job(n_steps=30, results=None)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/events", "repeat")
    with pytest.raises(PagingError, match="already read") as err:
        all_events(client_for(server), job_id)
    assert err.value.kind == "paging" and len(err.value.items) == 20


def test_paging_has_a_page_budget(server):
    job_id = server.api.add_job(n_steps=250, n_epochs=5)
    with pytest.raises(PagingError, match="page budget") as err:
        all_events(client_for(server), job_id, max_pages=2)
    assert len(err.value.items) == 40 and MAX_PAGES >= 1000


def test_fetch_run_stops_when_checkpoint_pages_loop(server):
    job_id = server.api.add_job(n_steps=30)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/checkpoints", "repeat")
    with pytest.warns(UserWarning, match="checkpoints"):
        run = fetch_run(client_for(server), job_id)
    assert run.meta["n_checkpoints"] == 3 and run.n_steps == 30


def test_wait_ends_when_event_pages_repeat(server, capsys):
    job_id = server.api.add_job(n_steps=30, events_per_poll=10)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/events", "repeat")
    start = time.monotonic()
    job = wait(client_for(server), job_id, poll=0, timeout=10, progress=False)
    assert job.status == "succeeded" and time.monotonic() - start < 5


# ----------------------------------------------------------------------------- 2. deadlines


def test_each_request_of_a_deadline_gets_the_time_left_and_no_retries(server):
    client = client_for(server, retries=3, timeout=600)
    bounded = _bounded(client, time.monotonic() + 2)
    assert bounded.timeout <= 2 and bounded.max_retries == 0
    with pytest.raises(OutOfTime):
        _bounded(client, time.monotonic() - 1)


def test_wait_on_a_slow_server_ends_at_its_deadline(server):
    job_id = server.api.add_job(n_steps=30, events_per_poll=5)
    server.api.inject(f"/fine_tuning/jobs/{job_id}", "slow", seconds=4)
    start = time.monotonic()
    with pytest.raises(HostedError, match="Stopped waiting after 0.5 s") as err:
        wait(client_for(server, retries=2, timeout=600), job_id, poll=0.05, timeout=0.5)
    assert err.value.kind == "timeout" and time.monotonic() - start < 2


def test_wait_checks_its_deadline_inside_the_page_loop(server, capsys):
    job_id = server.api.add_job(n_steps=30, events_per_poll=5)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/events", "slow", seconds=4)
    start = time.monotonic()
    job = wait(client_for(server, retries=2, timeout=600), job_id, poll=0.05, timeout=0.6)
    assert time.monotonic() - start < 2
    assert job.status != "succeeded" and "Stopped waiting after 0.6 s" in capsys.readouterr().out


def test_wait_tries_a_passing_failure_again_at_the_next_poll(server, capsys):
    job_id = server.api.add_job(n_steps=30, events_per_poll=20)
    server.api.inject(f"/fine_tuning/jobs/{job_id}", "status", status=503, times=1)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/events", "html", times=1)
    job = wait(client_for(server), job_id, poll=0, timeout=10, progress=False)
    out = capsys.readouterr().out
    assert job.status == "succeeded" and out.count("trying again at the next poll") == 2


def test_wait_gives_up_on_a_failure_that_persists(server):
    job_id = server.api.add_job(n_steps=30, events_per_poll=20)
    server.api.inject(f"/fine_tuning/jobs/{job_id}", "status", status=500)
    with pytest.raises(HostedError) as err:
        wait(client_for(server), job_id, poll=0, timeout=10, quiet=True)
    assert err.value.kind == "server"


# ----------------------------------------------------------------------------- 3. bad answers


@pytest.mark.parametrize("kind, said", [("html", "text/html, starting '<html>"),
                                        ("truncated", "JSON that breaks off at character")])
@pytest.mark.parametrize("route", ["", "/events"])
def test_an_answer_that_is_not_the_apis_json_is_a_clear_error(server, kind, said, route):
    job_id = server.api.add_job(n_steps=30)
    server.api.inject(f"/fine_tuning/jobs/{job_id}{route}", kind)
    with pytest.raises(HostedError) as err:
        fetch_run(client_for(server), job_id)
    assert err.value.kind == "bad_response"
    assert said in str(err.value) and "base_url" in str(err.value)


def test_list_jobs_with_a_gateway_page(server):
    server.api.inject("/fine_tuning/jobs", "html")
    with pytest.raises(HostedError, match="not the API's JSON"):
        list_jobs(client_for(server))


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_a_chat_reply_that_is_not_the_apis_json_is_a_clear_error(server, kind):
    from ftlab.hosted.evaluate import chat_model

    server.api.inject("/chat/completions", kind, method="POST")
    model = chat_model(client_for(server), "gpt-4o-mini-2024-07-18", cache=False)
    with pytest.raises(HostedError, match="not the API's JSON"):
        model([{"role": "user", "content": "Hi"}])


def test_a_404_on_checkpoints_keeps_the_events(server):
    job_id = server.api.add_job(n_steps=30, results=None)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/checkpoints", "status", status=404)
    run = fetch_run(client_for(server), job_id)
    assert run.n_steps == 30 and run.meta["n_events"] == 38 and run.meta["n_checkpoints"] == 0
    assert any("checkpoints unavailable" in note for note in run.meta["notes"])


def test_an_html_results_file_is_a_note_and_the_events_are_used(server):
    job_id = server.api.add_job(n_steps=30)
    server.api.inject("/files/", "html")
    run = fetch_run(client_for(server), job_id)
    assert run.n_steps == 30 and any("HTML page" in note for note in run.meta["notes"])


def test_a_reset_connection_is_a_network_error(server):
    job_id = server.api.add_job(n_steps=30)
    server.api.inject(f"/fine_tuning/jobs/{job_id}", "reset")
    with pytest.raises(HostedError) as err:
        fetch_run(client_for(server), job_id)
    assert err.value.kind == "network"


def test_a_401_quoting_the_key_never_shows_it(server, capfd):
    shown = []
    for key in PLANTED:
        server.api.inject("/fine_tuning/jobs", "echo_401", times=1)
        with pytest.raises(HostedError) as err:
            list_jobs(client_for(server, key=key))
        assert server.api.requests[-1]["headers"]["authorization"] == f"Bearer {key}"  # control
        shown += [str(err.value), repr(err.value), "".join(traceback.format_exception(err.value))]
        assert err.value.kind == "auth"
    out, errors = capfd.readouterr()
    assert no_key_in(out, errors, *shown)


# ----------------------------------------------------------------------------- 4. paraphraser


def paraphraser(server, key, tmp_path, retries=0):
    return ChatParaphraser("gpt-4o-mini", base_url=server.url + "/v1", api_key=key,
                           cache=tmp_path / "cache.jsonl", max_retries=retries, timeout=2)


@pytest.mark.parametrize("key", PLANTED, ids=["project", "legacy", "azure"])
def test_paraphraser_401_echoing_the_key_is_redacted(server, tmp_path, capfd, key):
    p = paraphraser(server, key, tmp_path)
    assert key in known_secrets()  # remembered, so redact() hides it whatever its shape
    server.api.inject("/chat/completions", "echo_401", method="POST")
    with pytest.raises(ParaphraseError) as err:
        p.paraphrases("Why is the sky blue?")
    assert server.api.requests[-1]["headers"]["authorization"] == f"Bearer {key}"  # control
    text = str(err.value)
    assert err.value.status == 401 and "OPENAI_API_KEY" in text and "***" in text
    assert err.value.__suppress_context__
    out, errors = capfd.readouterr()
    assert no_key_in(out, errors, text, repr(err.value), repr(p),
                     "".join(traceback.format_exception(err.value)))
    assert p.cache == {} and not (tmp_path / "cache.jsonl").exists()


@pytest.mark.parametrize("kind, options, said", [
    ("status", {"status": 429}, "wait a minute"),
    ("status", {"status": 500}, "run again later"),
    ("status", {"status": 503}, "run again later"),
    ("reset", {}, "check base_url and the network"),
    ("slow", {"seconds": 4}, "check base_url and the network"),
    ("html", {}, "not a chat completion"),
    ("truncated", {}, "not a chat completion"),
])
def test_paraphraser_errors_say_what_to_do(server, tmp_path, kind, options, said):
    p = paraphraser(server, PROJECT_KEY, tmp_path)
    server.api.inject("/chat/completions", kind, method="POST", **options)
    start = time.monotonic()
    with pytest.raises(ParaphraseError, match="What to do") as err:
        p.paraphrases("What is GDP?")
    assert said in str(err.value) and time.monotonic() - start < 4
    assert no_key_in(str(err.value), "".join(traceback.format_exception(err.value)))


def test_paraphraser_429_then_success_is_retried(server, tmp_path):
    p = paraphraser(server, LEGACY_KEY, tmp_path, retries=1)
    server.api.inject("/chat/completions", "status", method="POST", status=429, times=1)
    assert p.paraphrases("What is GDP?") == ["Hello."] and p.sent == 1


# ----------------------------------------------------------------------------- 5. command line


@pytest.fixture
def cli_env(server, monkeypatch):
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    return monkeypatch


def _one_line(err):
    lines = err.strip().splitlines()
    return len(lines) == 1 and "Traceback" not in err


def test_cli_usage_errors_exit_2_with_one_line(server, cli_env, capsys):
    from ftlab.cli import main

    assert main(["fetch", "ftjob-abc"]) == 2  # no key
    assert _one_line(capsys.readouterr().err)
    cli_env.setenv("OPENAI_API_KEY", KEY)
    assert main(["fetch", "not a job"]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and "not a job id" in err and "ftlab jobs" in err
    assert main(["jobs", "--limit", "0"]) == 2 and "--limit" in capsys.readouterr().err
    assert server.api.requests == []


@pytest.mark.parametrize("key", PLANTED, ids=["project", "legacy", "azure"])
def test_cli_401_is_one_line_exit_1_without_the_key(server, cli_env, capfd, key):
    from ftlab.cli import main

    cli_env.setenv("OPENAI_API_KEY", key)
    server.api.inject("/fine_tuning/jobs", "echo_401")
    assert main(["jobs"]) == 1
    assert main(["fetch", "ftjob-abc"]) == 1
    out, err = capfd.readouterr()
    assert all(_one_line(line) for line in err.strip().splitlines()) and len(err.splitlines()) == 2
    assert "rejected" in err and no_key_in(out, err)


def test_cli_fetch_failures_and_notes(server, cli_env, capsys, monkeypatch):
    from ftlab.cli import main

    cli_env.setenv("OPENAI_API_KEY", KEY)
    job_id = server.api.add_job(n_steps=30)
    server.api.inject(f"/fine_tuning/jobs/{job_id}/events", "cycle")
    assert main(["fetch", job_id]) == 0  # what was read, and a note on stderr
    out, err = capsys.readouterr()
    assert "30 steps" in out and "note:" in err and "paging loops" in err and "Traceback" not in err
    server.api.inject(f"/fine_tuning/jobs/{job_id}", "html")
    assert main(["fetch", job_id]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "not the API's JSON" in err

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("ftlab.hosted.fetch.fetch_run", interrupted)
    assert main(["fetch", job_id]) == 130 and _one_line(capsys.readouterr().err)


@pytest.mark.parametrize("key", PLANTED, ids=["project", "legacy", "azure"])
def test_cli_augment_paraphrase_against_an_endpoint_that_echoes_the_key(server, cli_env, key,
                                                                      tmp_path):
    """`ftlab augment --ops paraphrase` as a real process: a 401 quoting the key in full is one
    line on stderr, exit 1, no key, and no output file."""
    import os
    import subprocess
    import sys

    source = tmp_path / "train.jsonl"
    source.write_text('{"messages": [{"role": "user", "content": "Why is the sky blue?"}, '
                      '{"role": "assistant", "content": "Rayleigh scattering."}]}\n')
    server.api.inject("/chat/completions", "echo_401", method="POST")
    proc = subprocess.run(
        [sys.executable, "-m", "ftlab.cli", "augment", str(source), "-o", str(tmp_path / "out.jsonl"),
         "--ops", "paraphrase", "--paraphrase-model", "gpt-4o-mini", "--base-url",
         server.url + "/v1", "--cache", str(tmp_path / "cache.jsonl")],
        capture_output=True, text=True, timeout=60, env={**os.environ, "OPENAI_API_KEY": key})
    assert server.api.requests[-1]["headers"]["authorization"] == f"Bearer {key}"  # control
    assert proc.returncode == 1 and _one_line(proc.stderr), proc.stderr
    assert no_key_in(proc.stdout, proc.stderr) and key[-8:] not in proc.stderr
    assert not (tmp_path / "out.jsonl").exists()
