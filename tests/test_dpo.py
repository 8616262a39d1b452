"""Preference tuning (DPO): the loss and its gradient, the preference reader, the loop, the data."""

import json
import math

import numpy as np
import pytest

from ftlab import tinylm
from ftlab._data import data_dir
from ftlab.chat.preference import (check_preference_records, make_preference_example,
                                   preference_pair, read_preference_jsonl)
from ftlab.tinylm import dpo
from ftlab.tinylm.dpo import dpo_finetune, dpo_loss, evaluate_preferences, reply_logprobs
from ftlab.tinylm.model import Config, TinyLM
from ftlab.tinylm.transformer import TinyTransformer, TransformerConfig

CHAT = data_dir() / "chat"
TRAIN, VALID = CHAT / "synonyms_preference_train.jsonl", CHAT / "synonyms_preference_valid.jsonl"


def _pairs():
    """A few pairs, one with an earlier assistant turn in its prompt (context, never scored)."""
    return [
        make_preference_example([{"role": "user", "content": "Same as 'big'?"}], "large", "small"),
        make_preference_example([{"role": "system", "content": "Be brief."},
                                 {"role": "user", "content": "Hi"},
                                 {"role": "assistant", "content": "Yo"},
                                 {"role": "user", "content": "Opposite of 'hot'?"}],
                                "cold", "warm"),
    ]


def _tiny_models():
    return [TinyLM(Config(context_size=3, embedding_size=2, hidden_size=4), seed=1,
                   dtype=np.float64),
            # context 8 < the chats' length: the transformer reads them in windows
            TinyTransformer(TransformerConfig(context_size=8, width=4, n_layers=1, n_heads=2),
                            seed=1, dtype=np.float64)]


# ----------------------------------------------------------------------------- the loss


def test_identical_policy_and_reference_give_log_2_and_no_margin():
    out = dpo_loss([-3.0, -10.0], [-2.0, -1.0], [-3.0, -10.0], [-2.0, -1.0], beta=0.3)
    assert out["loss"] == pytest.approx(math.log(2), abs=1e-15)
    assert out["margin"].tolist() == [0.0, 0.0]
    # at margin 0 each pair pulls with σ(0)·β / n = 0.5 · 0.3 / 2
    assert out["grad_chosen"].tolist() == pytest.approx([-0.075, -0.075])
    assert out["grad_rejected"].tolist() == pytest.approx([0.075, 0.075])


def test_hand_computed_pair():
    # chosen up 1 nat, rejected down 1 nat, β = 0.5: rewards ±0.5, margin 1
    out = dpo_loss([-2.0], [-5.0], [-3.0], [-4.0], beta=0.5)
    assert out["chosen_reward"].tolist() == [0.5] and out["rejected_reward"].tolist() == [-0.5]
    assert out["loss"] == pytest.approx(-math.log(1 / (1 + math.exp(-1.0))), rel=1e-14)
    assert out["loss"] == pytest.approx(0.31326168751822286, rel=1e-14)
    sigma_minus = 1 / (1 + math.e)  # σ(−1)
    assert out["grad_chosen"][0] == pytest.approx(-0.5 * sigma_minus, rel=1e-14)
    assert out["grad_rejected"][0] == pytest.approx(0.5 * sigma_minus, rel=1e-14)


def test_loss_is_finite_far_from_zero():
    out = dpo_loss([0.0, -5000.0], [-5000.0, 0.0], [0.0, 0.0], [0.0, 0.0], beta=1.0)
    assert out["losses"][0] == 0.0 and out["losses"][1] == pytest.approx(5000.0)
    assert np.isfinite(out["grad_chosen"]).all() and out["grad_chosen"][1] == pytest.approx(-0.5)


@pytest.mark.parametrize("model", _tiny_models(), ids=["mlp", "transformer"])
def test_reply_logprobs_are_the_models_own_scores_of_the_reply(model):
    """The summed log-prob of a reply is −(mean loss × tokens) of ``model.evaluate`` on the chat
    with only that reply trained (earlier assistant turns given weight 0)."""
    chosen, rejected = reply_logprobs(model, _pairs())
    for k, example in enumerate(_pairs()):
        prompt, good, bad = preference_pair(example)
        prompt = [{**m, "weight": 0} if m["role"] == "assistant" else m for m in prompt]
        for reply, got in ((good, chosen[k]), (bad, rejected[k])):
            scored = model.evaluate([{"messages": prompt + [reply]}])
            assert scored["n_tokens"] == len(reply["content"]) + 1  # the characters and <|end|>
            assert got == pytest.approx(-scored["loss"] * scored["n_tokens"], rel=1e-12)


@pytest.mark.parametrize("model", _tiny_models(), ids=["mlp", "transformer"])
def test_gradient_matches_central_differences(model):
    pairs = dpo._Pairs(_pairs(), "pairs")
    reference = model.copy()
    rng = np.random.default_rng(0)
    for p in model.params.values():  # move away from the reference: margins ≠ 0
        p += rng.standard_normal(p.shape) * 0.3
    ref = dpo._logprobs(reference, pairs)
    beta = 0.7

    def loss():
        return dpo_loss(*dpo._logprobs(model, pairs), *ref, beta=beta)["loss"]

    _, _, grads = dpo._loss_grads(model, pairs.of(range(len(pairs))), ref, beta)
    assert loss() != pytest.approx(math.log(2), abs=1e-3)
    h = 1e-6
    for name, p in model.params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = loss()
            p[idx] = old - h
            down = loss()
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        scale = max(np.abs(numeric).max(), 1e-6)
        assert np.abs(grads[name] - numeric).max() / scale < 1e-5, name


# ----------------------------------------------------------------------------- the reader


def test_reader_accepts_the_documented_shape(tmp_path):
    line = {"input": {"messages": [{"role": "user", "content": "Hello, how is the weather?"}]},
            "preferred_output": [{"role": "assistant", "content": "It is sunny."}],
            "non_preferred_output": [{"role": "assistant", "content": "Weather."}]}
    path = tmp_path / "pref.jsonl"
    path.write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    records = read_preference_jsonl(path)
    assert len(records) == 2 and records.lines == [1, 2] and records.source == str(path)
    prompt, good, bad = preference_pair(records[1])
    assert prompt == line["input"]["messages"]
    assert (good["content"], bad["content"]) == ("It is sunny.", "Weather.")


def test_reader_errors_name_file_line_and_field(tmp_path):
    good = make_preference_example([{"role": "user", "content": "Hi"}], "Hello", "Go away")
    no_rejected = {k: v for k, v in good.items() if k != "non_preferred_output"}
    user_reply = {**good, "preferred_output": [{"role": "user", "content": "Hello"}]}
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([json.dumps(good), json.dumps(no_rejected), '{"input": ',
                               json.dumps(user_reply)]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        read_preference_jsonl(path)
    text = str(err.value)
    assert "bad.jsonl" in text and "3 preference example(s) with errors" in text
    assert "line 2, non_preferred_output: [preference_missing_key]" in text
    assert "line 3: [invalid_json]" in text
    assert "line 4, preferred_output: [preference_invalid_output]" in text
    with pytest.warns(UserWarning, match="skipped 3"):
        kept = read_preference_jsonl(path, strict=False)
    assert kept.lines == [1] and sorted(p.line for p in kept.problems) == [2, 3, 4]


def test_records_in_memory_are_checked_too():
    bad = make_preference_example([{"role": "user", "content": "Hi"}], "Hello", "Go away")
    bad["input"]["messages"][0]["role"] = "robot"
    with pytest.raises(ValueError, match=r"train: .*line 2, input.messages\[0\].role"):
        check_preference_records([_pairs()[0], bad], source="train")
    with pytest.raises(ValueError, match="line 2, input.messages"):
        dpo_finetune(TinyLM(Config(context_size=3, embedding_size=2, hidden_size=4)),
                     [_pairs()[0], bad], progress=False)
    same = make_preference_example([{"role": "user", "content": "Hi"}], "Hello", "Hello")
    checked = check_preference_records([same])  # identical outputs: a warning, kept
    assert len(checked) == 1 and checked.problems[0].code == "preference_identical_outputs"


# ----------------------------------------------------------------------------- the loop


@pytest.fixture(scope="module")
def pretrained():
    return tinylm.load_pretrained("tinylm-char-v1")  # the MLP: the loop's tests need speed, not skill


@pytest.fixture(scope="module")
def round_one(pretrained):
    model = pretrained.copy()
    run = dpo_finetune(model, TRAIN, VALID, beta=0.1, n_epochs=3, seed=0, progress=False)
    return model, run


def test_a_round_lowers_the_loss_and_ranks_training_pairs_right(round_one, pretrained):
    model, run = round_one
    m = run.metrics
    # the first batch is scored before any update: policy = reference
    assert m["train_loss"].iloc[0] == pytest.approx(math.log(2), abs=1e-5)
    assert m["reward_margin"].iloc[0] == pytest.approx(0, abs=1e-4)
    assert m["train_loss"].iloc[-3:].mean() < 0.3
    assert m["reward_accuracy"].iloc[-3:].mean() > 0.9
    before = evaluate_preferences(pretrained, TRAIN)
    after = evaluate_preferences(model, TRAIN, reference=pretrained, beta=0.1)
    assert before["prefers_rejected"] > 0.5 and after["prefers_rejected"] < 0.1
    assert after["reward_accuracy"] == pytest.approx(1 - after["prefers_rejected"])
    assert after["chosen_logprob"] > before["chosen_logprob"]


def test_run_has_the_dpo_metrics_and_the_shape_of_a_job(round_one):
    model, run = round_one
    m, meta = run.metrics, run.meta
    assert meta["method"] == "dpo" and meta["hyperparameters"]["beta"] == 0.1
    assert meta["n_train_examples"] == 73 and meta["n_valid_examples"] == 32
    assert meta["total_steps"] == 3 * math.ceil(73 / 8) == len(m)
    for col in ("train_loss", "chosen_reward", "rejected_reward", "reward_margin",
                "reward_accuracy", "chosen_logprob", "rejected_logprob", "valid_loss",
                "valid_reward_margin", "valid_reward_accuracy", "valid_chosen_logprob"):
        assert col in m.columns, col
    assert (m["reward_margin"] - (m["chosen_reward"] - m["rejected_reward"])).abs().max() < 1e-9
    ends = m["valid_loss"].dropna().index
    assert {10, 20, 30} <= set(ends) and m["epoch"].iloc[-1] == 3
    assert model.info["finetuned"][-1]["method"] == "dpo"


def test_same_seed_same_run_and_reference_untouched(pretrained):
    pairs = read_preference_jsonl(TRAIN)[:16]
    reference = pretrained.copy()
    frozen = {k: v.copy() for k, v in reference.params.items()}
    runs, weights = [], []
    for seed in (3, 3, 4):
        model = pretrained.copy()
        runs.append(dpo_finetune(model, pairs, n_epochs=2, batch_size=4, seed=seed,
                                 reference=reference, progress=False).metrics)
        weights.append(model.params["W2"])
    assert runs[0].equals(runs[1]) and np.array_equal(weights[0], weights[1])
    assert not runs[0]["train_loss"].equals(runs[2]["train_loss"])
    assert all(np.array_equal(frozen[k], reference.params[k]) for k in frozen)


def test_transformer_takes_a_dpo_round():
    model = TinyTransformer(TransformerConfig(context_size=64, width=16, n_layers=1, n_heads=2))
    pairs = read_preference_jsonl(TRAIN)[:8]
    run = dpo_finetune(model, pairs, n_epochs=6, batch_size=4, learning_rate_multiplier=5.0,
                       progress=False)
    assert run.metrics["train_loss"].iloc[-2:].mean() < run.metrics["train_loss"].iloc[0]


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": 0}, "beta must be a number > 0"), ({"n_epochs": 0}, "n_epochs"),
    ({"batch_size": 1.5}, "batch_size"), ({"learning_rate_multiplier": -1}, "learning_rate"),
])
def test_bad_hyperparameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dpo_finetune(TinyLM(Config(context_size=3, embedding_size=2, hidden_size=4)), _pairs(),
                     progress=False, **kwargs)


def test_evaluate_preferences_interval_is_wilson(pretrained):
    out = evaluate_preferences(pretrained, VALID)
    k, n = round(out["prefers_rejected"] * out["n_pairs"]), out["n_pairs"]
    from ftlab._report import wilson_interval

    assert out["interval"] == pytest.approx(wilson_interval(k, n), abs=1e-12)


# ----------------------------------------------------------------------------- the data


def _words(path):
    out = []
    for example in read_preference_jsonl(path):
        prompt, good, bad = preference_pair(example)
        out.append((prompt[-1]["content"].split("'")[1], good["content"], bad["content"]))
    return out


def test_synonym_data_holds_out_every_validation_word():
    from ftlab.augment.lexicon import get_lexicon

    train, valid = _words(TRAIN), _words(VALID)
    assert (len(train), len(valid)) == (73, 32)
    seen = {w for row in train for w in row}
    assert not seen & {w for row in valid for w in row}  # prompt, synonym and antonym all unseen
    lexicon = get_lexicon("builtin")
    for word, synonym, antonym in train + valid:
        assert synonym in lexicon.synonyms(word, pos="a") and antonym not in lexicon.synonyms(word)
    naive = [json.loads(line) for line in (CHAT / "synonyms_sft_naive.jsonl").open()]
    assert len(naive) == 2 * len(train)
    assert naive[1]["messages"][1]["content"] == f"Not '{train[0][2]}' - that is the opposite."
