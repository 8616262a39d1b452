"""ftlab.cross_entropy vs PyTorch (when installed), the naive numpy formula, and two floors.

    python benchmarks/bench_cross_entropy.py                 # (8192, 100_000) float32, ~3.3 GB
    python benchmarks/bench_cross_entropy.py --rows 1024     # smaller, for a quick look

The floors are what no implementation can beat by much: reading every logit once (the row
maximum) and one exp of every logit. Each method runs in its own process, so its peak memory is
measured cleanly: the growth of the process's peak resident size beyond the logits themselves,
printed in units of one logits array. Times are the best of --repeat runs; "ftlab ÷ it" divides
ftlab's time by the method's, measured in the same run.
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

METHODS = {
    "ftlab": "ftlab.cross_entropy",
    "torch": "PyTorch F.cross_entropy",
    "naive": "naive numpy -log(softmax)",
    "read": "floor: one read (row max)",
    "exp": "floor: one exp pass",
}


def _peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _run(method, logits, targets):
    if method == "ftlab":
        import ftlab

        return float(ftlab.cross_entropy(logits, targets))
    if method == "naive":
        # the textbook formula: softmax, then -log of the picked probability
        probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        return float(-np.log(probs[np.arange(len(targets)), targets]).mean())
    if method == "read":
        return float(logits.max(axis=-1).mean())
    if method == "exp":  # in row chunks into one small buffer, as ftlab does
        rows = max(1, (1 << 19) // logits[0].nbytes)
        buf = np.empty((rows, logits.shape[1]), dtype=logits.dtype)
        for start in range(0, len(logits), rows):
            chunk = logits[start:start + rows]
            np.exp(chunk, out=buf[:len(chunk)])
        return float("nan")
    import torch

    return float(torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(targets)))


def child(method, rows, classes, repeat):
    """Runs in a fresh process: make the logits, then time one method and note its extra peak."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((rows, classes), dtype=np.float32)
    targets = rng.integers(0, classes, size=rows)
    if method == "torch":
        import torch  # noqa: F401  (import before measuring, so its libraries are not counted)
    before = _peak_rss_bytes()
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        with np.errstate(all="ignore"):
            value = _run(method, logits, targets)
        times.append(time.perf_counter() - start)
    extra = max(0, _peak_rss_bytes() - before)
    print(json.dumps({"seconds": min(times), "extra_bytes": extra,
                      "logits_bytes": logits.nbytes, "loss": value}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=8192)
    ap.add_argument("--classes", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=METHODS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.rows, args.classes, args.repeat)

    print(f"cross-entropy of ({args.rows}, {args.classes}) float32 logits, "
          f"{args.rows * args.classes * 4 / 1e9:.2f} GB, best of {args.repeat}")
    results = {}
    for method in METHODS:
        cmd = [sys.executable, __file__, "--child", method, "--rows", str(args.rows),
               "--classes", str(args.classes), "--repeat", str(args.repeat)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            reason = "not installed" if "No module named" in proc.stderr else proc.stderr.strip()[-200:]
            print(f"{method:>6}: skipped ({reason})")
            continue
        results[method] = json.loads(proc.stdout.strip().splitlines()[-1])

    base = results["ftlab"]["seconds"]
    if "torch" in results:
        import torch

        METHODS["torch"] += f" ({torch.get_num_threads()} threads)"
    print(f"{'method':<36} {'seconds':>8} {'ftlab ÷ it':>11} {'extra peak memory':>24}")
    for method, r in results.items():
        extra = r["extra_bytes"] / r["logits_bytes"]
        print(f"{METHODS[method]:<36} {r['seconds']:8.3f} {base / r['seconds']:10.2f}x "
              f"{r['extra_bytes'] / 1e6:10.0f} MB = {extra:4.2f} logits")
    if "torch" in results:
        ratio = base / results["torch"]["seconds"]
        print(f"ftlab ÷ {METHODS['torch']} = {ratio:.2f}x (target <= 1x)")
    losses = {m: r["loss"] for m, r in results.items() if m in ("ftlab", "torch", "naive")}
    print("mean loss: " + ", ".join(f"{m} {v:.6f}" for m, v in losses.items()))


if __name__ == "__main__":
    main()
