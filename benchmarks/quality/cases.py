"""Ground-truth cases for color transfer, built from real photos.

A scene gives two overlapping views in true colors. The source is view A recolored, either
by a spatially varying change (different Lab rotations, chroma scales and lightness curves in
different regions, so that no global mapping undoes it) or by one global change; the
references are other views in true colors; the ground truth is view A itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from skimage import data
from skimage.color import lab2rgb, rgb2lab
from skimage.transform import resize

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
SIZE = 256  # longest side of the views


@dataclass
class Case:
    name: str
    kind: str  # "local" or "global"
    src: np.ndarray
    refs: list
    truth: np.ndarray
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _scaled(img, size=SIZE):
    h, w = img.shape[:2]
    s = size / max(h, w)
    return (resize(img, (round(h * s), round(w * s)), anti_aliasing=True) * 255).round().astype(np.uint8)


def lab_change(img, angle, chroma, gamma):
    """Rotate (a, b) by ``angle`` radians, scale chroma, apply L' = 100 (L / 100)^gamma."""
    lab = rgb2lab(img)
    a, b = lab[..., 1], lab[..., 2]
    c, s = np.cos(angle), np.sin(angle)
    lab[..., 1], lab[..., 2] = chroma * (c * a - s * b), chroma * (s * a + c * b)
    lab[..., 0] = 100 * (np.clip(lab[..., 0], 0, 100) / 100) ** gamma
    return (np.clip(lab2rgb(lab), 0, 1) * 255).round().astype(np.uint8)


REGION_CHANGES = [(2.2, 0.8, 1.0), (-1.4, 1.2, 0.8), (0.9, 0.6, 1.25), (-2.6, 1.0, 1.0)]


def local_change(img):
    """Different changes in the four quadrants, blended over a soft 16-pixel border."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    soft = lambda t: 1 / (1 + np.exp(-t / 4.0))  # noqa: E731
    wy, wx = soft(yy - h / 2), soft(xx - w / 2)
    weights = [(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx]
    out = sum(wt[..., None] * lab_change(img, *chg).astype(np.float64)
              for wt, chg in zip(weights, REGION_CHANGES))
    return np.clip(out, 0, 255).round().astype(np.uint8)


def global_change(img):
    return lab_change(img, 1.6, 0.8, 1.1)


def _views_from_photo(photo, shift=0.12):
    """Two overlapping crops of one photo: A (left/top part) and B (shifted)."""
    h, w = photo.shape[:2]
    dy, dx = int(h * shift), int(w * shift)
    return photo[: h - dy, : w - dx], photo[dy:, dx:]


def scenes(middlebury: bool = True, size: int = SIZE):
    """(name, view A, view B, distractor) with views at ``size`` (longest side); the
    Middlebury pairs when ``middlebury`` and ../shared/data is present."""
    out = []
    for name, distractor in [("astronaut", "coffee"), ("coffee", "rocket"), ("chelsea", "astronaut"),
                             ("rocket", "chelsea")]:
        a, b = _views_from_photo(getattr(data, name)())
        out.append((name, _scaled(a, size), _scaled(b, size), _scaled(getattr(data, distractor)(), size)))
    left, right, _ = data.stereo_motorcycle()
    out.append(("motorcycle", _scaled(left, size), _scaled(right, size), _scaled(data.coffee(), size)))
    for scene in ("teddy", "cones") if middlebury else ():
        folder = SHARED / "middlebury2003" / scene
        if folder.is_dir():
            import imageio.v3 as iio

            out.append((f"middlebury-{scene}", _scaled(iio.imread(folder / "im2.png"), size),
                        _scaled(iio.imread(folder / "im6.png"), size), _scaled(data.chelsea(), size)))
    return out


def build_cases():
    cases = []
    fine = {name: view_b for name, _, view_b, _ in scenes(size=2 * SIZE)}
    for name, view_a, view_b, distractor in scenes():
        src = local_change(view_a)
        h, w = view_b.shape[:2]
        cases.append(Case(f"{name}/local-1ref", "local", src, [view_b], view_a))
        # the reference at twice the source's resolution (its content twice as large)
        cases.append(Case(f"{name}/local-ref2x", "local", src, [fine[name]], view_a))
        # two references, each showing about half of the scene
        cases.append(Case(f"{name}/local-2refs", "local", src,
                          [view_b[:, : w * 3 // 5], view_b[:, w * 2 // 5:]], view_a))
        cases.append(Case(f"{name}/local-distractor", "local", src, [view_b, distractor], view_a))
        cases.append(Case(f"{name}/global-1ref", "global", global_change(view_a), [view_b], view_a))
    return cases
