"""Frames of a shot: what one frame's result carries over to the next.

Recolored one by one, the frames of a video flicker: the same content comes out in slightly
different colors in each frame, because every frame's matches and fits start afresh. Here
a frame keeps what the previous frame computed:

* the local methods (the neural transfer's color models, a colorization's chroma) keep it
  wherever the frame shows the same content: the values are warped along the optical flow
  between the two frames, and blended in where the warped previous frame looks like this one
  (new content, occlusions and cuts keep their own result) (:class:`Frame`, :func:`carry`);
* the classical methods, which map each color alike everywhere, keep the running map of
  colors (a LUT: :class:`Look`, :func:`transfer.lut.classical_frame`), less of it the less
  the frame's colors overlap the previous frame's (:func:`continuity`: none after a cut).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._native import _C
from .color import srgb_to_lab
from .errors import InputError
from .image import check_weight

#: Flow is computed at most this size (longest side): Lucas-Kanade on 256 x 256 takes about
#: 0.07 s here (3 warps), and the motion of smooth color models needs no finer resolution.
FLOW_SIZE = 256

#: Lucas-Kanade warps per pyramid level (scikit-image's default is 10): 3 give the same
#: flicker on the benchmark's frames (within 0.02), at a third of the flow's time.
FLOW_WARPS = 3

#: The flow counts as right where following it forward and then backward returns within
#: this many pixels (at the flow's size), falling off linearly.
FLOW_CONSISTENCY = 2.0

#: The carried values count as sure where the previous frame, warped by the flow, matches
#: this one: sureness falls from 1 to 0 as their CIELab difference rises to this many units.
TOLERANCE = 6.0


@dataclass(frozen=True)
class Frame:
    """What the next frame of a shot needs from this one (``report["frame"]``): the frame
    (float RGB in [0, 1], at the size its values are laid on), those values (H, W, K), and
    the scale at which each reference was matched (so that the next frame uses the same)."""

    image: np.ndarray
    values: np.ndarray
    ref_scales: list | None = None


def check_temporal(temporal) -> float:
    temporal = check_weight("temporal", temporal)
    if temporal > 1:
        raise InputError(f"temporal must be in [0, 1], got {temporal!r}")
    return temporal


def check_previous(previous, shape, temporal) -> float:
    """Checks ``previous`` (a :class:`Frame` laid on ``shape`` (H, W), or None) and
    ``temporal`` (in [0, 1]); returns the latter as a float."""
    temporal = check_temporal(temporal)
    if previous is not None:
        if not isinstance(previous, Frame):
            raise TypeError("previous must be the Frame of the preceding frame (report['frame'])")
        if previous.image.shape[:2] != tuple(shape[:2]):
            h, w = previous.image.shape[:2]
            raise InputError(f"previous is a frame of {w}x{h} at the working size, this one "
                             f"{shape[1]}x{shape[0]}: previous must be the preceding frame of the "
                             "same shot")
    return temporal


@dataclass(frozen=True)
class Look:
    """What the next frame of a shot needs from a classical transfer of this one
    (``report["frame"]`` of :func:`transfer.lut.classical_frame`): the running map of colors
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


def carry(image: np.ndarray, previous: Frame):
    """The previous frame's values carried onto ``image``: ``(values, sureness)``, both laid
    on ``image`` (float RGB in [0, 1], the previous frame's size).

    The motion comes from optical flow (iterative Lucas-Kanade, scikit-image) between the
    frames' CIELab lightness at :data:`FLOW_SIZE`; the previous values and frame are warped
    by it (bilinear), and ``sureness`` in [0, 1] says where the warped frame matches this one
    (occlusions, new content and cuts do not): 1 - |Lab difference| / :data:`TOLERANCE`,
    times the flow's forward-backward consistency (:data:`FLOW_CONSISTENCY`), 0 where the
    flow leaves the frame, blurred by one pixel."""
    from scipy.ndimage import gaussian_filter, map_coordinates
    from skimage.registration import optical_flow_ilk
    from skimage.transform import resize

    height, width = image.shape[:2]
    lab_now, lab_before = srgb_to_lab(image), srgb_to_lab(previous.image)
    scale = min(1.0, FLOW_SIZE / max(height, width))
    small = (max(1, round(height * scale)), max(1, round(width * scale)))
    lightness = [resize(x[..., 0], small, anti_aliasing=scale < 1) for x in (lab_now, lab_before)]
    if min(small) >= 4:
        # now(p) ~ before(p + flow), and back
        flow = optical_flow_ilk(lightness[0], lightness[1], radius=7, num_warp=FLOW_WARPS)
        back = optical_flow_ilk(lightness[1], lightness[0], radius=7, num_warp=FLOW_WARPS)
        # forward-backward check: going there and back must return (in flow pixels), else the
        # flow is wrong there (large motion, occlusion) even where the colors happen to agree
        grid = np.indices(small, dtype=np.float32)
        returned = flow + np.stack([map_coordinates(b, grid + flow, order=1, mode="nearest") for b in back])
        consistent = np.clip(1.0 - np.sqrt((returned**2).sum(axis=0)) / FLOW_CONSISTENCY, 0, 1)
    else:  # too small for gradients: no motion (the photometric check still applies)
        flow = np.zeros((2,) + small, np.float32)
        consistent = np.ones(small, np.float32)
    flow = _C.resize_bilinear(np.ascontiguousarray(np.moveaxis(flow, 0, -1), dtype=np.float32), height, width)
    consistent = _C.resize_bilinear(np.ascontiguousarray(consistent[..., None], dtype=np.float32), height, width)[..., 0]
    rows, cols = np.indices((height, width), dtype=np.float32)
    at = [rows + flow[..., 0] * (height / small[0]), cols + flow[..., 1] * (width / small[1])]

    def warped(img):
        return np.stack([map_coordinates(img[..., c], at, order=1, mode="nearest")
                         for c in range(img.shape[2])], axis=-1).astype(np.float32)

    difference = lab_now - warped(lab_before)
    sureness = 1.0 - np.sqrt((difference**2).sum(axis=2)) / TOLERANCE
    inside = (at[0] >= 0) & (at[0] <= height - 1) & (at[1] >= 0) & (at[1] <= width - 1)
    sureness = gaussian_filter(np.clip(sureness, 0, 1) * consistent * inside, 1.0)
    return warped(previous.values), sureness.astype(np.float32)


def carry_over(values: np.ndarray, image: np.ndarray, previous: Frame | None, temporal: float):
    """``values`` (laid on ``image``) with the previous frame's carried in at a share of
    ``temporal`` x sureness: ``(blended, share)``; unchanged (share None) without
    ``previous``."""
    if previous is None:
        return values, None
    carried, sureness = carry(image, previous)
    share = (temporal * sureness)[..., None]
    return values + share * (carried - values), share[..., 0]


def chain(transfer, frames, refs, *, temporal: float, scaled: bool = True, **options):
    """Runs ``transfer`` (:func:`transfer.neural_transfer`, :func:`transfer.colorize` or
    :func:`transfer.lut.classical_frame`) on
    the frames of one shot in order, each given the previous frame's ``report["frame"]`` as
    ``previous``; yields each result. With ``scaled``, ``ref_scale='auto'`` is decided on the
    first frame and kept for the others."""
    if "report" in options or "previous" in options:
        raise InputError("the frames are chained here: report and previous are not options")
    previous = None
    for frame in frames:
        report = {}
        yield transfer(frame, refs, previous=previous, temporal=temporal, report=report, **options)
        previous = report["frame"]
        if scaled and isinstance(options.get("ref_scale", "auto"), str):
            options["ref_scale"] = report["ref_scales"]

