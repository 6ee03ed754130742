"""Loads the native modules: ``_C`` (CPU, always built) and ``_cuda`` (optional)."""

from __future__ import annotations

from .errors import CudaUnavailableError

try:
    from . import _C
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "transfer's C++ extension (transfer._C) is missing: install the package with "
        "`pip install .` (or `pip install -e .`) so that it is compiled"
    ) from exc

try:
    from . import _cuda
except ImportError:
    _cuda = None


def cuda_built() -> bool:
    """True when this build has the CUDA module (a CUDA compiler was found at build time)."""
    return _cuda is not None


def cuda_available() -> bool:
    """True when the CUDA module is built and a CUDA GPU is visible."""
    return _cuda is not None and _cuda.device_count() > 0


def require_cuda(op: str):
    """The CUDA module, or :class:`CudaUnavailableError` naming ``op`` and the remedy."""
    if _cuda is None:
        raise CudaUnavailableError(
            f"{op} on device='cuda': this build of transfer has no CUDA module (no CUDA "
            "compiler was found when it was built). Rebuild with nvcc on PATH, e.g. "
            "`TRANSFER_FORCE_CUDA=1 pip install .`, or use device='cpu'."
        )
    if _cuda.device_count() == 0:
        raise CudaUnavailableError(
            f"{op} on device='cuda': the CUDA module is built but no CUDA GPU is visible "
            "(check the driver and CUDA_VISIBLE_DEVICES), or use device='cpu'."
        )
    return _cuda


def check_device(device: str, op: str):
    """The kernel module for ``device`` ('cpu' or 'cuda')."""
    if device == "cpu":
        return _C
    if device == "cuda":
        return require_cuda(op)
    raise ValueError(f"{op}: unknown device {device!r}; expected 'cpu' or 'cuda'")


def device_option(device: str, backend, where: str) -> str:
    """The ``device`` of a call that may still use the old keyword ``backend`` (deprecated:
    one word, ``device``, names where the work runs in every public function)."""
    if backend is None:
        return device
    import warnings

    warnings.warn(f"{where}(backend=...) is now {where}(device=...); backend= will be removed",
                  DeprecationWarning, stacklevel=3)
    return backend
