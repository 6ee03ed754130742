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

import os as _os

# Waiting OpenMP threads sleep instead of spinning (a user's setting wins): spinning threads of
# this package's kernels and of torch's runtime held the cores each other needed, and on a
# loaded machine the neural transfer ran 3x slower (docs/performance.md). Read when the
# OpenMP runtimes load, so it is set before torch or the kernels are imported.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._version import __version__
from .errors import CudaUnavailableError, ImageReadError, InputError, OutputError

#: The public functions, by the module that defines them. They are imported on first use, so
#: that ``import transfer`` (and the command line's start) does not load the whole pipeline.
_PUBLIC = {
    "cuda_available": "_native", "cuda_built": "_native",
    "reinhard": "classical", "histogram": "classical", "mkl": "classical", "idt": "classical",
    "rgb2lab": "color", "lab2rgb": "color",
    "fit_lut": "lut", "apply_lut": "lut",
    "regional": "regions",
    "neural_transfer": "neural",
    "colorize": "colorization",
}


def __getattr__(name):
    import importlib

    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    else:  # a module of the package (transfer.nnf, transfer._C), imported on first use
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'transfer' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_PUBLIC])


__all__ = [
    "__version__",
    *_PUBLIC,
    "InputError",
    "ImageReadError",
    "OutputError",
    "CudaUnavailableError",
]
