"""validate_chat speed vs the floor of reading, parsing and tokenizing, and its memory as files grow.

    python benchmarks/bench_validate_chat.py [--examples 50000]

Floor: read the file line by line + json.loads + tiktoken-encode every content string — work any
validator that counts tokens must do. validate_chat adds every check, the cookbook's token count,
duplicate/leakage hashes and the file-level checks. Target: within 2× of the floor. Memory: the
tracemalloc peak of validate_chat on a file and on one 5× larger; streaming keeps it nearly flat
(only a few integers per example are kept), while the file itself grows 5×.
"""

import argparse
import json
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from ftlab.chat.validate import validate_chat
from ftlab.chat.tokens import get_encoding

SYSTEM = "You are Marv, an assistant who always gives the correct answer, but is sarcastic about it."


def make_file(path, n, seed=0):
    """n varied chat examples built from words of Python's own documentation (offline corpus)."""
    from pydoc_data.topics import topics

    words = " ".join(topics.values()).split()
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            q = " ".join(rng.choices(words, k=rng.randint(6, 30))) + "?"
            a = " ".join(rng.choices(words, k=rng.randint(15, 80))) + "."
            msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q},
                    {"role": "assistant", "content": a}]
            if i % 10 == 0:  # some multi-turn examples
                msgs += [{"role": "user", "content": "And why?"}, {"role": "assistant", "content": a[::-1]}]
            f.write(json.dumps({"messages": msgs}, ensure_ascii=False) + "\n")
    return path


def floor(path, enc):
    n = 0
    with open(path, "rb") as f:
        for line in f:
            for m in json.loads(line)["messages"]:
                n += len(enc.encode_ordinary(m["content"]))
    return n


def interleaved_best(fns, repeats):
    """Best time of each function, running them in turns so a busy machine slows both alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


def peak_mib(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    enc = get_encoding("o200k_base")
    with tempfile.TemporaryDirectory() as tmp:
        big = make_file(Path(tmp) / "big.jsonl", args.examples)
        small = make_file(Path(tmp) / "small.jsonl", args.examples // 5)
        mib = big.stat().st_size / 2**20
        report = validate_chat(big, progress=False)  # warm up (and check the generated data is clean)
        assert report.ok and report.n_examples == args.examples, report
        t_floor, t_validate = interleaved_best(
            [lambda: floor(big, enc), lambda: validate_chat(big, progress=False)], args.repeats)
        print(f"{args.examples:,} examples, {mib:.1f} MiB, {report.n_tokens:,} tokens (o200k_base)")
        print(f"floor (read + json.loads + encode contents): {t_floor:.2f} s")
        print(f"validate_chat:                               {t_validate:.2f} s")
        print(f"validate_chat ÷ floor (read + json.loads + encode contents) = "
              f"{t_validate / t_floor:.2f}x (target <= 2x)")
        p_small = peak_mib(lambda: validate_chat(small, progress=False))
        p_big = peak_mib(lambda: validate_chat(big, progress=False))
        print(f"peak memory (tracemalloc): {p_small:.1f} MiB for {args.examples // 5:,} examples "
              f"({small.stat().st_size / 2**20:.1f} MiB file), {p_big:.1f} MiB for {args.examples:,} "
              f"({mib:.1f} MiB file)")
        per_example = (p_big - p_small) * 2**20 / (args.examples - args.examples // 5)
        print(f"memory growth: {per_example:.0f} bytes per extra example "
              f"({(p_big - p_small) / (mib * 4 / 5):.1%} of the extra file size); the file grew x5, "
              f"the peak x{p_big / p_small:.2f}")
        from ftlab.chat.files import read_chat_jsonl

        p_load = peak_mib(lambda: read_chat_jsonl(small))
        print(f"for contrast, loading the {args.examples // 5:,}-example file into memory "
              f"(read_chat_jsonl) peaks at {p_load:.1f} MiB")
    print("(validate_chat with progress=True, the default for files over 20 MB, shows a tqdm bar)")


if __name__ == "__main__":
    main()
