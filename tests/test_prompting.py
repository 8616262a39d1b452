"""few_shot_prompt and prompt_baseline: balanced, seeded examples as prior turns; a baseline
with no training for a function, the tiny models (with their context checked) and a hosted model."""

import math
from collections import Counter
from pathlib import Path

import pytest

from ftlab.chat.files import read_chat_jsonl
from ftlab.hosted.prompting import few_shot_prompt, prompt_baseline, with_prompt

DATA = Path(__file__).resolve().parent.parent / "data" / "chat"


@pytest.fixture(scope="module")
def tickets():
    return (list(read_chat_jsonl(DATA / "tickets_train.jsonl")),
            list(read_chat_jsonl(DATA / "tickets_test.jsonl"))[:8])


def pairs(messages):
    """(user, label) of each few-shot example in a prompt."""
    turns = [m for m in messages if m["role"] != "system"]
    return list(zip([m["content"] for m in turns[::2]], [m["content"] for m in turns[1::2]]))


# ----------------------------------------------------------------------------- the prompt


def test_examples_are_balanced_prior_turns_from_the_training_data(tickets):
    train, _ = tickets
    prompt = few_shot_prompt(train, 8, seed=0)
    assert prompt[0] == train[0]["messages"][0]  # "auto": the data's own system message
    assert [m["role"] for m in prompt[1:]] == ["user", "assistant"] * 8
    examples = pairs(prompt)
    assert Counter(label for _, label in examples) == {"billing": 2, "technical": 2,
                                                       "account": 2, "shipping": 2}
    known = {(r["messages"][1]["content"], r["messages"][2]["content"]) for r in train}
    assert set(examples) <= known and len(set(examples)) == 8  # drawn without replacement


def test_a_remainder_goes_to_labels_drawn_by_the_seed(tickets):
    train, _ = tickets
    counts = Counter(label for _, label in pairs(few_shot_prompt(train, 6, seed=0)))
    assert sum(counts.values()) == 6 and sorted(counts.values()) == [1, 1, 2, 2]


def test_seeded_shuffled_and_reproducible(tickets):
    train, _ = tickets
    assert few_shot_prompt(train, 4, seed=5) == few_shot_prompt(train, 4, seed=5)
    draws = [tuple(pairs(few_shot_prompt(train, 4, seed=s))) for s in range(6)]
    assert len(set(draws)) == 6
    orders = {tuple(label for _, label in d) for d in draws}
    assert len(orders) > 1  # the label order is not fixed: it would hint at an answer


def test_instruction_choices(tickets):
    train, _ = tickets
    assert few_shot_prompt(train, 0) == [train[0]["messages"][0]]
    assert few_shot_prompt(train, 0, instruction=None) == []
    assert few_shot_prompt(train, 0, instruction="Label it.") == [
        {"role": "system", "content": "Label it."}]
    bare = [{"messages": r["messages"][1:]} for r in train]  # no system message anywhere
    assert few_shot_prompt(bare, 0)[0]["content"] == (
        "Reply with exactly one label: account, billing, shipping or technical.")


@pytest.mark.parametrize("k, match", [(-1, "whole number"), (1.5, "whole number"),
                                      (200, "needs 50 examples labelled")])
def test_impossible_k_is_refused(tickets, k, match):
    with pytest.raises(ValueError, match=match):
        few_shot_prompt(tickets[0], k)


def test_with_prompt_replaces_the_system_message(tickets):
    train, test = tickets
    prefix = few_shot_prompt(train, 4, instruction="Label it.")
    record = with_prompt(prefix, test[:1])[0]
    assert record["messages"][:9] == prefix and record["messages"][9:] == test[0]["messages"][1:]


# ----------------------------------------------------------------------------- the baseline


def test_a_function_baseline_over_k_and_draws(tickets):
    train, test = tickets
    asked = []

    def copy_last_example(messages):  # answers the label of the example just before the question
        asked.append(messages)
        return messages[-2]["content"] if messages[-2]["role"] == "assistant" else "no idea"

    pb = prompt_baseline(copy_last_example, train, test, k=(0, 4), seeds=range(3), progress=False)
    t = pb.table
    assert t[["k", "seed"]].values.tolist() == [[0, 0], [0, 1], [0, 2], [4, 0], [4, 1], [4, 2]]
    assert len(asked) == len(test) * (1 + 3)  # k=0 is the same prompt for every seed: asked once
    assert t.accuracy[:3].tolist() == [0.0] * 3
    assert all(m[-1] == test[i]["messages"][1] for i, m in enumerate(asked[:len(test)]))
    s = pb.summary()
    assert s.index.tolist() == [0, 4] and s.loc[4, "draws"] == 3
    assert s.loc[4, "accuracy"] == pytest.approx(t.accuracy[3:].mean())
    assert s.loc[0, "low"] == 0.0 < s.loc[0, "high"]  # never a zero-width interval
    assert s.loc[4, "chance"] == 0.25 and s.loc[0, "fits_context"] is None
    assert math.isnan(t.prompt_tokens[0]) and pb.notes == []
    assert repr(pb).splitlines()[0] == "prompt baseline (no training)"
    assert pb.results[(4, 1)].n == len(test)


def test_the_mlp_is_told_that_its_context_is_too_short(tickets):
    from ftlab.tinylm.model import load_pretrained

    train, test = tickets
    pb = prompt_baseline(load_pretrained("tinylm-char-v1"), train, test[:3], k=(0, 4), seeds=[0], max_tokens=4,
                         progress=False)
    assert pb.table.over_context.tolist() == [3, 3] and pb.table.context_size.tolist() == [16, 16]
    assert pb.summary().fits_context.tolist() == [False, False]
    assert len(pb.notes) == 2 and "longer than the model's context" in pb.notes[0]
    assert "reads only the last 16 tokens" in repr(pb)


def test_a_long_context_model_fits_zero_shot_but_not_many_examples(tickets):
    from ftlab.tinylm.transformer import TinyTransformer, TransformerConfig

    train, test = tickets
    model = TinyTransformer(TransformerConfig(context_size=512, width=16, n_layers=1, n_heads=2))
    pb = prompt_baseline(model, train, test[:2], k=(0, 8), seeds=[0], max_tokens=3, progress=False)
    t = pb.table.set_index("k")
    assert t.loc[0, "over_context"] == 0 and t.loc[0, "prompt_tokens"] < 512
    assert t.loc[8, "over_context"] == 2 and t.loc[8, "prompt_tokens"] > 512
    assert pb.summary().fits_context.tolist() == [True, False]
    assert len(pb.notes) == 1 and pb.notes[0].startswith("k=8:")


def test_a_hosted_chat_model_offline_against_the_fake_server(tickets):
    openai = pytest.importorskip("openai")  # skipped cleanly where the client is not installed
    from fake_openai import FakeServer

    from ftlab.hosted.evaluate import _CACHE, chat_model

    train, test = tickets
    truth = {r["messages"][1]["content"]: r["messages"][2]["content"] for r in test}
    sent = []

    def reply(model, messages):  # right once it has seen an example, "billing" when asked cold
        sent.append(messages)
        return (truth[messages[-1]["content"]].title() + "." if len(messages) > 2 else "billing",
                None)

    _CACHE.clear()
    with FakeServer() as server:
        server.api.chat_reply = reply
        client = openai.OpenAI(api_key="test-key-0000", base_url=server.url + "/v1",
                               max_retries=0)
        pb = prompt_baseline(chat_model(client, "gpt-4o-mini"), train, test, k=(0, 4),
                             seeds=range(2), progress=False)
    s = pb.summary()
    billing = sum(v == "billing" for v in truth.values()) / len(test)
    assert s.loc[0, "accuracy"] == billing and s.loc[4, "accuracy"] == 1.0
    assert len(sent) == len(test) * 3  # k=0 once, k=4 for each of two draws
    assert len(sent[-1]) == 1 + 2 * 4 + 1 and sent[-1][0]["role"] == "system"
    assert pb.results[(0, 0)].name == "gpt-4o-mini" and pb.notes == []
