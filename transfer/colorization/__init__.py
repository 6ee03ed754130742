"""Colorization of gray images from color references, on the neural transfer's
correspondence backend.

* :mod:`~transfer.colorization.methods`: :func:`colorize` by method, and the frames of a film;
* :mod:`~transfer.colorization.exemplar`: deep exemplar colorization (and its semantic form);
* :mod:`~transfer.colorization.classifier`: the color classifier trained on the references;
* :mod:`~transfer.colorization.welsh`: Welsh et al. 2002, the classical baseline;
* :mod:`~transfer.colorization.gray`: the gray target, and chroma composed within the gamut.
"""

from ..image import GRAY_TOLERANCE, is_gray
from .exemplar import annealed_mean, check_class_map, coherence_candidates, exemplar, semantic
from .gray import MAX_CLASSES, compose
from .methods import METHODS, colorize, colorize_frame, colorize_frames
from .welsh import welsh

__all__ = ["colorize", "colorize_frame", "colorize_frames", "METHODS", "exemplar", "semantic",
           "welsh", "compose", "annealed_mean", "coherence_candidates", "check_class_map",
           "MAX_CLASSES", "GRAY_TOLERANCE", "is_gray"]
