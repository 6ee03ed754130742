"""Exceptions raised by transfer.

Every problem with what a caller passed in is an :class:`InputError` (a ``ValueError``), or a
``TypeError`` for a wrong type or dtype, with a message that names the problem. The CLI turns
both into exit status 2 and a one-line message.
"""


class InputError(ValueError):
    """Bad input: a wrong shape, value range, option, or an unreadable file."""


class ImageReadError(InputError):
    """An image file is missing, unreadable, truncated, or not an image."""


class OutputError(OSError):
    """An output file could not be written (a full disk, a folder removed meanwhile); the
    message names the file. Nothing of the run is left behind."""


class CudaUnavailableError(RuntimeError):
    """CUDA was asked for but this build or this machine cannot provide it."""
