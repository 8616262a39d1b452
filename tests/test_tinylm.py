"""ftlab.tinylm: the hand-written gradients, learning, the chat template, files, and using the model."""

import json
import math

import numpy as np
import pytest

import ftlab
from ftlab import tinylm
from ftlab.losses import cross_entropy, softmax
from ftlab.tinylm.model import Config, TinyLM
from ftlab.tinylm.optim import Adam, clip_gradients
from ftlab.tinylm.text import (ASSISTANT, END, IGNORE_INDEX, USER, VOCAB_SIZE, contexts, decode,
                               encode, normalise, render_chat, render_prompt)

SMALL = Config(context_size=3, embedding_size=4, hidden_size=8)


def chat(user, reply, weight=None, system="You are Marv."):
    assistant = {"role": "assistant", "content": reply}
    if weight is not None:
        assistant["weight"] = weight
    return {"messages": [{"role": "system", "content": system},
                         {"role": "user", "content": user}, assistant]}


# ----------------------------------------------------------------------------- gradients


def _numeric_gradient(model, ctx, targets, name, eps=1e-6):
    p = model.params[name]
    grad = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + eps
        up = model.loss_and_grads(ctx, targets)[0]
        p[i] = old - eps
        down = model.loss_and_grads(ctx, targets)[0]
        p[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def test_gradient_check_every_parameter_against_finite_differences():
    model = TinyLM(SMALL, seed=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    for p in model.params.values():  # move away from the init's tiny W2 and zero biases
        p += 0.3 * rng.standard_normal(p.shape)
    tokens = encode("abcabd, hello!")
    targets = tokens.copy()
    targets[[0, 3, 4]] = IGNORE_INDEX  # masked positions must not leak into the gradient
    ctx = contexts(tokens, SMALL.context_size)
    _, grads, _ = model.loss_and_grads(ctx, targets)
    assert sorted(grads) == sorted(model.params)
    for name in model.params:
        numeric = _numeric_gradient(model, ctx, targets, name)
        assert grads[name].shape == numeric.shape
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_masked_rows_change_nothing():
    model = TinyLM(SMALL, seed=0, dtype=np.float64)
    tokens = encode("hello world")
    targets = tokens.copy()
    targets[:5] = IGNORE_INDEX
    ctx = contexts(tokens, 3)
    loss_all, grads_all, _ = model.loss_and_grads(ctx, targets)
    loss_kept, grads_kept, _ = model.loss_and_grads(ctx[5:], targets[5:])
    assert loss_all == pytest.approx(loss_kept)
    for name in grads_all:
        np.testing.assert_allclose(grads_all[name], grads_kept[name], atol=1e-12)


def test_float32_compute():
    model = TinyLM(SMALL)
    ctx = contexts(encode("hello"), 3)
    _, grads, logits = model.loss_and_grads(ctx, encode("hello"))
    assert logits.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in model.params.values())


# ----------------------------------------------------------------------------- learning


def test_loss_at_initialisation_is_about_ln_vocabulary():
    model = TinyLM(seed=3)
    tokens = encode("The quick brown fox jumps over the lazy dog. " * 4)
    loss, _, _ = model.loss_and_grads(contexts(tokens, model.config.context_size), tokens)
    assert loss == pytest.approx(math.log(VOCAB_SIZE), abs=0.02)


def test_the_model_can_drive_one_small_batch_to_near_zero_loss():
    model = TinyLM(Config(context_size=8, embedding_size=16, hidden_size=64), seed=0)
    tokens = encode("Marv is sarcastic, but always right.")
    ctx = contexts(tokens, 8)
    opt = Adam(model.params, lr=1e-2)
    for _ in range(300):
        loss, grads, _ = model.loss_and_grads(ctx, tokens)
        clip_gradients(grads, 1.0)
        opt.step(model.params, grads)
    assert loss < 0.02


def test_clip_gradients_scales_the_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    assert clip_gradients(grads, 1.0) == pytest.approx(5.0)
    assert math.sqrt(sum(float((g ** 2).sum()) for g in grads.values())) == pytest.approx(1.0)
    small = {"a": np.array([0.3])}
    clip_gradients(small, 1.0)
    assert small["a"][0] == pytest.approx(0.3)  # under the limit: untouched


def test_adam_first_step_moves_each_weight_by_the_learning_rate():
    params = {"w": np.array([1.0, -2.0, 3.0])}
    Adam(params, lr=0.1).step(params, {"w": np.array([0.5, -7.0, 0.2])})
    # m̂ = g and v̂ = g², so the step is lr·g/|g|: the sign of g times lr
    np.testing.assert_allclose(params["w"], [0.9, -1.9, 2.9], atol=1e-6)


# ----------------------------------------------------------------------------- text and template


def test_encode_decode_round_trip_and_folding():
    text = "Hello, world!\n{x: 1}"
    assert decode(encode(text)) == text
    assert normalise("naïve “café” — ok…") == 'naive "cafe" - ok...'
    assert decode(encode("π")) == ""  # unknown → <|unk|>, which decode drops
    assert encode("π").tolist() == [1]


def test_render_chat_trains_only_assistant_tokens_and_end():
    tokens, targets = render_chat(chat("Hi", "Yo"))
    assert decode(tokens, specials=True) == ("<|system|>You are Marv.<|end|><|user|>Hi<|end|>"
                                             "<|assistant|>Yo<|end|>")
    counted = targets != IGNORE_INDEX
    assert decode(tokens[counted], specials=True) == "Yo<|end|>"
    assert (targets[counted] == tokens[counted]).all()


def test_weight_zero_reply_is_context_not_target():
    record = {"messages": [{"role": "user", "content": "A"},
                           {"role": "assistant", "content": "bad", "weight": 0},
                           {"role": "user", "content": "B"},
                           {"role": "assistant", "content": "good", "weight": 1}]}
    tokens, targets = render_chat(record)
    assert "bad" in decode(tokens)
    assert decode(tokens[targets != IGNORE_INDEX]) == "good"


def test_render_prompt_drops_the_final_reply_and_asks_for_one():
    tokens = render_prompt(chat("Hi", "Whatever."))
    assert tokens[-1] == ASSISTANT and "Whatever" not in decode(tokens)
    assert render_prompt([{"role": "user", "content": "Hi"}])[0] == USER


@pytest.mark.parametrize("record, match", [
    ({"messages": [{"role": "robot", "content": "x"}]}, r"messages\[0\]\.role"),
    ({"messages": []}, "non-empty 'messages'"),
    ({"messages": [{"role": "user", "content": 5}]}, r"messages\[0\]\.content"),
])
def test_bad_chat_records_name_the_field(record, match):
    with pytest.raises(ValueError, match=match):
        render_chat(record, where="train example 3")


def test_contexts_pad_at_the_start():
    assert contexts(np.array([5, 6, 7, 8]), 3).tolist() == [[0, 0, 0], [0, 0, 5], [0, 5, 6],
                                                            [5, 6, 7]]


# ----------------------------------------------------------------------------- files


def test_save_load_round_trip_refuses_overwrite(tmp_path):
    model = TinyLM(SMALL, seed=4)
    path = model.save(tmp_path / "m")
    again = tinylm.load(path)
    assert again.config == SMALL
    for name in model.params:
        np.testing.assert_array_equal(again.params[name], model.params[name])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m")


def test_load_checks_hash_and_format_version(tmp_path):
    path = TinyLM(SMALL, seed=4).save(tmp_path / "m")
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    arrays = dict(np.load(path))
    arrays["b2"][0] += 1e-3  # a damaged weight
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="sha256"):
        tinylm.load(path)
    meta["format_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format_version"):
        tinylm.load(path)
    with pytest.raises(FileNotFoundError, match="missing"):
        tinylm.load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("damage", ["cut-weights", "garbage-weights", "garbage-json", "json-list",
                                    "bad-config"])
def test_a_damaged_model_file_is_a_value_error_naming_the_file(tmp_path, damage):
    path = TinyLM(SMALL, seed=4).save(tmp_path / "m")
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    if damage == "cut-weights":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage-weights":
        path.write_bytes(b"not a zip file at all")
    elif damage == "garbage-json":
        meta_path.write_text("{ not json")
    elif damage == "json-list":
        meta_path.write_text("[1, 2]")
    else:
        meta_path.write_text(json.dumps({**meta, "config": {"layers": 3}}))
    with pytest.raises(ValueError, match=r"m\.(npz|json)"):
        tinylm.load(path)


def _pretrain_script():
    import importlib.util

    path = tinylm.pretrained_path().parents[2] / "tools" / "pretrain_tinylm.py"
    if not path.exists():
        pytest.skip("tools/pretrain_tinylm.py is not in this installation (a wheel, not a checkout)")
    spec = importlib.util.spec_from_file_location("pretrain_tinylm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pretraining_is_reproducible_from_its_seed():
    pretrain = _pretrain_script()
    a, info = pretrain.pretrain(seed=3, steps=20, batch=64, progress=False)
    b, _ = pretrain.pretrain(seed=3, steps=20, batch=64, progress=False)
    c, _ = pretrain.pretrain(seed=4, steps=20, batch=64, progress=False)
    assert tinylm.weights_hash(a.params) == tinylm.weights_hash(b.params)
    assert tinylm.weights_hash(a.params) != tinylm.weights_hash(c.params)
    assert info["seed"] == 3 and "pydoc_data.topics" in info["corpus"]


def test_pretrained_weights_load_and_match_their_recorded_heldout_loss():
    model = ftlab.tinylm.load_pretrained("tinylm-char-v1")
    assert model.config == Config()
    meta = json.loads(tinylm.pretrained_path().with_suffix(".json").read_text())
    assert meta["sha256"] == tinylm.weights_hash(model.params)
    # recompute the held-out loss the pretraining script recorded, on the same 5% of the corpus
    pretrain = _pretrain_script()
    tokens, _ = pretrain.corpus_tokens()
    split = int(len(tokens) * 0.95)
    ctx = contexts(tokens, model.config.context_size)[split:]
    loss = pretrain.heldout_loss(model, ctx, tokens[split:])
    assert loss == pytest.approx(meta["info"]["heldout_loss"], abs=1e-3)
    assert loss < 0.5 * math.log(VOCAB_SIZE)  # far better than guessing


# ----------------------------------------------------------------------------- using the model


@pytest.fixture(scope="module")
def pretrained():
    return tinylm.load_pretrained("tinylm-char-v1")


def test_next_token_distribution_agrees_with_evaluate(pretrained):
    text = "def f(x):"
    dist = pretrained.next_token_distribution(text)
    assert dist.sum() == pytest.approx(1.0)
    assert list(dist.values) == sorted(dist.values, reverse=True)
    # evaluate("ab") averages -log p(a | start) and -log p(b | a)
    logits_a = pretrained.next_token_logits("")
    logits_b = pretrained.next_token_logits("a")
    by_hand = (cross_entropy(logits_a[None], [encode("a")[0]])
               + cross_entropy(logits_b[None], [encode("b")[0]])) / 2
    assert pretrained.evaluate("ab")["loss"] == pytest.approx(by_hand, rel=1e-5)
    np.testing.assert_allclose(np.sort(softmax(logits_b))[::-1],
                               pretrained.next_token_distribution("a").values, rtol=1e-6)


def test_evaluate_chat_counts_only_assistant_tokens(pretrained):
    record = chat("What is 2+2?", "4. Obviously.")
    result = pretrained.evaluate([record])
    assert result["n_tokens"] == len("4. Obviously.") + 1  # the reply and its <|end|>
    tokens, targets = render_chat(record)
    logits, _ = pretrained.forward(contexts(tokens, pretrained.config.context_size))
    assert result["loss"] == pytest.approx(float(cross_entropy(logits, targets)), rel=1e-6)
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))
    assert pretrained.perplexity([record]) == pytest.approx(result["perplexity"])


def test_generate_is_reproducible_and_greedy_ignores_the_seed(pretrained):
    kw = dict(max_tokens=30, temperature=1.0)
    assert pretrained.generate("The ", seed=1, **kw) == pretrained.generate("The ", seed=1, **kw)
    samples = {pretrained.generate("The ", seed=s, **kw) for s in range(5)}
    assert len(samples) > 1
    greedy = {pretrained.generate("The ", seed=s, max_tokens=30, temperature=0) for s in range(3)}
    assert len(greedy) == 1


def test_max_tokens_truncates_and_end_stops_a_reply():
    model = TinyLM(SMALL, seed=0)
    out = model.generate("abc", max_tokens=7, details=True)
    assert out["n_tokens"] == 7 and out["finish_reason"] == "length"
    model.params["b2"][END] = 50.0  # <|end|> certain: the reply is empty and "stops"
    out = model.generate([{"role": "user", "content": "Hi"}], max_tokens=7, details=True)
    assert out == {"text": "", "finish_reason": "stop", "n_tokens": 0}


def test_copy_is_independent(pretrained):
    twin = pretrained.copy()
    twin.params["W1"][0, 0] += 1.0
    assert twin.params["W1"][0, 0] != pretrained.params["W1"][0, 0]


def test_greedy_generation_follows_next_token_logits(pretrained):
    chat = [{"role": "user", "content": "Why is the sky blue?"}]
    reply = pretrained.generate(chat, max_tokens=12, temperature=0)
    for k in range(len(reply)):
        logits = pretrained.next_token_logits(chat, reply_so_far=reply[:k])
        assert decode([int(np.argmax(logits))]) == reply[k]
