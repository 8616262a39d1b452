"""How close does a tinylm training step get to numpy's own matrix-multiply speed?

    python benchmarks/bench_tinylm.py

A training step (forward, hand-written backward, clipping, Adam) does six matrix products: two
forward, four backward (weights and inputs of both layers). Their FLOPs, 3 x 2·N·(C·d·H + H·V),
are the useful work. The baseline is numpy doing just those six products on arrays of the same
shapes, measured in the same run with the same BLAS thread setting (one thread, as fine-tuning
uses). The ratio baseline-time / step-time is the share of numpy's matmul FLOP rate that the
whole step achieves (target: at least 30%). Both sides count their fastest of many interleaved
calls: on a shared machine that is the least-disturbed measurement. Then steps per second of a
real fine-tuning job on the course dataset, validation included.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import ftlab  # noqa: E402
from ftlab._data import data_dir  # noqa: E402
from ftlab.tinylm.model import load_pretrained  # noqa: E402
from ftlab.tinylm.training import _Examples  # noqa: E402

from _step_timing import step_and_baseline  # noqa: E402  (benchmarks/, beside this file)




def main():
    model = load_pretrained("tinylm-char-v1")
    c = model.config
    train = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_train.jsonl")
    valid = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_valid.jsonl")
    examples = _Examples.of(train, c.context_size, "train")
    ctx, targets = examples.batch(range(4))  # one batch of 4 examples, as fine-tuning uses
    n = len(targets)
    fan_in = c.context_size * c.embedding_size
    flops = 3 * 2 * n * (fan_in * c.hidden_size + c.hidden_size * c.vocab_size)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, fan_in), dtype=np.float32)
    h = rng.standard_normal((n, c.hidden_size), dtype=np.float32)
    d_logits = rng.standard_normal((n, c.vocab_size), dtype=np.float32)
    d_pre = rng.standard_normal((n, c.hidden_size), dtype=np.float32)
    w1, w2 = model.params["W1"], model.params["W2"]

    def six_matmuls():
        x @ w1, h @ w2  # forward
        h.T @ d_logits, d_logits @ w2.T  # backward through the output layer
        x.T @ d_pre, d_pre @ w1.T  # backward through the hidden layer

    mm, step = step_and_baseline(model, ctx, targets, six_matmuls, lr=1e-4, repeats=30)
    print(f"batch: {n} assistant tokens (4 examples), model {model}")
    print(f"numpy matmuls alone (baseline): {mm * 1e3:.2f} ms = {flops / mm / 1e9:.1f} GFLOP/s")
    print(f"full training step:             {step * 1e3:.2f} ms = {flops / step / 1e9:.1f} GFLOP/s")
    print(f"training step ÷ numpy matmuls alone = {step / mm:.2f}x: the step achieves "
          f"{mm / step:.0%} of numpy's matmul FLOP rate (target >= 30%; "
          f"best of 5 x 30 runs each, one BLAS thread)")

    start = time.perf_counter()
    run = model.copy().finetune(train, valid, n_epochs=3, progress=False)
    wall = time.perf_counter() - start
    print(f"fine-tuning 3 epochs on {len(train)} examples: {run.meta['total_steps']} steps in "
          f"{wall:.1f} s = {run.meta['total_steps'] / wall:.1f} steps/s (validation included); "
          f"valid loss {model.evaluate(valid)['loss']:.3f} -> "
          f"{run.metrics['full_valid_loss'].dropna().iloc[-1]:.3f}")


if __name__ == "__main__":
    main()
