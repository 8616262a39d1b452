"""How far is the tiny transformer from routing unseen tickets well, and is it the data or the model?

    python tools/measure_ticket_router.py              # about 6 minutes on one core
    python tools/measure_ticket_router.py --seeds 1

Routes the 88 unseen messages of ``data/chat/tickets_test.jsonl`` after training on the 72
tickets of ``tickets_train.jsonl``, and on those plus ``tickets_more.jsonl`` (its first 80
messages join ``tickets_valid.jsonl`` as validation, the rest join training:
``ftlab.chat.tickets.ticket_router_data``), with two models:

- a multinomial Naive Bayes over lower-cased words (Laplace smoothing), a bag-of-words yardstick
  that knows nothing but the training messages;
- the shipped tiny transformer, fine-tuned with its defaults on each (which differ with the size
  of the data: ``TinyTransformer.default_hyperparameters``).

Prints the test accuracy of each, per seed for the transformer. The figures are quoted in
``data/models/README.md``.
"""

import _experiments  # first: one BLAS thread before numpy loads (see it)

import argparse
import collections
import math
import re
import sys
import time

import ftlab
from ftlab.chat.tickets import ticket_router_data
from ftlab.tinylm.model import load_pretrained_transformer

CHAT = _experiments.ROOT / "data" / "chat"


def _words(text):
    return re.findall(r"[a-z0-9']+", text.lower())


def naive_bayes(train):
    """A function message -> label: multinomial Naive Bayes over words, Laplace smoothing."""
    counts, labels = collections.defaultdict(collections.Counter), collections.Counter()
    for record in train:
        label = record["messages"][-1]["content"]
        labels[label] += 1
        counts[label].update(_words(record["messages"][-2]["content"]))
    vocabulary = {w for c in counts.values() for w in c}

    def score(label, words):
        total = sum(counts[label].values()) + len(vocabulary)
        return math.log(labels[label]) + sum(
            math.log((counts[label][w] + 1) / total) for w in words if w in vocabulary)

    return lambda messages: max(labels, key=lambda label: score(label, _words(messages[-1]["content"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="transformer seeds, 0 .. N-1 (default 3)")
    args = ap.parse_args()
    if args.seeds < 1:
        print("--seeds must be at least 1", file=sys.stderr)
        return 2
    read = lambda name: ftlab.read_chat_jsonl(CHAT / name)  # noqa: E731
    small, valid, test = (read("tickets_train.jsonl"), read("tickets_valid.jsonl"),
                          read("tickets_test.jsonl"))
    large, large_valid = ticket_router_data()
    sets = {"72 tickets": (small, valid), f"{len(large)} tickets": (large, large_valid)}
    for name, (train, valid_set) in sets.items():
        bayes = ftlab.task_accuracy(naive_bayes(train), test, progress=False).accuracy
        print(f"{name}: Naive Bayes {bayes:.1%}", flush=True)
        for seed in range(args.seeds):
            model = load_pretrained_transformer()
            start = time.perf_counter()
            run = model.finetune(train, valid_set, seed=seed, progress=False)
            took = time.perf_counter() - start
            accuracy = ftlab.task_accuracy(model, test, progress=False).accuracy
            print(f"{name}: transformer seed {seed} {accuracy:.1%} ({took:.0f} s to fine-tune, "
                  f"defaults {run.meta['hyperparameters']})", flush=True)
    return 0


if __name__ == "__main__":
    _experiments.run(main)
