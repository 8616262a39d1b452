"""ChatParaphraser against a mock transport: the real openai client, no network, cached re-runs."""

import json

import pytest
from openai import OpenAI

try:  # openai 3.x talks through httpx2; openai 1.x (Colab's) through httpx: both have MockTransport
    import httpx2
except ImportError:
    import httpx as httpx2

from ftlab.augment.chat import augment_chat
from ftlab.augment.llm import ChatParaphraser, parse_paraphrases
from ftlab.chat.tokens import count_tokens


class FakeChat:
    """Answers /chat/completions like the API does, and records every request it receives."""

    def __init__(self, reply=None):
        self.requests = []
        self.reply = reply or (lambda text: json.dumps([f"Please explain: {text}", f"{text} (asking again)",
                                                         f"Quick one: {text}"]))

    def __call__(self, request):
        body = json.loads(request.content)
        self.requests.append({"url": str(request.url), "body": body,
                              "auth": request.headers.get("authorization")})
        text = body["messages"][-1]["content"]
        return httpx2.Response(200, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_780_000_000,
            "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": self.reply(text)}}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 30, "total_tokens": 70}})


def client_for(fake, base_url="http://127.0.0.1:9/v1"):
    return OpenAI(api_key="sk-test", base_url=base_url,
                  http_client=httpx2.Client(transport=httpx2.MockTransport(fake)))


RECORDS = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
           for q, a in [("Why is the sky blue?", "Rayleigh scattering."),
                        ("What is GDP?", "Gross domestic product."),
                        ("Why is the sky blue?", "Because of scattering, obviously.")]]


def test_paraphrases_come_from_the_model_and_are_cached_on_disk(tmp_path):
    fake = FakeChat()
    cache = tmp_path / "cache.jsonl"
    p = ChatParaphraser("gpt-4o-mini", client=client_for(fake), cache=cache, n=3)
    out = p.paraphrases("Why is the sky blue?")
    assert out[0] == "Please explain: Why is the sky blue?" and len(out) == 3
    assert fake.requests[0]["url"].endswith("/v1/chat/completions")
    assert fake.requests[0]["body"]["model"] == "gpt-4o-mini"
    assert "3 different paraphrases" in fake.requests[0]["body"]["messages"][0]["content"]
    assert p.paraphrases("Why is the sky blue?") == out and len(fake.requests) == 1
    # a new paraphraser (a re-run of the notebook) reads the cache and sends nothing
    again_fake = FakeChat()
    again = ChatParaphraser("gpt-4o-mini", client=client_for(again_fake), cache=cache, n=3)
    assert again.paraphrases("Why is the sky blue?") == out
    assert again_fake.requests == [] and again.sent == 0
    # another model or n is another request
    other = ChatParaphraser("gpt-4.1-mini", client=client_for(again_fake), cache=cache, n=3)
    other.paraphrases("Why is the sky blue?")
    assert len(again_fake.requests) == 1


def test_augment_chat_uses_the_model_for_paraphrase_and_reruns_are_free(tmp_path):
    fake = FakeChat()
    cache = tmp_path / "c.jsonl"
    p = ChatParaphraser("local-model", client=client_for(fake, "http://127.0.0.1:9/v1"), cache=cache)
    first = augment_chat(RECORDS, ["paraphrase"], n_per_example=2, seed=0, paraphraser=p)
    assert len(fake.requests) == 2  # two distinct questions
    assert len(first.variants) == 6
    for row in first.provenance.itertuples():
        source, variant = RECORDS[row.source_index], first.records[row.index]
        assert variant["messages"][0]["content"] in p.paraphrases(source["messages"][0]["content"])
        assert variant["messages"][1] == source["messages"][1]
    fake2 = FakeChat()
    p2 = ChatParaphraser("local-model", client=client_for(fake2), cache=cache)
    second = augment_chat(RECORDS, ["paraphrase"], n_per_example=2, seed=0, paraphraser=p2)
    assert second.records == first.records and fake2.requests == []
    assert "paraphrases from" in second.lexicon


def test_dry_run_shows_prompts_and_token_counts_without_sending(tmp_path):
    fake = FakeChat()
    p = ChatParaphraser("gpt-4o-mini", client=client_for(fake), cache=tmp_path / "c.jsonl", n=2)
    p.paraphrases("What is GDP?")
    plan = p.dry_run(RECORDS)
    assert list(plan.text) == ["Why is the sky blue?", "What is GDP?"]  # distinct texts, in order
    assert list(plan.cached) == [False, True] and plan.attrs["to_send"] == 1
    expected = count_tokens(p.messages("Why is the sky blue?"), model="gpt-4o-mini")
    assert plan.prompt_tokens[0] == expected
    assert plan.est_reply_tokens[0] == 2 * (count_tokens("Why is the sky blue?") + 3) + 2
    assert len(fake.requests) == 1  # only the explicit call above


def test_missing_key_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    p = ChatParaphraser("gpt-4o-mini", cache=None)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        p.paraphrases("Hello there?")


def test_api_errors_surface_and_are_not_cached(tmp_path):
    calls = []

    def failing(request):
        calls.append(1)
        return httpx2.Response(401, json={"error": {"message": "Incorrect API key provided",
                                                    "type": "invalid_request_error", "code": "invalid_api_key"}})

    client = OpenAI(api_key="sk-bad", base_url="http://127.0.0.1:9/v1", max_retries=0,
                    http_client=httpx2.Client(transport=httpx2.MockTransport(failing)))
    p = ChatParaphraser("gpt-4o-mini", client=client, cache=tmp_path / "c.jsonl")
    with pytest.raises(Exception, match="Incorrect API key"):
        p.paraphrases("Why?")
    assert not (tmp_path / "c.jsonl").exists() and p.cache == {}


def test_parse_paraphrases_accepts_lists_fences_and_numbered_lines():
    assert parse_paraphrases('```json\n["One?", "Two?"]\n```', "X") == ["One?", "Two?"]
    assert parse_paraphrases("- One?\n- Two?\n\n3. Three?", "Two?") == ["One?", "Three?"]
    assert parse_paraphrases("", "X") == []
