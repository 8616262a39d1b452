"""evaluate_chat, chat_model and compare_chat: scores, logprobs, cache, parallelism, endpoints."""

import math
import threading
import time

import pytest

openai = pytest.importorskip("openai")

from fake_openai import FakeServer  # noqa: E402

from ftlab.hosted.jobs import _marv  # noqa: E402
from ftlab.hosted.client import HostedError, find_client  # noqa: E402
from ftlab.hosted.evaluate import (_CACHE, chat_model, compare_chat, evaluate_chat, f1_score,  # noqa: E402
                                   normalize)

KEY = "test-key-0000"


def chat(question, answer, system=None):
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": messages + [{"role": "user", "content": question},
                                    {"role": "assistant", "content": answer}]}


RECORDS = [chat("Capital of France?", "Paris"), chat("2+2?", "Four."),
           chat("Colour of the sky?", "The sky is blue.")]
ANSWERS = {"Capital of France?": "Paris", "2+2?": "four", "Colour of the sky?": "Blue, mostly."}


@pytest.fixture
def server():
    _CACHE.clear()
    with FakeServer() as srv:
        yield srv


def test_scores_by_hand():
    ev = evaluate_chat(lambda m: ANSWERS[m[-1]["content"]], RECORDS, progress=False)
    t = ev.table
    assert t["exact"].tolist() == [1.0, 0.0, 0.0]
    assert t["normalized"].tolist() == [1.0, 1.0, 0.0]  # "Four." == "four" after normalizing
    # "blue mostly" vs "sky is blue": 1 common word, precision 1/2, recall 1/3 -> F1 = 0.4
    assert t["f1"].tolist() == pytest.approx([1.0, 1.0, 0.4])
    assert ev.summary == pytest.approx({"n": 3, "exact": 1 / 3, "normalized": 2 / 3, "f1": 0.8})
    assert t["prompt"].tolist() == [r["messages"][-2]["content"] for r in RECORDS]
    assert "surprisal" not in t  # a plain function reports no log-probabilities


def test_normalize_and_f1_edge_cases():
    assert normalize("Ça, c'est «l'été»!") == "ça c est l été"
    assert f1_score("", "") == 1.0 and f1_score("x", "") == 0.0 and f1_score("a", "the") == 1.0
    assert f1_score("red green", "blue") == 0.0


def test_prompt_is_the_chat_before_the_last_assistant_turn():
    seen = []
    record = {"messages": [{"role": "system", "content": "Be Marv."}, {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Oh. You."},
                           {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Finally."}]}
    evaluate_chat(lambda m: seen.append(m) or "Finally.", [record], progress=False)
    assert seen == [record["messages"][:4]]


def test_reads_a_jsonl_path_and_names_the_bad_line(tmp_path):
    ev = evaluate_chat(lambda m: "x", _marv("valid"), progress=False)
    assert ev.summary["n"] == 32
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
                   '{"messages": [{"role": "user", "content": "no reply"}]}\n')
    with pytest.raises(ValueError, match="line 2: no assistant message"):
        evaluate_chat(lambda m: "x", bad, progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_chat(lambda m: "x", RECORDS, metrics=("bleu",))


def test_parallel_requests_are_bounded_and_results_stay_in_order():
    active, peak, lock = [0], [0], threading.Lock()

    def slow(messages):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return messages[-1]["content"]

    records = [chat(f"q{i}", f"q{i}") for i in range(24)]
    ev = evaluate_chat(slow, records, workers=3, progress=False)
    assert 1 < peak[0] <= 3
    assert ev.table["output"].tolist() == [f"q{i}" for i in range(24)] and ev.summary["exact"] == 1.0


def _replies(model, messages):
    """Base model hedges; the fine-tuned one answers. Log-probs: the fine-tuned one is surer."""
    question = messages[-1]["content"]
    if model.startswith("ft:"):
        return ANSWERS[question], [-0.1, -0.3]
    return "I am not sure.", [-1.0, -2.0, -0.5, -0.5]


def test_chat_model_logprobs_give_surprisal_and_perplexity(server):
    server.api.chat_reply = _replies
    client = openai.OpenAI(api_key=KEY, base_url=server.url + "/v1", max_retries=0)
    ev = evaluate_chat(chat_model(client, "gpt-4o-mini-2024-07-18", logprobs=True), RECORDS,
                       progress=False)
    assert ev.table["n_tokens"].tolist() == [4, 4, 4]
    assert ev.table["surprisal"].tolist() == pytest.approx([1.0] * 3)  # (1 + 2 + .5 + .5) / 4
    assert ev.summary["perplexity"] == pytest.approx(math.e)
    request = server.api.requests[-1]
    assert request["path"] == "/chat/completions"


def test_cache_makes_reruns_free_and_keys_on_params(server):
    server.api.chat_reply = _replies
    client = openai.OpenAI(api_key=KEY, base_url=server.url + "/v1", max_retries=0)
    model = chat_model(client, "ft:gpt-4o-mini-2024-07-18:org:marv:1")
    evaluate_chat(model, RECORDS, progress=False)
    first = len(server.api.requests)
    again = chat_model(client, "ft:gpt-4o-mini-2024-07-18:org:marv:1")  # a new object, same params
    evaluate_chat(again, RECORDS, progress=False)
    assert len(server.api.requests) == first == 3 and again.hits == 3 and again.calls == 0
    warmer = chat_model(client, "ft:gpt-4o-mini-2024-07-18:org:marv:1", temperature=0.7)
    evaluate_chat(warmer, RECORDS, progress=False)
    assert len(server.api.requests) == 6 and warmer.calls == 3
    assert KEY not in repr(warmer)


def test_compare_base_and_fine_tuned(server):
    server.api.chat_reply = _replies
    client = openai.OpenAI(api_key=KEY, base_url=server.url + "/v1", max_retries=0)
    cmp = compare_chat({"base": chat_model(client, "gpt-4o-mini-2024-07-18", logprobs=True),
                        "fine-tuned": chat_model(client, "ft:gpt-4o-mini-2024-07-18:org:marv:1",
                                                 logprobs=True)}, RECORDS, progress=False)
    assert cmp.summary.index.tolist() == ["base", "fine-tuned"]
    assert cmp.summary.loc["fine-tuned", "f1"] == pytest.approx(0.8)
    assert cmp.summary.loc["base", "f1"] == 0.0
    assert cmp.summary.loc["fine-tuned", "surprisal"] == pytest.approx(0.2)
    assert "base: output" in cmp.table and "fine-tuned: f1" in cmp.table
    with pytest.raises(ValueError, match="dict of name"):
        compare_chat([], RECORDS)


def test_azure_chat_goes_to_the_deployment(server):
    server.api.chat_reply = _replies
    env = {"AZURE_OPENAI_API_KEY": KEY, "AZURE_OPENAI_ENDPOINT": server.url}
    client, _ = find_client("azure", environ=env, colab=False, ask=False, max_retries=0)
    ev = evaluate_chat(chat_model(client, "ft:marv-deployment"), RECORDS[:1], progress=False)
    assert ev.table["output"].tolist() == ["Paris"]
    assert server.api.requests[-1]["headers"]["api-key"] == KEY
    assert "api-version" in server.api.requests[-1]["query"]


def test_endpoint_errors_reach_the_user_as_friendly_errors(server):
    server.api.fail("POST", "/chat/completions", 404, "The model `ft:nope` does not exist",
                    code="model_not_found")
    client = openai.OpenAI(api_key=KEY, base_url=server.url + "/v1", max_retries=0)
    with pytest.raises(HostedError) as err:
        evaluate_chat(chat_model(client, "ft:nope"), RECORDS[:1], progress=False)
    assert err.value.kind == "not_found" and "ft:nope" in str(err.value)


def test_tiny_model_is_a_generate_with_surprisal():
    tinylm = pytest.importorskip("ftlab.tinylm.model")
    model = tinylm.TinyLM(tinylm.Config(context_size=4, embedding_size=8, hidden_size=16), seed=0)
    ev = evaluate_chat(model, RECORDS, max_tokens=5, progress=False)
    assert (ev.table["n_tokens"] >= 1).all()
    assert ev.summary["perplexity"] == pytest.approx(math.exp(ev.summary["surprisal"]))
    again = evaluate_chat(model, RECORDS, max_tokens=5, progress=False)
    assert again.table["output"].tolist() == ev.table["output"].tolist()  # greedy: repeatable


def test_a_tiny_model_reply_cut_off_at_max_tokens_is_scored_on_its_own_characters():
    """The surprisal is the mean -log p of the characters the model wrote; an <|end|> it never
    wrote (the reply hit max_tokens) is not counted, one it wrote is."""
    import numpy as np

    from ftlab.tinylm.model import TinyLM, Config
    from ftlab.tinylm.text import END, encode

    model = TinyLM(Config(context_size=4, embedding_size=8, hidden_size=16), seed=0)
    prompt = RECORDS[0]["messages"][:-1]

    def nll(reply_so_far, token):
        z = model.next_token_logits(prompt, reply_so_far=reply_so_far)
        return float(np.logaddexp.reduce(z) - z[token])

    [row] = evaluate_chat(model, RECORDS[:1], max_tokens=5, progress=False).table.to_dict("records")
    text = row["output"]
    assert len(text) == 5 and row["n_tokens"] == 5   # cut off: five characters, no <|end|>
    by_hand = np.mean([nll(text[:i], encode(c)[0]) for i, c in enumerate(text)])
    assert row["surprisal"] == pytest.approx(by_hand, rel=1e-5)

    model.generate = lambda messages, **kw: ({"text": "ab", "finish_reason": "stop", "n_tokens": 3}
                                             if kw.get("details") else "ab")
    [row] = evaluate_chat(model, RECORDS[:1], max_tokens=5, progress=False).table.to_dict("records")
    both = [nll("", encode("a")[0]), nll("a", encode("b")[0]), nll("ab", END)]
    assert row["n_tokens"] == 3 and row["surprisal"] == pytest.approx(np.mean(both), rel=1e-5)


def test_cost_explorer_moves_with_epochs_and_model():
    pytest.importorskip("ipywidgets")
    from ftlab.chat.validate import validate_chat
    from ftlab.widgets.hosted import cost_explorer
    from ftlab.chat.tokens import TRAINING_PRICE_PER_1M

    report = validate_chat(_marv("train"), model="gpt-4o-mini-2024-07-18")
    explorer = cost_explorer(report, n_epochs=3)
    assert explorer.result["billed_tokens"] == 3 * report.n_tokens
    explorer.controls["n_epochs"].value = 5
    assert explorer.result["billed_tokens"] == 5 * report.n_tokens
    assert f"{5 * report.n_tokens:,}" in explorer.readout.value
    heights = [bar.get_height() for bar in explorer.figure.axes[0].patches]
    assert heights == pytest.approx(explorer.result["costs"]) and heights[4] == pytest.approx(5 * heights[0])
    cheap = explorer.result["cost_usd"]
    explorer.controls["model"].value = "gpt-4o-2024-08-06"
    ratio = TRAINING_PRICE_PER_1M["gpt-4o-2024-08-06"] / TRAINING_PRICE_PER_1M["gpt-4o-mini-2024-07-18"]
    assert explorer.result["cost_usd"] == pytest.approx(cheap * ratio)
