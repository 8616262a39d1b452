"""ftlab.load_run vs plain pandas.read_csv on the 1665-step OpenAI results CSV.

    python benchmarks/bench_load_run.py [--repeat 50]

load_run does more than read_csv (recognise the format, check every step and cell, rename to the
canonical columns, derive epochs), so the target is to stay within 2x of the bare read. The file is
the real recording in ../shared/recorded when present, else the shipped copy written back out in
OpenAI's layout (the same 1665 rows). Times are the best of --repeat rounds, each round timing every contender in turn.
"""

import argparse
import base64
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ftlab  # noqa: E402
from ftlab.runs.run import load_run  # noqa: E402

RECORDED = ROOT.parent / "shared" / "recorded" / "openai_sft_patent-insights_step_metrics.csv"


def best_times(repeat, fns):
    """Best time of each function, measured round-robin so that load from other processes on a
    shared machine hits every contender alike."""
    for fn in fns:
        fn()  # warm up: imports, caches
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = RECORDED
        if not path.is_file():
            shipped = ftlab.load_sample("patent-insights")
            path = shipped.to_openai_csv(Path(tmp) / "step_metrics.csv")
        encoded = Path(tmp) / "step_metrics_base64.csv"
        encoded.write_bytes(base64.b64encode(path.read_bytes()))
        saved = ftlab.load_sample("patent-insights").save(Path(tmp) / "run.csv")
        n = len(pd.read_csv(path))
        labels_fns = [
            ("pandas.read_csv (baseline)", lambda: pd.read_csv(path)),
            ("load_run(results CSV)", lambda: load_run(path)),
            ("load_run(base64 results CSV)", lambda: load_run(encoded)),
            ("load_run(ftlab run format)", lambda: load_run(saved)),
        ]
        times = best_times(args.repeat, [fn for _, fn in labels_fns])
        rows = [(label, t) for (label, _), t in zip(labels_fns, times)]
        baseline = rows[0][1]
    print(f"{path.name}: {n} steps, best of {args.repeat} rounds")
    for label, seconds in rows:
        print(f"  {label:32s} {seconds * 1000:7.2f} ms   {seconds / baseline:5.2f}x read_csv")
    ratio = rows[1][1] / baseline
    print(f"load_run ÷ pandas.read_csv (results CSV) = {ratio:.2f}x (target <= 2x) -> "
          f"{'OK' if ratio <= 2 else 'SLOWER THAN TARGET'}")


if __name__ == "__main__":
    main()
