"""ftlab.load_run vs plain pandas.read_csv on the 1665-step OpenAI results CSV.

    python benchmarks/bench_load_run.py [--repeat 50]

load_run does more than read_csv (recognise the format, check every step and cell, rename to the
canonical columns, derive epochs), so the target is to stay within 3x of the bare read. The file is
the real recording in ../shared/recorded when present, else the shipped copy written back out in
OpenAI's layout (the same 1665 rows). Times are the best of --repeat runs, measured side by side.
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
from ftlab.runs import load_run  # noqa: E402

RECORDED = ROOT.parent / "shared" / "recorded" / "openai_sft_patent-insights_step_metrics.csv"


def best_of(repeat, fn):
    fn()  # warm up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = RECORDED
        if not path.is_file():
            path = ftlab.load_sample("patent-insights").to_openai_csv(Path(tmp) / "step_metrics.csv")
        encoded = Path(tmp) / "step_metrics_base64.csv"
        encoded.write_bytes(base64.b64encode(path.read_bytes()))
        saved = ftlab.load_sample("patent-insights").save(Path(tmp) / "run.csv")
        n = len(pd.read_csv(path))
        baseline = best_of(args.repeat, lambda: pd.read_csv(path))
        rows = [
            ("pandas.read_csv (baseline)", baseline),
            ("load_run(results CSV)", best_of(args.repeat, lambda: load_run(path))),
            ("load_run(base64 results CSV)", best_of(args.repeat, lambda: load_run(encoded))),
            ("load_run(ftlab run format)", best_of(args.repeat, lambda: load_run(saved))),
        ]
    print(f"{path.name}: {n} steps, best of {args.repeat} runs")
    for label, seconds in rows:
        print(f"  {label:32s} {seconds * 1000:7.2f} ms   {seconds / baseline:5.2f}x read_csv")
    ratio = rows[1][1] / baseline
    print(f"load_run / read_csv = {ratio:.2f}x (target: within 3x) -> "
          f"{'OK' if ratio <= 3 else 'SLOWER THAN TARGET'}")


if __name__ == "__main__":
    main()
