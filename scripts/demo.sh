#!/usr/bin/env bash
# Sets everything up, then recolors the bundled example photo with two references.
# The result is written to out/astronaut.png (replaced on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/python -m transfer --src examples/astronaut.jpg --refs examples/coffee.jpg examples/rocket.jpg \
  --out out/astronaut.png --overwrite
