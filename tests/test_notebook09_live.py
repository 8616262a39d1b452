"""Notebook 09 with a key: every API branch runs against the loopback API stand-in, and no output
holds the (planted) key. The stored notebook covers the no-key branches (nbval runs it)."""

from pathlib import Path

import nbformat
import pytest

pytest.importorskip("openai")
nbclient = pytest.importorskip("nbclient")

from fake_openai import FakeServer  # noqa: E402

from ftlab.hosted.client import find_keys  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "09_hosted_finetuning.ipynb"
# Keys of the three shapes a learner may hold, built at run time (no key literal in this file):
# an OpenAI project key, a legacy OpenAI key and an Azure key (32 hex characters).
KEYS = {"openai-project": "sk-proj-" + "Lw4TzP8qYc2NmR6v" * 3, "openai-legacy": "sk-" + "Hq7Ty2Ux" * 6,
        "azure": "4be1" * 8}
# Answer "y" to start_job's question and skip wait's pauses; nothing else in the notebook changes.
PREAMBLE = "import time\nimport ftlab.hosted.jobs\nftlab.hosted.jobs.input = lambda prompt='': 'y'\ntime.sleep = lambda s: None"


@pytest.mark.parametrize("shape", KEYS)
def test_notebook_09_runs_the_live_path_with_a_client(monkeypatch, tmp_path, shape):
    planted = KEYS[shape]
    with FakeServer() as server:
        server.api.chat_reply = lambda model, messages: (
            "Oh, wonderful, another question." if model.startswith("ft:") else "Hello.", [-0.2, -0.4])
        monkeypatch.setenv("OPENAI_API_KEY", planted)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
        nb = nbformat.read(NOTEBOOK, as_version=4)
        nb.cells.insert(2, nbformat.v4.new_code_cell(PREAMBLE))
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        created = [s for s in server.api.jobs.values() if "create_args" in s]
    assert len(created) == 1 and created[0]["create_args"]["suffix"] == "marv"
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Client ready: OpenAI, key from environment" in text
    assert "RECORDING" not in text  # every API cell took its live branch
    assert "succeeded: fine-tuned model ft:gpt-4o-mini-2024-07-18:personal:marv" in text
    assert "Oh, wonderful" in text  # the fine-tuned model's reply in the comparison
    assert find_keys(text, secrets=[planted]) == []
    assert planted[-12:] not in text  # not even a tail of it
