"""transfer: color transfer between images.

Pipeline, from the bottom up:
  * native kernels (csrc/ -> ``transfer._C``, and ``transfer._cuda`` when built);
  * :mod:`transfer.color`: sRGB <-> CIELab on those kernels;
  * :mod:`transfer.classical`: global transfers (Reinhard, histogram, MKL, IDT);
  * :mod:`transfer.lut`: a global transfer kept as a 3-D LUT (.cube) and applied elsewhere;
  * :mod:`transfer.regions`: transfers region by region (masks, label maps), feathered;
  * :mod:`transfer.nnf`: nearest-neighbour fields (PatchMatch, exact search, BDS voting);
  * :mod:`transfer.features`: deep feature backbones (EfficientNet-Lite0, VGG-19);
  * :mod:`transfer.local_affine`, :mod:`transfer.labels`: the color models and the
    reference label map of :mod:`transfer.neural` (neural color transfer);
  * :mod:`transfer.colorization`: exemplar colorization of gray images (and Welsh et al.);
  * :mod:`transfer.io`: reading and writing image files;
  * :mod:`transfer.cli`: ``python -m transfer``.
"""

from ._native import cuda_available, cuda_built
from ._version import __version__
from .classical import histogram, idt, mkl, reinhard
from .color import lab2rgb, rgb2lab
from .errors import CudaUnavailableError, ImageReadError, InputError
from .colorization import colorize
from .lut import apply_lut, fit_lut
from .neural import neural_transfer
from .regions import regional

__all__ = [
    "__version__",
    "cuda_available",
    "cuda_built",
    "reinhard",
    "histogram",
    "mkl",
    "idt",
    "fit_lut",
    "apply_lut",
    "regional",
    "neural_transfer",
    "colorize",
    "rgb2lab",
    "lab2rgb",
    "InputError",
    "ImageReadError",
    "CudaUnavailableError",
]
