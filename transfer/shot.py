"""The frames of a shot, in order: each frame's transfer given what the previous one left."""

from __future__ import annotations

from .errors import InputError
from .image import check_weight


def check_temporal(temporal) -> float:
    temporal = check_weight("temporal", temporal)
    if temporal > 1:
        raise InputError(f"temporal must be in [0, 1], got {temporal!r}")
    return temporal


def chain(transfer, frames, refs, *, temporal: float, scaled: bool = True, **options):
    """Runs ``transfer`` (:func:`transfer.neural_transfer`, :func:`transfer.colorize` or
    :func:`transfer.classical.frames.classical_frame`) on
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
