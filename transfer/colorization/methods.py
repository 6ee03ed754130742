"""Colorization of gray images, by method; and the frames of a film, colored consistently."""

from __future__ import annotations

import numpy as np

from ..color import srgb_to_lab
from ..errors import InputError
from ..image import check_strength, tensors_in_out, to_float
from ..neural.frames import Frame, carry_over, check_previous
from ..shot import chain
from .exemplar import exemplar, semantic
from .gray import compose, finish_gray, gray_input, gray_lightness
from .welsh import welsh

METHODS = {"exemplar": exemplar, "semantic": semantic, "welsh": welsh}


@tensors_in_out
def colorize(gray, refs, *, method: str = "exemplar", strength: float = 1.0, previous=None,
             temporal: float = 0.9, **options) -> np.ndarray:
    """Colorize a gray image from color references; ``method`` is 'exemplar' (default),
    'semantic' or 'welsh'. ``strength`` in [0, 1] scales the colors' chroma (CIELab a and
    b): 0 gives the gray image back, 1 (default) the full colorization. The output's CIELab
    lightness equals the input's within 0.5.

    ``previous`` (``report["frame"]`` of the preceding frame of the same shot; see
    :func:`colorize_frames`) carries that frame's chroma along the motion into this one
    where it shows the same content, at a share of ``temporal``
    (:func:`transfer.neural.frames.carry_over`): the frames of a film are then colored
    consistently. With a ``report`` dict, ``report["frame"]`` is what the next frame needs
    (and ``report["temporal"]`` the share carried per pixel)."""
    if method not in METHODS:
        raise InputError(f"unknown colorization method {method!r}; expected one of {', '.join(METHODS)}")
    strength = check_strength(strength)
    lum, alpha, dtype = gray_input(gray)
    temporal = check_previous(previous, lum.shape, temporal)
    report = options.pop("report", None) if method == "welsh" else options.get("report")
    out = METHODS[method](gray, refs, **options)
    if strength == 1.0 and previous is None and report is None:
        return out
    ab = srgb_to_lab(to_float(out[..., :3]))[..., 1:]
    image = np.repeat(lum[..., None], 3, axis=2)  # the frame, gray, as RGB
    ab, share = carry_over(ab, image, previous, temporal)
    if report is not None:
        report["frame"] = Frame(image, ab, report.get("ref_scales"))
        if share is not None:
            report["temporal"] = share
    if strength == 1.0 and previous is None:
        return out
    return finish_gray(compose(gray_lightness(lum), ab * np.float32(strength)), alpha, dtype)


def colorize_frame(gray, refs, *, previous: Frame | None = None, temporal: float = 0.9, **options):
    """One frame of a film: ``(result, frame)``, where ``frame`` is what the next frame takes
    as ``previous`` (its chroma, and the scales the references were matched at, which the
    next frame keeps). ``options`` are :func:`colorize`'s."""
    report = options.pop("report", None)
    report = {} if report is None else report
    if previous is not None and previous.ref_scales is not None and options.get("method") != "welsh":
        options.setdefault("ref_scale", previous.ref_scales)
    result = colorize(gray, refs, previous=previous, temporal=temporal, report=report, **options)
    return result, report["frame"]


def colorize_frames(frames, refs, *, method: str = "exemplar", temporal: float = 0.9, **options):
    """Colorizes the frames of one shot, in order, consistently: yields each frame's result.

    Each frame after the first keeps the previous frame's chroma where it shows the same
    content (``previous``, ``temporal`` of :func:`colorize`); with the deep methods the
    references keep the scale picked for the first frame (``ref_scale='auto'`` is decided
    once). ``frames`` is any iterable of gray images of one size; the other options are
    :func:`colorize`'s (``report`` excepted).
    """
    return chain(colorize, frames, refs, method=method, temporal=temporal,
                 scaled=method != "welsh", **options)
