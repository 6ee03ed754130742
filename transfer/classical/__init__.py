"""Classical global color transfers, the fast baselines, and what is built on them.

* :mod:`~transfer.classical.methods`: Reinhard, histogram matching, Monge-Kantorovich linear
  (MKL), iterative distribution transfer (IDT);
* :mod:`~transfer.classical.lut`: a transfer kept as a 3-D LUT and applied to other images;
  :mod:`~transfer.classical.cube`: the ``.cube`` file format;
* :mod:`~transfer.classical.frames`: the frames of a shot, with a running look reset at cuts;
* :mod:`~transfer.classical.regions`: transfers region by region (masks, label maps).
"""

from .cube import cube_encoder, read_cube, write_cube
from .frames import Look, classical_frame, classical_frame_look, classical_frames, color_histogram, continuity
from .lut import apply_lut, check_lut, default_size, fit_lut, identity_lut
from .methods import (MAX_GAIN, METHODS, PITIE_ROTATIONS, cdf_transfer_map, check_space, checked_inputs,
                      color_map, distinct_colors, fitted_map, histogram, idt, idt_rotations, lalphabeta,
                      lalphabeta_to_rgb, mid_quantile_map, mkl, mkl_matrix, regrain_image, reinhard)
from .regions import regional

__all__ = ["reinhard", "histogram", "mkl", "idt", "METHODS", "MAX_GAIN", "PITIE_ROTATIONS",
           "checked_inputs", "color_map", "fitted_map", "cdf_transfer_map", "mid_quantile_map",
           "mkl_matrix", "regrain_image", "idt_rotations", "distinct_colors", "lalphabeta",
           "lalphabeta_to_rgb", "check_space", "fit_lut", "apply_lut", "identity_lut", "check_lut",
           "default_size", "read_cube", "write_cube", "cube_encoder", "classical_frame", "classical_frame_look",
           "classical_frames", "Look", "color_histogram", "continuity", "regional"]
