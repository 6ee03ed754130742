#!/usr/bin/env bash
# On a machine with a CUDA GPU (not CI's): build with the CUDA module forced, run the whole
# test suite (the CUDA tests run instead of skipping, and `device="auto"` puts the deep
# methods' PatchMatch on the GPU), the NNF benchmark with its CUDA entries, the converged
# solves of the affine models and the WLS (multigrid on CPU and GPU), BDS voting and the
# models' application at 4K on both, and the README demo on the GPU. Uses the Python it is
# given (PYTHON, default python3) as it is: no venv, no downloads. Results go to OUT_DIR
# (default out/gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
command -v nvcc >/dev/null 2>&1 || export PATH="/usr/local/cuda/bin:$PATH"
OUT_DIR=${OUT_DIR:-out/gpu}
mkdir -p "$OUT_DIR"
status=0

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c "import sys, torch, numpy, skimage; print(sys.version.split()[0], 'torch', torch.__version__, 'numpy', numpy.__version__, 'skimage', skimage.__version__)"

echo "== build (CUDA forced)"
TRANSFER_FORCE_CUDA=1 "$PY" setup.py -q build_ext --inplace >"$OUT_DIR/build.log" 2>&1 \
  || { tail -40 "$OUT_DIR/build.log"; exit 1; }
"$PY" -c "import transfer; assert transfer.cuda_available(), 'no GPU visible to the CUDA module'; print('cuda available')" || exit 1

echo "== tests"
"$PY" -m pytest tests -q -ra -p no:cacheprovider 2>&1 | tee "$OUT_DIR/tests.log" | tail -25
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== NNF benchmark"
"$PY" -m pytest benchmarks/nnf -q -p no:cacheprovider --benchmark-json="$OUT_DIR/nnf.json" >"$OUT_DIR/nnf.log" 2>&1 || status=1
"$PY" benchmarks/summarize.py "$OUT_DIR/nnf.json" || tail -20 "$OUT_DIR/nnf.log"

echo "== converged solves (multigrid on the CPU and on the GPU), BDS voting, the models applied at 4K"
"$PY" -m pytest benchmarks/neural -k "converged or bds_vote or apply_4k" -q -p no:cacheprovider --benchmark-json="$OUT_DIR/solve.json" >"$OUT_DIR/solve.log" 2>&1 || status=1
"$PY" benchmarks/summarize.py "$OUT_DIR/solve.json" || tail -20 "$OUT_DIR/solve.log"

echo "== demo on the GPU"
for device in cuda cpu; do
  start=$SECONDS
  "$PY" -m transfer --src examples/astronaut.jpg --refs examples/coffee.jpg examples/rocket.jpg \
    --device $device --out "$OUT_DIR/astronaut_$device.png" --overwrite --report "$OUT_DIR/report_$device" \
    || status=1
  echo "demo on $device: $((SECONDS - start)) s (CLI, including start-up)"
done
"$PY" - "$OUT_DIR" <<'EOF' || status=1
import sys
import imageio.v3 as iio
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
d = sys.argv[1]
gpu, cpu = (iio.imread(f"{d}/astronaut_{k}.png") for k in ("cuda", "cpu"))
de = deltaE_ciede2000(rgb2lab(gpu), rgb2lab(cpu))
print(f"demo, GPU against CPU result: mean CIEDE2000 {de.mean():.3f}, 99th percentile {np.percentile(de, 99):.3f}")
EOF
exit $status
