#!/usr/bin/env bash
# Colab-compatibility run: a second virtual environment with Google Colab's versions
# (.ci/colab-versions.txt), ftlab installed the way the notebooks' setup cell installs it in
# Colab, a check that no Colab package changed, then every notebook and the widget tests on it.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS=.ci/colab-versions.txt

VENV="$(mktemp -d)/colab"
python3 -m venv "$VENV"
# shellcheck disable=SC1091
source "$VENV/bin/activate"
pip install -q --upgrade pip
pip install -q -r "$PINS"
# Colab also ships these dependencies of ftlab (any recent version).
pip install -q -c "$PINS" openai tqdm threadpoolctl

pinned() { pip freeze | grep -iE "^($(grep -v '^#' "$PINS" | cut -d= -f1 | paste -sd'|'))==" | tr 'A-Z_' 'a-z-' | sort; }
pinned > "$VENV/before.txt"

# The setup cell's own commands, with this checkout in place of the GitHub URL.
python - <<'PY' > "$VENV/setup_commands.sh"
import re
from ftlab.course.facts import SETUP_CELL
for line in SETUP_CELL.splitlines():
    if line.strip().startswith("%pip install"):
        print(re.sub(r'"git\+[^"]+"', "-e .", line.strip().replace("%pip", "pip")))
PY
cat "$VENV/setup_commands.sh"
PYTHONPATH=. bash "$VENV/setup_commands.sh"
# ftlab's full dependency list must also resolve without moving a Colab package.
pip install -q --dry-run -c "$PINS" -e . >/dev/null
pip install -q -c "$PINS" pytest pytest-xdist nbval hypothesis pyyaml nbformat nbclient

pinned > "$VENV/after.txt"
if ! diff -u "$VENV/before.txt" "$VENV/after.txt"; then
  echo "Installing ftlab changed Colab's packages (above)." >&2
  exit 1
fi
echo "Colab's versions unchanged:"; cat "$VENV/after.txt"

# Every notebook, plus the tests that build and drive the widgets, on Colab's stack.
pytest -p no:cacheprovider notebooks tests -k "notebook or ipynb or widget or explorer"
