"""What one frame's local result carries over to the next: the neural transfer's color
models or a colorization's chroma, warped along the optical flow between the two frames and
blended in where the warped previous frame looks like this one (new content, occlusions and
cuts keep their own result)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._native import _C
from ..color import srgb_to_lab
from ..errors import InputError
from ..shot import check_temporal

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
