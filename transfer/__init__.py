"""transfer: color transfer between images.

The layers, from the bottom up:

* the ground floor: native kernels (csrc/ -> ``transfer._C``, and ``transfer._cuda`` where
  built); :mod:`transfer.image` (dtype policy, checks), :mod:`transfer.color` (sRGB <->
  CIELab), :mod:`transfer.io` (files), :mod:`transfer.nnf` (PatchMatch, exact search, BDS
  voting), :mod:`transfer.features` (EfficientNet-Lite0, VGG-19), :mod:`transfer.pyramid`
  (working sizes, resampling, per-level constants), :mod:`transfer.shot` (frames in order),
  :mod:`transfer.progress`;
* :mod:`transfer.classical`: the global transfers (Reinhard, histogram, MKL, IDT), their
  LUTs and ``.cube`` files, the frames of a shot, transfers by region;
* :mod:`transfer.neural`: neural color transfer (He et al.), a driver over named stages,
  with its reference scales, label maps, clusters, affine color models and frames;
* :mod:`transfer.colorization`: colorization of gray images (exemplar, semantic, Welsh);
* on top: :mod:`transfer.report` (pictures of a run), :mod:`transfer.video` (clips through
  PyAV), :mod:`transfer.spaces` (scene-linear and OpenColorIO color spaces),
  :mod:`transfer.batch` (jobs of frames, split into shots, on Dask) and :mod:`transfer.cli`
  (``python -m transfer``).

The functions below are imported on first use, so that ``import transfer`` stays light.
"""

import os as _os

# Waiting OpenMP threads spin a few microseconds, then sleep (a user's setting wins): spinning
# long (libgomp's default) made the neural transfer 3x slower on a loaded machine, sleeping at
# once 1.3x slower on an idle one, each region then waking its threads (docs/performance.md).
# Read when the OpenMP runtime loads, so it is set before torch or the kernels are imported.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "3000")

from . import _moved
from ._version import __version__
from .errors import CudaUnavailableError, ImageReadError, InputError, OutputError

#: The public functions, by the module that defines them. They are imported on first use, so
#: that ``import transfer`` (and the command line's start) does not load the whole pipeline.
_PUBLIC = {
    "cuda_available": "_native", "cuda_built": "_native",
    "reinhard": "classical", "histogram": "classical", "mkl": "classical", "idt": "classical",
    "rgb2lab": "color", "lab2rgb": "color",
    "fit_lut": "classical", "apply_lut": "classical",
    "regional": "classical",
    "neural_transfer": "neural",
    "colorize": "colorization",
}


_moved.install()  # transfer.lut and the other modules of the flat layout, by their old names


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
