"""Pretrain ftlab's tiny character model on Python's own documentation text, reproducibly.

    python tools/pretrain_tinylm.py            # writes data/models/tinylm-char-v1.{npz,json}
    python tools/pretrain_tinylm.py --check    # retrains in memory, compares with the shipped hash

The corpus is ``pydoc_data.topics``: the Python language reference's topics (~465,000 characters of
English prose with code), shipped with every CPython, so no download is needed. Topics are joined
in sorted order; the last 5% of characters are held out to report a validation loss.

Runs single-threaded (a BLAS with one thread sums in a fixed order), so the same seed gives the same
weights bit for bit with the same numpy/BLAS build; ~1-3 minutes on one CPU core.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ftlab.losses import cross_entropy  # noqa: E402
from ftlab.tinylm.model import (PRETRAINED_NAME, Config, TinyLM, pretrained_path,  # noqa: E402
                                weights_hash)
from ftlab.tinylm.optim import Adam, clip_gradients, one_blas_thread  # noqa: E402
from ftlab.tinylm.text import ASSISTANT, END, SYSTEM, USER, contexts, encode  # noqa: E402


def corpus_tokens():
    """The corpus as token ids, its paragraphs wrapped in the chat template's role/end tokens.

    Each topic's first paragraph is a "system" message and the rest alternate "user"/"assistant".
    The documentation is not a dialogue, but this way the special tokens are not strangers at
    fine-tuning time: the model has learnt that text starts after a role token and that
    ``<|end|>`` follows the end of a paragraph.
    """
    from pydoc_data.topics import topics

    ids, n_chars = [], 0
    for name in sorted(topics):
        paragraphs = [p.strip() for p in topics[name].split("\n\n") if p.strip()]
        for j, paragraph in enumerate(paragraphs):
            role = SYSTEM if j == 0 else (USER, ASSISTANT)[j % 2]
            ids += [role, *encode(paragraph).tolist(), END]
            n_chars += len(paragraph)
    return np.array(ids, dtype=np.int64), n_chars


def heldout_loss(model, ctx, targets, chunk=8192):
    total = sum(float(cross_entropy(model.forward(ctx[i:i + chunk])[0], targets[i:i + chunk],
                                    reduction="sum")) for i in range(0, len(targets), chunk))
    return total / len(targets)


def pretrain(*, seed=0, steps=6000, batch=512, lr=3e-3, final_lr=3e-4, progress=True):
    tokens, n_chars = corpus_tokens()
    split = int(len(tokens) * 0.95)
    model = TinyLM(Config(), seed=seed)
    ctx = contexts(tokens, model.config.context_size)
    train_ctx, train_y = ctx[:split], tokens[:split]
    valid_ctx, valid_y = ctx[split:], tokens[split:]
    rng = np.random.default_rng(seed)
    opt = Adam(model.params, lr=lr)
    start = time.perf_counter()
    with one_blas_thread():
        for step in range(1, steps + 1):
            rows = rng.integers(0, split, size=batch)
            loss, grads, _ = model.loss_and_grads(train_ctx[rows], train_y[rows])
            clip_gradients(grads, 1.0)
            # cosine decay from lr to final_lr: big steps early, settle at the end
            now = final_lr + 0.5 * (lr - final_lr) * (1 + math.cos(math.pi * step / steps))
            opt.step(model.params, grads, lr=now)
            if progress and (step % 250 == 0 or step == 1):
                print(f"step {step:5d}  train loss {loss:.3f}  ({time.perf_counter() - start:.0f} s)",
                      flush=True)
    with one_blas_thread():
        valid = heldout_loss(model, valid_ctx, valid_y)
    info = {
        "corpus": "pydoc_data.topics from CPython "
                  f"{sys.version_info.major}.{sys.version_info.minor} ({n_chars} characters, "
                  "topics in sorted order, paragraphs wrapped in role/<|end|> tokens; last 5% "
                  "held out)",
        "seed": seed, "steps": steps, "batch_rows": batch, "lr": lr, "final_lr": final_lr,
        "optimizer": "Adam, global gradient norm clipped at 1.0, cosine learning-rate decay",
        "heldout_loss": round(valid, 4),
        "numpy": np.__version__,
        "script": "tools/pretrain_tinylm.py",
    }
    if progress:
        print(f"held-out loss {valid:.3f} nats/char (perplexity {math.exp(valid):.2f}), "
              f"{time.perf_counter() - start:.0f} s")
    return model, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--out", type=Path, default=pretrained_path())
    ap.add_argument("--check", action="store_true",
                    help="retrain and compare the weights' hash with the shipped model")
    args = ap.parse_args()
    model, info = pretrain(seed=args.seed, steps=args.steps)
    if args.check:
        import json

        shipped = json.loads(pretrained_path().with_suffix(".json").read_text())["sha256"]
        same = weights_hash(model.params) == shipped
        print("identical to the shipped weights" if same else
              "DIFFERENT from the shipped weights (another numpy/BLAS build rounds differently)")
        return 0 if same else 1
    path = model.save(args.out, overwrite=True, info=info)
    print(f"wrote {path} and {path.with_suffix('.json').name} ({PRETRAINED_NAME})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
