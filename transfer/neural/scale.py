"""The scale of a reference relative to the target, for the matching of deep features.

Deep features are not scale-invariant: a reference photographed closer than the target, or
at a higher resolution, shows the same things larger in pixels, and its patches then match
the target's poorly. Both deep pipelines (colorization and neural transfer) therefore resize
each reference before matching: by a factor the caller gives, or ('auto') by the factor
whose matches are the most confident.
"""

from __future__ import annotations

import numpy as np

from .. import nnf
from ..color import gray3
from ..errors import InputError
from ..pyramid import resize

#: Factors that ref_scale="auto" tries: a reference shot up to 2.8x closer than the target,
#: or at up to 2.8x its resolution, is shrunk to the target's scale (with the reference at
#: twice the target's resolution, benchmark category reference-2x of the colorization: mean
#: CIEDE2000 4.08 as given, 3.31 shrunk). Enlarging is not tried automatically: an enlarged
#: reference is blurred, and blurred features (like a larger reference, with more candidates
#: per target pixel) match unrelated content better, which the scores cannot tell from a true
#: scale match (a factor > 1 does it on request).
SCALE_CANDIDATES = (0.35, 0.5, 0.71, 1.0)
_LEVEL = 3  # the pyramid level the candidates are compared at
_SIZE = 256  # ... with the target's longest side brought to this
MIN_SIDE = 16  # smallest reference side (pixels) worth matching


def scaled_shape(shape, s: float) -> tuple[int, int]:
    return max(1, round(shape[0] * s)), max(1, round(shape[1] * s))


def match_confidence(f_ab: np.ndarray, f_ba: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Similarity x forward-backward consistency of every match target -> reference."""
    rows, cols = np.indices(f_ab.shape[:2])
    back = f_ba[f_ab[..., 0], f_ab[..., 1]]  # target -> reference -> target
    consistency = np.exp(-(np.hypot(back[..., 0] - rows, back[..., 1] - cols) / 2.0) ** 2)
    return np.clip(-dist, 0, 1) * consistency


def reference_scale(net, target_gray3: np.ndarray, ref_rgb: np.ndarray, *,
                    candidates=SCALE_CANDIDATES, seed: int = 0, device: str = "auto"):
    """The factor by which to resize ``ref_rgb`` so that its content appears at the size it
    has in the target, and the score of each candidate factor.

    Every candidate is scored by what the pipelines rely on: the mean over the target of
    :func:`match_confidence` of the luminance features, at a coarse level and on copies
    brought to a common small size (the relative scale is what matters). Candidates that
    would make the reference's shortest side fall under MIN_SIDE pixels are skipped; 1.0 is
    always tried."""
    shrink = min(1.0, _SIZE / max(target_gray3.shape[:2]))
    small_t = np.clip(resize(target_gray3, scaled_shape(target_gray3.shape, shrink)), 0, 1)
    f_t = net.features(small_t, (_LEVEL,))[_LEVEL].numpy()
    gray_ref = gray3(ref_rgb)
    scores = {}
    for s in candidates:
        if s != 1.0 and min(scaled_shape(ref_rgb.shape, s)) < MIN_SIDE:
            continue
        small_r = np.clip(resize(gray_ref, scaled_shape(ref_rgb.shape, s * shrink)), 0, 1)
        f_r = net.features(small_r, (_LEVEL,))[_LEVEL].numpy()
        f_ab, f_ba = nnf.match_both_ways(f_t, f_r, seed=seed, device=device)
        scores[s] = float(match_confidence(f_ab.nnf, f_ba.nnf, f_ab.dist).mean())
    return max(scores, key=scores.get), scores


def check_ref_scale(ref_scale) -> None:
    """'auto', a factor > 0, or one factor > 0 per reference (a sequence)."""
    if isinstance(ref_scale, str) and ref_scale == "auto":
        return
    values = list(ref_scale) if isinstance(ref_scale, (list, tuple, np.ndarray)) else [ref_scale]
    try:
        ok = bool(values) and all(not isinstance(v, str) and np.isfinite(float(v)) and float(v) > 0
                                  for v in values)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"ref_scale must be 'auto', a number > 0 or one such number per "
                         f"reference, got {ref_scale!r}")


def scale_references(net, target_gray3: np.ndarray, ref_rgbs: list, ref_scale, *, max_size: int,
                     seed: int = 0, device: str = "auto", report: dict | None = None) -> list:
    """``ref_rgbs`` (float RGB at working size) resized by ``ref_scale`` ('auto' or a factor
    that passed :func:`check_ref_scale`, which the callers run before any heavy work; see
    :func:`reference_scale`); the factors go to report["ref_scales"] (with 'auto' also the
    candidates' scores to report["ref_scale_scores"])."""
    if isinstance(ref_scale, str):
        picks = [reference_scale(net, target_gray3, x, seed=seed, device=device) for x in ref_rgbs]
        factors = [f for f, _ in picks]
        if report is not None:
            report["ref_scale_scores"] = [scores for _, scores in picks]
    elif isinstance(ref_scale, (list, tuple, np.ndarray)):
        if len(ref_scale) != len(ref_rgbs):
            raise InputError(f"ref_scale has {len(ref_scale)} factors for {len(ref_rgbs)} reference(s)")
        factors = [float(f) for f in ref_scale]
    else:
        factors = [float(ref_scale)] * len(ref_rgbs)
    out = []
    for i, (rgb, f) in enumerate(zip(ref_rgbs, factors)):
        if f != 1.0:
            shape = scaled_shape(rgb.shape, f)
            if min(shape) < MIN_SIDE or max(shape) > 2 * max_size:
                raise InputError(f"ref_scale {f:g} makes reference {i} {shape[1]}x{shape[0]} pixels; "
                                 f"it must stay between {MIN_SIDE} and 2 * max_size = {2 * max_size}")
            rgb = np.clip(resize(rgb, shape), 0, 1)
        out.append(rgb)
    if report is not None:
        report["ref_scales"] = factors
    return out
