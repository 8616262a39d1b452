"""Pretrain ftlab's tiny transformer on the Python standard library's own English, reproducibly.

    python tools/pretrain_transformer.py            # writes data/models/tinylm-attn-v1.{npz,json}
    python tools/pretrain_transformer.py --check    # retrains in memory, compares with the shipped hash

The corpus needs no download and may be shipped with the weights (PSF licence, see
data/models/README.md): ``pydoc_data.topics`` (the language reference's topics, ~465,000
characters) and the docstrings of the standard library's modules, classes and functions
(~1.7 million characters; tests and site-packages left out). Every 20th document is held out to
report a validation loss. Each document is wrapped in the chat template's tokens, as the MLP's
pretraining does: ``<|pad|>`` (start of text), then its first paragraph as a system message and
the rest alternately as user and assistant messages, each closed by ``<|end|>``.
``--corpus stdlib+wordnet`` adds WordNet 3.0's definitions (Debian's ``wordnet-base``; tried:
the fine-tuned ticket router got worse, so the shipped weights do not use it); ``--corpus pydoc``
is the topics alone (the MLP's corpus; the tests use it).

Each step trains on 4,096 positions: 16 windows of 256 tokens or, one step in four, 8 windows of
512 (so every position embedding is trained while most steps stay cheap). Half the windows start
at a document's first token, as a chat example does at fine-tuning. Adam, linear warm-up then
cosine decay, gradients clipped at norm 1. Runs single-threaded (a BLAS with one thread sums in a
fixed order), so the same seed gives the same weights bit for bit with the same Python, numpy and
BLAS build.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import ast  # noqa: E402
import functools  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import sysconfig  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ftlab.losses import cross_entropy  # noqa: E402
from ftlab.tinylm.model import TRANSFORMER_NAME, pretrained_path, weights_hash  # noqa: E402
from ftlab.tinylm.optim import Adam, clip_gradients, one_blas_thread  # noqa: E402
from ftlab.tinylm.text import ASSISTANT, END, PAD, SYSTEM, USER, encode  # noqa: E402
from ftlab.tinylm.transformer import TinyTransformer, TransformerConfig  # noqa: E402

TOKENS_PER_STEP = 4096
HELD_OUT_EVERY = 20
_SKIP_DIRS = {"site-packages", "test", "tests", "idle_test", "__pycache__"}


# ----------------------------------------------------------------------------- the corpus


def stdlib_docstrings():
    """Docstrings of the standard library (modules, classes, functions), in a fixed order:
    files sorted by path, docstrings in the order they appear; repeats and one-liners of under
    40 characters left out."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen, docs = set(), []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            try:
                tree = ast.parse(Path(dirpath, filename).read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue  # a few files are templates or for another Python
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                     ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if doc and len(doc) >= 40 and doc not in seen:
                        seen.add(doc)
                        docs.append(doc)
    return docs


WORDNET = Path("/usr/share/wordnet")
SYNSETS_PER_DOCUMENT = 16


def wordnet_glosses():
    """WordNet 3.0's synsets as documents of 16 paragraphs, "word, synonym (noun): definition;
    "example"", in the order of Debian's wordnet-base files (noun, verb, adj, adv)."""
    if not (WORDNET / "data.noun").exists():
        raise SystemExit(f"{WORDNET}/data.noun is missing: install Debian's WordNet database "
                         "with `apt-get install wordnet-base`, or pass --corpus stdlib")
    names = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
    paragraphs = []
    for pos, name in names.items():
        for line in (WORDNET / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # the licence header
            fields, gloss = line.split("|", 1)
            parts = fields.split()
            words = [re.sub(r"\(\w+\)$", "", w).replace("_", " ")
                     for w in parts[4:4 + 2 * int(parts[3], 16):2]]
            paragraphs.append(f"{', '.join(words)} ({name}): {gloss.strip()}")
    return ["\n\n".join(paragraphs[i:i + SYNSETS_PER_DOCUMENT])
            for i in range(0, len(paragraphs), SYNSETS_PER_DOCUMENT)]


CORPORA = ("pydoc", "stdlib", "stdlib+wordnet")


@functools.lru_cache(maxsize=3)
def documents(corpus="stdlib"):
    """Every document of the corpus as text: the pydoc topics (sorted by name); with "stdlib"
    the docstrings too; with "stdlib+wordnet" also WordNet's definitions."""
    from pydoc_data.topics import topics

    if corpus not in CORPORA:
        raise ValueError(f"corpus must be one of {CORPORA}, got {corpus!r}")
    docs = [topics[name] for name in sorted(topics)]
    if corpus != "pydoc":
        docs += stdlib_docstrings()
    if corpus == "stdlib+wordnet":
        docs += wordnet_glosses()
    return tuple(docs)


def heldout_tokens(corpus="stdlib"):
    """The held-out documents' tokens alone (what corpus_tokens holds out, without encoding the
    rest)."""
    docs = documents(corpus)
    return np.array([t for i in range(HELD_OUT_EVERY - 1, len(docs), HELD_OUT_EVERY)
                     for t in wrap(docs[i])], dtype=np.int64)


def wrap(text):
    """Token ids of one document: <|pad|>, then its paragraphs as system/user/assistant messages."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    ids = [PAD]
    for j, paragraph in enumerate(paragraphs):
        role = SYSTEM if j == 0 else (USER, ASSISTANT)[j % 2]
        ids += [role, *encode(paragraph).tolist(), END]
    return ids


@functools.lru_cache(maxsize=2)
def corpus_tokens(corpus="stdlib"):
    """(train tokens, train document starts, held-out tokens, number of characters).

    A document start is the position of its first role token: a window starting there looks like
    a chat example (role token at position 0)."""
    train, starts, heldout, n_chars = [], [], [], 0
    for i, text in enumerate(documents(corpus)):
        ids = wrap(text)
        n_chars += len(text)
        if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1:
            heldout += ids
        else:
            starts.append(len(train) + 1)
            train += ids
    return (np.array(train, dtype=np.int64), np.array(starts, dtype=np.int64),
            np.array(heldout, dtype=np.int64), n_chars)


# ----------------------------------------------------------------------------- training


def sample_batch(rng, tokens, starts, context_size):
    """Windows of ``length + 1`` tokens (inputs and the next-token targets) for one step."""
    length = context_size if rng.random() < 0.25 else context_size // 2
    n = TOKENS_PER_STEP // length
    begin = np.where(rng.random(n) < 0.5,
                     starts[rng.integers(0, len(starts), size=n)],
                     rng.integers(0, len(tokens) - length - 1, size=n))
    begin = np.minimum(begin, len(tokens) - length - 1)
    rows = tokens[begin[:, None] + np.arange(length + 1)]
    return rows[:, :-1], rows[:, 1:]


def heldout_loss(model, tokens, length=None, max_windows=None):
    """Mean cross-entropy (nats/char) on the held-out text, read in consecutive windows (all of
    them, or the first ``max_windows``)."""
    length = length or model.config.context_size
    starts = list(range(0, len(tokens) - length - 1, length))[:max_windows]
    total, n = 0.0, 0
    with one_blas_thread():
        for i in range(0, len(starts), 8):
            rows = np.stack([tokens[s:s + length + 1] for s in starts[i:i + 8]])
            logits, _ = model.forward(rows[:, :-1])
            total += float(cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].ravel(),
                                         reduction="sum"))
            n += rows[:, 1:].size
    return total / n


def learning_rate(step, steps, peak, final, warmup):
    """Linear warm-up to ``peak``, then cosine decay to ``final``."""
    if step <= warmup:
        return peak * step / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return final + 0.5 * (peak - final) * (1 + math.cos(math.pi * progress))


def pretrain(*, seed=0, steps=4000, config=None, lr=2e-3, final_lr=1e-4, warmup=200,
             corpus="stdlib", progress=True):
    config = config or TransformerConfig()
    tokens, starts, heldout, n_chars = corpus_tokens(corpus)
    model = TinyTransformer(config, seed=seed)
    rng = np.random.default_rng(seed)
    opt = Adam(model.params, lr=lr)
    start = time.perf_counter()
    smooth = None
    with one_blas_thread():
        for step in range(1, steps + 1):
            inputs, targets = sample_batch(rng, tokens, starts, config.context_size)
            loss, grads, _ = model.loss_and_grads(inputs, targets)
            clip_gradients(grads, 1.0)
            opt.step(model.params, grads, lr=learning_rate(step, steps, lr, final_lr, warmup))
            smooth = loss if smooth is None else 0.98 * smooth + 0.02 * loss
            if progress and (step % 100 == 0 or step == 1):
                print(f"step {step:5d}  train loss {smooth:.3f}  "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
    train_time = time.perf_counter() - start
    valid = heldout_loss(model, heldout)
    info = {
        "corpus": f"CPython {sys.version_info.major}.{sys.version_info.minor} standard library: "
                  "pydoc_data.topics and the docstrings of its modules"
                  + (", and WordNet 3.0's definitions (Debian's wordnet-base)"
                     if corpus == "stdlib+wordnet" else "")
                  + f" ({n_chars} characters, every {HELD_OUT_EVERY}th document held out; "
                  "documents wrapped in role/<|end|> tokens)",
        "corpus_name": corpus,
        "seed": seed, "steps": steps, "tokens_per_step": TOKENS_PER_STEP, "lr": lr,
        "final_lr": final_lr, "warmup_steps": warmup,
        "optimizer": "Adam, global gradient norm clipped at 1.0, warm-up then cosine decay",
        "heldout_loss": round(valid, 4),
        # a quick check the tests recompute: the first 8 held-out windows, which are pydoc
        # topics in every corpus (the topics come first), so no docstring needs parsing
        "heldout_loss_first_8_windows": round(heldout_loss(model, heldout, max_windows=8), 4),
        "train_seconds": round(train_time),
        "numpy": np.__version__, "script": "tools/pretrain_transformer.py",
    }
    if progress:
        print(f"held-out loss {valid:.3f} nats/char (perplexity {math.exp(valid):.2f}), "
              f"{train_time:.0f} s of training")
    return model, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--corpus", choices=CORPORA, default="stdlib",
                    help="what to train on (the shipped weights: stdlib)")
    ap.add_argument("--out", type=Path, default=pretrained_path(TRANSFORMER_NAME))
    ap.add_argument("--check", action="store_true",
                    help="retrain and compare the weights' hash with the shipped model")
    args = ap.parse_args()
    model, info = pretrain(seed=args.seed, steps=args.steps, corpus=args.corpus)
    if args.check:
        import json

        meta = json.loads(pretrained_path(TRANSFORMER_NAME).with_suffix(".json").read_text())
        same = weights_hash(model.params) == meta["sha256"]
        print("identical to the shipped weights" if same else
              "DIFFERENT from the shipped weights (another Python, numpy or BLAS build)")
        return 0 if same else 1
    path = model.save(args.out, overwrite=True, info=info)
    print(f"wrote {path} and {path.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
