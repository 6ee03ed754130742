#!/usr/bin/env bash
# Sets everything up and runs the test suite. Where nvcc is installed the CUDA module is
# forced, so every run proves the CUDA sources compile; GPU tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  export TRANSFER_FORCE_CUDA=1
  command -v nvcc >/dev/null 2>&1 || export PATH="/usr/local/cuda/bin:$PATH"
fi
bash scripts/setup.sh
.venv/bin/python -m pytest -q "$@"
