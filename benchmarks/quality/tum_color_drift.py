"""How differently the TUM camera renders the same surface in two frames six seconds apart
(the colorization benchmark's other-frame category): mean CIELab of patches of the cork wall
behind the desk, in full-resolution (640 x 480) pixel coordinates.

    .venv/bin/python benchmarks/quality/tum_color_drift.py
"""

import sys
from pathlib import Path

import imageio.v3 as iio
from skimage.color import rgb2lab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import SHARED  # noqa: E402

# (frame index, rows, columns): bare wall right of the bottles in the first frame, and two
# bare patches of the same wall in the frame six seconds later (camera closer)
PATCHES = [(0, (20, 70), (330, 450)), (2, (20, 80), (380, 500)), (2, (20, 80), (520, 560))]


def main():
    frames = sorted((SHARED / "tum_freiburg").glob("*.png"))
    if len(frames) < 3:
        sys.exit("needs ../shared/data/tum_freiburg")
    for i, (y0, y1), (x0, x1) in PATCHES:
        lab = rgb2lab(iio.imread(frames[i])[y0:y1, x0:x1, :3]).reshape(-1, 3).mean(axis=0)
        print(f"frame {i} rows {y0}-{y1} cols {x0}-{x1}: L* {lab[0]:.1f} a* {lab[1]:.1f} b* {lab[2]:.1f}")


if __name__ == "__main__":
    main()
