"""No API key in any notebook or in anything the hosted workflow prints, with planted keys proving
that the scan (ftlab.hosted.client.find_keys) would catch one."""

import json
import traceback
from pathlib import Path

import nbformat
import pytest

from ftlab.hosted.client import HostedError, find_keys, get_client

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Built at run time so that no key-shaped literal sits in this file. Realistic shapes: an OpenAI
# project key and an Azure key (32 hex characters).
PLANTED = "sk-proj-" + "Q7xR2mKp9LwZ4vNc" * 3
PLANTED_AZURE = "9f3b" * 8


def scan_notebook(path):
    """Key-like strings anywhere in a notebook file: sources, outputs, metadata."""
    return find_keys(Path(path).read_text(encoding="utf-8"), secrets=[PLANTED, PLANTED_AZURE])


def _notebook_with(text):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("client = ftlab.get_client()")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nb.cells.append(cell)
    return nb


@pytest.mark.parametrize("leak", [PLANTED, PLANTED_AZURE, "OPENAI_API_KEY=" + PLANTED[:30]])
def test_the_scan_finds_a_planted_key_in_a_notebook(tmp_path, leak):
    path = tmp_path / "leaky.ipynb"
    nbformat.write(_notebook_with(f"Client ready with {leak}\n"), path)
    found = scan_notebook(path)
    assert found, "the scan missed a planted key"
    assert all(PLANTED not in shown and PLANTED_AZURE not in shown for _, shown in found)
    clean = tmp_path / "clean.ipynb"
    nbformat.write(_notebook_with("Client ready: OpenAI, key from environment\n"), clean)
    assert scan_notebook(clean) == []


def test_the_scan_finds_the_value_of_a_set_key_variable_whatever_its_shape(monkeypatch):
    odd = "my-very-own-" + "company-key-42"
    monkeypatch.setenv("OPENAI_API_KEY", odd)
    assert find_keys(f"printed {odd} by mistake") and not find_keys("printed nothing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_notebook_holds_a_key(path):
    assert scan_notebook(path) == [], f"{path.name} holds a key-like string"


def test_nothing_the_workflow_prints_or_raises_holds_the_key(monkeypatch, capfd):
    """Run every hosted step with a realistic planted key, including a 401 whose server message
    quotes the key in full, and scan all captured output, reprs and tracebacks."""
    pytest.importorskip("openai")
    from fake_openai import FakeServer

    import ftlab
    from ftlab.hosted.jobs import _marv

    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    shown = []
    with FakeServer() as server:
        api = server.api
        api.chat_reply = lambda model, messages: ("Sure.", [-0.5])
        client = get_client(base_url=server.url + "/v1", max_retries=0)
        assert client is not None and client.api_key == PLANTED  # the key is in the client only
        shown += [repr(client), str(client)]
        job_id = ftlab.start_job(client, _marv("train"), _marv("valid"), model="gpt-4o-mini-2024-07-18",
                                 n_epochs=3, batch_size=1, learning_rate_multiplier=1.8, suffix="marv",
                                 seed=7, confirm=False)
        job = ftlab.wait(client, job_id, poll=0, timeout=30)
        run = ftlab.fetch_run(client, job_id)
        shown += [repr(job), repr(run), json.dumps(run.meta), run.to_text(),
                  ftlab.list_jobs(client).to_string()]
        model = ftlab.chat_model(client, job.fine_tuned_model, logprobs=True)
        evaluation = ftlab.evaluate_chat(model, _marv("valid"), progress=False)
        shown += [repr(model), repr(evaluation), evaluation.table.to_string()]
        api.fail("GET", "/fine_tuning/jobs", 401, f"Incorrect API key provided: {PLANTED}.",
                 code="invalid_api_key")
        with pytest.raises(HostedError) as err:
            ftlab.list_jobs(client)
        shown += ["".join(traceback.format_exception(err.value)), repr(err.value)]
        raw_401 = json.dumps(api.failures[0][3])
    out, errors = capfd.readouterr()
    assert find_keys(raw_401), "control: the server's own 401 body holds the key, the scan sees it"
    everything = "\n".join([out, errors, *shown])
    assert "Client ready: OpenAI, key from environment" in out
    assert find_keys(everything) == [], "a key leaked into printed output, a repr or a traceback"
