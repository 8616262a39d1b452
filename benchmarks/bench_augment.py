"""augment_chat speed on 10,000 examples with two operations, next to the floor of copying them.

    python benchmarks/bench_augment.py [--examples 10000] [--ops synonym,typo] [--repeats 3]

Floor: what any augmenter must do per example at least — deep-copy it and serialise it back to a
JSONL line. augment_chat (one variant per example) also applies the operations, checks the variant
is new (canonical JSON in a set) and records its provenance. Both run in turns on the same
examples, best of ``--repeats``, so a busy machine slows them alike; examples per second of each
and their ratio are printed side by side.
"""

import argparse
import copy
import json
import time
from pathlib import Path

from ftlab.augment.chat import augment_chat
from ftlab.chat.files import read_chat_jsonl

DATA = Path(__file__).resolve().parent.parent / "data" / "chat"


def examples(n):
    """n examples: the Marv training questions repeated, each copy's question made unique by a
    suffix so that dedupe does not make later copies cheap."""
    base = list(read_chat_jsonl(DATA / "marv_train.jsonl"))
    out = []
    for i in range(n):
        record = copy.deepcopy(base[i % len(base)])
        record["messages"][1]["content"] += f" (asked {i // len(base)} times before)"
        out.append(record)
    return out


def floor(records):
    return [json.dumps(copy.deepcopy(r), ensure_ascii=False) for r in records]


def augment(records, ops):
    result = augment_chat(records, ops, n_per_example=1, seed=0, rate=0.1, lexicon="builtin",
                          progress=False)
    lines = [json.dumps(r, ensure_ascii=False) for r in result.variants]
    return result, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--ops", default="synonym,typo")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ops = args.ops.split(",")
    records = examples(args.examples)
    augment(records[:50], ops)  # warm up: the lexicon is read once per process

    best = {"floor": float("inf"), "augment": float("inf")}
    for _ in range(args.repeats):
        start = time.perf_counter()
        floor(records)
        best["floor"] = min(best["floor"], time.perf_counter() - start)
        start = time.perf_counter()
        result, _ = augment(records, ops)
        best["augment"] = min(best["augment"], time.perf_counter() - start)

    n = len(records)
    print(f"{n} examples, ops={'+'.join(ops)}, one variant each "
          f"({len(result.variants)} kept, dropped: {result.dropped}); best of {args.repeats}")
    print(f"{'':32}{'seconds':>10}{'examples/s':>14}")
    print(f"{'floor: deepcopy + json.dumps':32}{best['floor']:>10.3f}{n / best['floor']:>14,.0f}")
    print(f"{'augment_chat + json.dumps':32}{best['augment']:>10.3f}{n / best['augment']:>14,.0f}")
    print(f"augment_chat ÷ floor (deepcopy + json.dumps of the same examples) = "
          f"{best['augment'] / best['floor']:.2f}x (target <= 4x)")


if __name__ == "__main__":
    main()
