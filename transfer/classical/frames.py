"""The frames of a shot recolored by a classical method without flicker: each frame's own
fit blended with the running look of the frames before (a LUT), less of it the less the
frame's colors overlap the previous frame's (:func:`continuity`: none after a cut)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._native import _C
from ..errors import InputError
from ..image import finish
from ..shot import chain, check_temporal
from .lut import identity_lut
from .methods import METHODS, checked_inputs, fitted_map, regrain_image

#: Points per axis of the running look of :func:`classical_frame` (65: histogram matching's
#: and IDT's curves within about a level on average; docs/api.md).
LOOK_SIZE = 65


def classical_frame(src, refs, *, method: str = "mkl", previous: Look | None = None,
                    temporal: float = 0.9, report: dict | None = None, weights=None,
                    strength: float = 1.0, iterations: int = 10, bins: int = 300,
                    regrain: bool = True, seed: int = 0, space: str = "lab") -> np.ndarray:
    """A frame of a shot recolored by a classical method, consistently with the frames before.

    Fitted on each frame alone, a classical transfer follows the frame's statistics: when an
    object comes in or the camera pans, the map of colors moves, and the whole frame changes
    color (flicker). Here the frame's own map is blended with the running look of the frames
    before it (``previous``, a LUT) at a share of ``temporal`` times :func:`continuity`, which
    is 1 when the two frames' colors overlap as in one shot and 0 after a cut. The first frame
    (no ``previous``) and frames after a cut come out as the method alone gives them.

    Parameters
    ----------
    src, refs, weights, strength
        As :func:`transfer.reinhard`; frames of a shot may differ in size (the look is a map of
        colors).
    method : {'mkl', 'reinhard', 'histogram', 'idt'}
        The classical method.
    previous : transfer.classical.frames.Look, optional
        ``report["frame"]`` of the previous frame.
    temporal : float in [0, 1]
        Share of the running look where the frames are one shot (default 0.9; 1 keeps the first
        frame's look for the whole shot, 0 is each frame alone).
    report : dict, optional
        Filled with ``"frame"`` (the :class:`~transfer.classical.frames.Look` for the next frame) and
        ``"temporal"`` (the share of the look taken).
    iterations, bins, regrain, seed
        IDT's (:func:`transfer.idt`); its grain reduction applies to the blended colors.
    space
        Reinhard's.

    Returns
    -------
    ndarray
        As the method.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(sorted(METHODS))}")
    temporal = check_temporal(temporal)
    if previous is not None and not isinstance(previous, Look):
        raise TypeError("previous must be the Look of the preceding frame (report['frame'])")
    s, rs, w, strength = checked_inputs(src, refs, weights, strength)
    fit = fitted_map(s, rs, w, method, iterations=iterations, bins=bins, seed=seed, space=space)
    mapped = np.clip(fit(s.rgb.reshape(-1, 3)), 0.0, 1.0).reshape(s.rgb.shape)
    histogram = color_histogram(s.rgb, None if s.alpha is None else s.alpha > 0)
    share = 0.0 if previous is None else temporal * continuity(previous.histogram, histogram)
    if share > 0:
        carried = _C.apply_lut3d(s.rgb, previous.lut)
        mapped += np.float32(share) * (carried - mapped)
    if method == "idt" and regrain:
        mapped = regrain_image(s.rgb, mapped)
    if report is not None:  # the look for the next frame: only a caller that chains needs it
        look = np.clip(fit(identity_lut(LOOK_SIZE).reshape(-1, 3)), 0.0, 1.0).reshape(
            (LOOK_SIZE,) * 3 + (3,))
        if share > 0:
            look += np.float32(share) * (previous.lut - look)
        report.update(frame=Look(look.astype(np.float32), histogram), temporal=share)
    return finish(s, mapped, strength)


def classical_frame_look(src, refs, *, previous: Look | None = None, temporal: float = 0.9,
                         **options):
    """One frame of a shot: ``(result, look)``, where ``look`` is what the next frame takes as
    ``previous``. ``options`` are :func:`classical_frame`'s."""
    report = {}
    result = classical_frame(src, refs, previous=previous, temporal=temporal, report=report, **options)
    return result, report["frame"]


def classical_frames(frames, refs, *, method: str = "mkl", temporal: float = 0.9, **options):
    """The frames of one shot (an iterable of images, in order) recolored by a classical
    ``method`` without flicker: a generator of the results of :func:`classical_frame`, each
    frame given the previous one's look. ``options`` as :func:`classical_frame`'s."""
    return chain(classical_frame, frames, refs, temporal=temporal, scaled=False, method=method, **options)


@dataclass(frozen=True)
class Look:
    """What the next frame of a shot needs from a classical transfer of this one
    (``report["frame"]`` of :func:`transfer.classical.frames.classical_frame`): the running map of colors
    as a LUT (N, N, N, 3), and the frame's coarse color histogram (:func:`color_histogram`)."""

    lut: np.ndarray
    histogram: np.ndarray


#: Bins per RGB channel of the histograms that :func:`continuity` compares.
HISTOGRAM_BINS = 16


#: :func:`continuity` is 0 where consecutive frames' histograms overlap by at most
#: ``CUT_OVERLAP`` and 1 from ``SHOT_OVERLAP`` on. Measured overlaps (docs/api.md): a
#: pan 3-48 pixels a frame 0.90-0.99, sensor noise (sigma 4 levels) 0.88, an object filling a
#: fifth of the frame 0.80, exposure up 10% 0.60, frames of one room 3 s apart 0.53-0.80,
#: unrelated photos 0.04-0.37.
CUT_OVERLAP, SHOT_OVERLAP = 0.4, 0.7


#: :func:`color_histogram` counts about this many pixels at most (every k-th row and column).
HISTOGRAM_PIXELS = 1 << 17


def color_histogram(rgb: np.ndarray, visible=None) -> np.ndarray:
    """The normalised 3-D histogram (:data:`HISTOGRAM_BINS` per channel, flattened) of float
    RGB in [0, 1] ``rgb`` (H, W, 3), over the pixels where ``visible`` (a boolean mask (H, W),
    or None for all); large images on a regular subsample (:data:`HISTOGRAM_PIXELS`)."""
    bins = HISTOGRAM_BINS
    k = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / HISTOGRAM_PIXELS)))
    q = np.clip((rgb[::k, ::k].reshape(-1, 3) * bins).astype(np.int64), 0, bins - 1)
    if visible is not None:
        q = q[visible[::k, ::k].reshape(-1)]
    counts = np.bincount((q[:, 0] * bins + q[:, 1]) * bins + q[:, 2], minlength=bins**3)
    return (counts / max(1, counts.sum())).astype(np.float32)


def continuity(before: np.ndarray, now: np.ndarray) -> float:
    """How much two consecutive frames are one shot, from their colors: 0 (a cut) to 1, by
    the overlap of their :func:`color_histogram` (the sum of the bins' minima), falling
    linearly from :data:`SHOT_OVERLAP` to :data:`CUT_OVERLAP`."""
    overlap = float(np.minimum(before, now).sum())
    return float(np.clip((overlap - CUT_OVERLAP) / (SHOT_OVERLAP - CUT_OVERLAP), 0.0, 1.0))
