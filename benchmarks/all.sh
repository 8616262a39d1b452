#!/usr/bin/env bash
# Every benchmark in turn, so that the README's performance table comes from one run on one machine.
set -euo pipefail
cd "$(dirname "$0")"
for bench in bench_*.py; do
  printf '\n=== %s\n' "$bench"
  python "$bench"
done
