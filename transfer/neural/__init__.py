"""Neural color transfer (He et al.): deep-feature correspondences and local affine color
models, coarse to fine.

* :mod:`~transfer.neural.pipeline`: the driver and its stages (:func:`neural_transfer`);
* :mod:`~transfer.neural.scale`: the scale at which each reference is matched;
* :mod:`~transfer.neural.labels`: which reference colors which pixel (a Potts label map);
* :mod:`~transfer.neural.clusters`: semantic clusters of deep features (k-means);
* :mod:`~transfer.neural.affine`: the local affine color models and the WLS smoothing;
* :mod:`~transfer.neural.frames`: what a frame's models carry over to the next.
"""

from .frames import Frame, carry, carry_over
from .pipeline import (DEFAULT_LEVELS, WARM_START_MIN_SIMILARITY, Options, neural_frame, neural_frames,
                       neural_transfer, transfer_frame)

__all__ = ["neural_transfer", "neural_frame", "neural_frames", "transfer_frame", "Options",
           "DEFAULT_LEVELS", "WARM_START_MIN_SIMILARITY", "Frame", "carry", "carry_over"]
