#!/usr/bin/env bash
# Sets up everything in the project folder: a virtual environment in .venv with the pinned
# CPU build of torch, the build tools, and transfer itself built in place (editable).
# Safe to run again: it reuses .venv and rebuilds incrementally.
# Environment: TRANSFER_FORCE_CUDA=1 / TRANSFER_NO_CUDA=1 steer the CUDA module (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# torch is pinned: an unpinned torch pulls a multi-GB CUDA build. Build tools are installed
# into the venv so the package builds without network-isolated build environments.
# TORCH_INDEX_URL picks the build of torch (README: "Which torch"); unset, pip's configured index.
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  "${PIP[@]}" install "torch==2.13.0" --index-url "$TORCH_INDEX_URL"
fi
"${PIP[@]}" install "torch==2.13.0" "setuptools>=77" wheel "pybind11>=2.12" "cmake>=3.18" ninja
"${PIP[@]}" install --no-build-isolation -e ".[test]"
.venv/bin/python -c "import transfer; print('transfer', transfer.__version__, '| CUDA module built:', transfer.cuda_built(), '| CUDA GPU:', transfer.cuda_available())"
