"""How fast is the tiny transformer, and does fine-tuning it do the job?

    python benchmarks/bench_transformer.py

1. **Training FLOP rate.** A training step (forward, hand-written backward, clipping, Adam) on a
   batch of 4 chat examples does a known list of matrix products: per layer the q/k/v, output
   and two feed-forward projections, the attention scores and their mix, then the output layer
   and the embedding lookup, each once forward and twice backward. Their FLOPs are the useful
   work. The baseline is numpy doing just those products on arrays of the same shapes, measured
   side by side in the same run with the same BLAS setting (one thread, as fine-tuning uses).
   baseline-time / step-time is the share of numpy's matmul FLOP rate the whole step achieves
   (target: at least 30%). Both sides count their fastest of many interleaved calls. This step
   computes every row in full (``shares_common_start = False``), so that its work is that list.
   **Sharing the common start**: the same batch trained the default way, where the system
   prompt that every row starts with is computed once, each row only up to its reply's end and
   the last layer only from the reply on; the ratio of the two step times, side by side, is
   what that saves.
2. **Fine-tuning**: wall time of the default ``finetune`` on the tickets (the 72 of
   tickets_train.jsonl, and 1,300 with tickets_more.jsonl) and the Marv data, the routing
   accuracy on unseen tickets (``ftlab.task_accuracy``: the greedy reply is the label; 3 seeds;
   target: at least 80% in under a minute). **Marv's voice**: on 128 held-out questions answered
   twice (marv_valid + marv_test in Marv's voice, marv_neutral + marv_test_neutral plainly, the
   same facts), the plain reply's loss minus Marv's, per question, before and after fine-tuning
   on the 128 Marv chats and on 1,002 (with marv_more.jsonl); the change, with a paired 95% interval,
   says whether fine-tuning made the model prefer Marv's voice, not only the answers; and one
   sampled reply.
3. **Generation**: characters per second with the key/value cache, and without it (a full
   forward pass per character), and the time to load the shipped weights.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import ftlab  # noqa: E402
from ftlab._data import data_dir  # noqa: E402
from ftlab.chat.tickets import ticket_router_data  # noqa: E402
from ftlab.tinylm.model import load_pretrained_transformer  # noqa: E402
from ftlab.tinylm.optim import one_blas_thread  # noqa: E402
from ftlab.tinylm.text import PAD, decode, encode  # noqa: E402
from ftlab.tinylm.training import _Examples  # noqa: E402

from _step_timing import best_time, step_and_baseline  # noqa: E402  (benchmarks/, beside this file)

CHAT = data_dir() / "chat"



def step_matmuls(b, t, c):
    """(left shape, right shape) of every matrix product of one training step."""
    n, d, v, h = b * t, c.width, c.vocab_size, c.n_heads
    heads_t, heads_tt = (b, h, t, d // h), (b, h, t, t)
    keys_t = (b, h, d // h, t)
    per_layer = [
        ((n, d), (d, 3 * d)), (heads_t, keys_t), (heads_tt, heads_t), ((n, d), (d, d)),
        ((n, d), (d, 4 * d)), ((n, 4 * d), (4 * d, d)),                          # forward
        ((n, d), (d, 4 * d)), ((4 * d, n), (n, d)), ((n, 4 * d), (4 * d, d)), ((d, n), (n, 4 * d)),
        ((n, d), (d, d)), ((d, n), (n, d)),                                        # mlp, Wo
        (heads_tt, heads_t), (heads_t, keys_t), (heads_tt, heads_t), (heads_tt, heads_t),
        ((n, 3 * d), (3 * d, d)), ((d, n), (n, 3 * d)),                            # attention, qkv
    ]
    head = [((n, d), (d, v)), ((v, n), (n, d)), ((n, v), (v, d)), ((v, n), (n, d))]
    return per_layer * c.n_layers + head


def flops(shapes):
    return sum(2 * np.prod(left) * right[-1] for left, right in shapes)


def flop_share(model, records, label):
    examples = _Examples.of(records, model.config.context_size, label, sequences=True)
    tokens, targets = examples.batch(range(4))  # one batch of 4 examples, as fine-tuning uses
    shapes = step_matmuls(*tokens.shape, model.config)
    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32))
              for a, b in shapes]

    def matmuls_alone():
        for left, right in arrays:
            left @ right

    plain = model.copy()
    plain.shares_common_start = False
    mm, step = step_and_baseline(plain, tokens, targets, matmuls_alone, lr=1e-5)
    sharing = model.copy()
    sharing.shares_common_start = True
    _, shared_step = step_and_baseline(sharing, tokens, targets, matmuls_alone, lr=1e-5)
    work_flops = flops(shapes)
    print(f"{label}: batch of 4 examples padded to {tokens.shape[1]} positions, "
          f"{work_flops / 1e9:.2f} GFLOP of matrix products per step")
    print(f"  numpy matmuls alone (baseline): {mm * 1e3:7.1f} ms = "
          f"{work_flops / mm / 1e9:.1f} GFLOP/s")
    print(f"  full training step:             {step * 1e3:7.1f} ms = "
          f"{work_flops / step / 1e9:.1f} GFLOP/s")
    print(f"  the step achieves {mm / step:.0%} of numpy's matmul FLOP rate at these shapes "
          f"(target >= 30%; best of 5 x 10 runs each, one BLAS thread)")
    print(f"  the default step, sharing the rows' common start: {shared_step * 1e3:7.1f} ms, "
          f"{step / shared_step:.2f}x faster than computing every row in full")


def routing_accuracy(model, records):
    """Share of records whose greedy reply is the reference label (``ftlab.task_accuracy``)."""
    return ftlab.task_accuracy(model, records, progress=False).accuracy


def ticket_sets():
    """{name: (train, valid)}: the 72 tickets of tickets_train.jsonl, and all 1,300
    (``ftlab.chat.tickets.ticket_router_data``)."""
    train = ftlab.read_chat_jsonl(CHAT / "tickets_train.jsonl")
    valid = ftlab.read_chat_jsonl(CHAT / "tickets_valid.jsonl")
    large_train, large_valid = ticket_router_data()
    return {"72 tickets": (train, valid), f"{len(large_train)} tickets": (large_train, large_valid)}


def finetuning(base):
    test, test_name = ftlab.read_chat_jsonl(CHAT / "tickets_test.jsonl"), "tickets_test.jsonl"
    print(f"\nfine-tuning with the defaults (TinyTransformer.default_hyperparameters; base "
          f"learning rate {type(base).base_learning_rate:g}):")
    print(f"  tickets, before fine-tuning: routing {routing_accuracy(base, test):.0%} "
          f"on {len(test)} unseen messages of {test_name}")
    for name, (train, valid) in ticket_sets().items():
        accuracies, walls = [], []
        for seed in (0, 1, 2):
            model = base.copy()
            start = time.perf_counter()
            run = model.finetune(train, valid, seed=seed, progress=False)
            walls.append(time.perf_counter() - start)
            accuracies.append(routing_accuracy(model, test))
            print(f"  {name}, seed {seed}: {run.meta['total_steps']} steps in {walls[-1]:.1f} s; "
                  f"routing {accuracies[-1]:.1%} of {len(test)} unseen messages ({test_name}); "
                  f"full valid loss {run.metrics['full_valid_loss'].dropna().iloc[-1]:.3f}")
        print(f"  {name}: defaults {run.meta['hyperparameters']}; mean routing accuracy over 3 "
              f"seeds {np.mean(accuracies):.1%} (target >= 80%), slowest fine-tune "
              f"{max(walls):.1f} s (target < 60 s)")

    marv_voice(base)


def voice_preference(model, voiced, plain):
    """Per question: loss of the plain reply minus loss of Marv's (nats per character; > 0 when
    the model finds Marv's voice more likely)."""
    return np.array([model.evaluate([p])["loss"] - model.evaluate([v])["loss"]
                     for v, p in zip(voiced, plain)])


def marv_voice(base):
    read = {name: ftlab.read_chat_jsonl(CHAT / f"{name}.jsonl") for name in (
        "marv_train", "marv_valid", "marv_more", "marv_test", "marv_neutral", "marv_test_neutral")}
    voiced = list(read["marv_valid"]) + list(read["marv_test"])
    plain = list(read["marv_neutral"]) + list(read["marv_test_neutral"])
    before = voice_preference(base, voiced, plain)
    print(f"\nMarv's voice on {len(voiced)} held-out questions (plain minus Marv loss, nats/char; "
          f"> 0 prefers Marv): before fine-tuning {before.mean():+.3f}")
    for train in (list(read["marv_train"]), list(read["marv_train"]) + list(read["marv_more"])):
        model = base.copy()
        start = time.perf_counter()
        run = model.finetune(train, read["marv_valid"], seed=0, progress=False)
        wall = time.perf_counter() - start
        change = voice_preference(model, voiced, plain) - before
        half = 1.96 * change.std(ddof=1) / np.sqrt(len(change))
        print(f"  {len(train)} Marv chats, defaults {run.meta['hyperparameters']}: {wall:.0f} s; "
              f"validation loss {base.evaluate(read['marv_valid'])['loss']:.3f} -> "
              f"{run.metrics['full_valid_loss'].dropna().iloc[-1]:.3f}; preference for Marv's voice "
              f"changed by {change.mean():+.3f} (95% CI {change.mean() - half:+.3f} to "
              f"{change.mean() + half:+.3f})")
        question = voiced[0]["messages"][:-1]
        print(f"    asked {question[-1]['content']!r}, at temperature 0.7: "
              f"{model.generate(question, temperature=0.7, max_tokens=160)!r}")


def generation(model):
    prompt, n = "The value of", 200

    def cached():
        return model.generate(prompt, max_tokens=n, temperature=0)

    def uncached():
        tokens = [PAD, *encode(prompt)]
        with one_blas_thread():
            for _ in range(n):
                logits, _ = model.forward(np.array(tokens[-model.config.context_size:])[None])
                tokens.append(int(logits[0, -1].argmax()))
        return decode(tokens[-n:])

    with_cache = best_time(cached, repeats=3)
    without = best_time(uncached, repeats=1)
    assert cached() == uncached(), "the cache changed the greedy text"
    print(f"\ngeneration: {n / with_cache:.0f} characters/s with the key/value cache, "
          f"{n / without:.0f} characters/s re-reading the sequence each time "
          f"({without / with_cache:.1f}x); the same {n} greedy characters")


def main():
    start = time.perf_counter()
    model = load_pretrained_transformer()
    load = time.perf_counter() - start
    print(f"model {model}\nloading the shipped weights (sha256 checked): {load * 1e3:.0f} ms\n")
    flop_share(model, ftlab.read_chat_jsonl(CHAT / "tickets_train.jsonl"), "tickets")
    flop_share(model, ftlab.read_chat_jsonl(CHAT / "marv_train.jsonl"), "marv")
    generation(model)
    finetuning(model)


if __name__ == "__main__":
    main()
