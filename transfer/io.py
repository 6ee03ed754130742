"""Reading and writing image files.

* Formats: PNG (8 and 16 bit), JPEG, TIFF, WebP; gray, gray + alpha, RGB, RGBA.
* Reading converts pixels to sRGB where an 8-bit file embeds another ICC profile (Display
  P3 from phones, Adobe RGB from cameras, CMYK), since every method computes in sRGB and
  CIELab (:func:`to_srgb`); results are written in sRGB, untagged.
* Reading applies the EXIF orientation, refuses files that declare more than
  :data:`MAX_PIXELS` pixels before decoding them, and turns every failure (missing file,
  directory, empty, truncated, not an image) into :class:`~transfer.errors.ImageReadError`
  naming the file.
* Writing is atomic: the image goes to a temporary file in the target folder, which is then
  renamed over the target, so no half-written file is ever left behind. An existing file is
  only replaced with ``overwrite=True``.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InputError
from .image import check_array

#: Largest image, in pixels, that :func:`read_image` decodes (about 179 Mpx, twice Pillow's
#: decompression-bomb threshold); override with the TRANSFER_MAX_PIXELS environment variable.
MAX_PIXELS = int(os.environ.get("TRANSFER_MAX_PIXELS", 2 * 89_478_485))

WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                 ".tiff": "TIFF", ".webp": "WEBP"}

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


def read_image(path, *, max_pixels: int | None = None) -> np.ndarray:
    """Reads an image file into an array.

    Returns
    -------
    ndarray
        (H, W) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB or (H, W, 4) RGBA; uint8 or uint16
        as stored (float TIFFs as float32).

    Raises
    ------
    ImageReadError
        Missing, a directory, empty, truncated, corrupt, not an image, or larger than
        ``max_pixels`` (default :data:`MAX_PIXELS`).
    """
    path = Path(path)
    limit = MAX_PIXELS if max_pixels is None else int(max_pixels)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a directory, not an image file")
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise ImageReadError(f"{path}: is empty (0 bytes)")
    try:
        if head.startswith(_PNG_MAGIC) and len(head) >= 25 and head[24] == 16:
            img = _read_png16(path, limit)
        elif head[:4] in _TIFF_MAGIC:
            img = _read_tiff(path, limit)
        else:
            img = _read_pillow(path, limit)
    except ImageReadError:
        raise
    except Exception as exc:  # every decoder failure is a bad file, named as such
        raise ImageReadError(f"{path}: not a readable image ({_reason(exc)})") from exc
    if img.size == 0:
        raise ImageReadError(f"{path}: has no pixels")
    return img


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _check_size(path, width: int, height: int, limit: int) -> None:
    if width * height > limit:
        raise ImageReadError(
            f"{path}: declares {width}x{height} pixels ({width * height / 1e6:.1f} Mpx), more "
            f"than the limit of {limit / 1e6:.1f} Mpx (raise it with TRANSFER_MAX_PIXELS)"
        )


def _read_pillow(path: Path, limit: int) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            old_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # we check ourselves
            try:
                with Image.open(path) as im:
                    _check_size(path, im.width, im.height, limit)
                    im.load()
                    im = ImageOps.exif_transpose(im)
                    return _pillow_to_array(im, path)
            finally:
                Image.MAX_IMAGE_PIXELS = old_limit
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"{path}: not an image file, or a format transfer cannot read") from exc
    except OSError as exc:
        raise ImageReadError(f"{path}: damaged or truncated image ({_reason(exc)})") from exc


def to_srgb(im, icc: bytes | None):
    """The Pillow image ``im`` (8-bit RGB, RGBA or CMYK) converted from the ICC profile
    ``icc`` to sRGB by littlecms (perceptual intent, colors outside sRGB clipped), with alpha
    kept; unchanged without a profile, with an sRGB one, or with one that littlecms cannot
    use (as browsers do: the pixels are then taken as sRGB)."""
    from PIL import ImageCms

    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if im.mode != "CMYK" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return im  # the space every method assumes already
        return ImageCms.profileToProfile(im, profile, _srgb_profile(),
                                         outputMode="RGBA" if im.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im


@functools.lru_cache(maxsize=1)
def _srgb_profile():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _pillow_to_array(im, path) -> np.ndarray:
    im = to_srgb(im, im.info.get("icc_profile"))
    mode = im.mode
    if mode in ("1", "L", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        if mode == "1":
            im = im.convert("L")
        elif mode in ("P", "PA"):
            im = im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB")
        elif mode != "L":
            im = im.convert("RGB")
    elif mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16)
    elif mode == "I":
        a = np.asarray(im)
        if a.min() < 0 or a.max() > 65535:
            raise ImageReadError(f"{path}: 32-bit integer image with values outside 0..65535")
        return a.astype(np.uint16)
    elif mode == "F":
        return np.asarray(im, dtype=np.float32)
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise ImageReadError(f"{path}: unsupported pixel format {mode!r}")
    return np.array(im)


def _read_png16(path: Path, limit: int) -> np.ndarray:
    import png  # pypng: Pillow truncates 16-bit color PNGs to 8 bits

    reader = png.Reader(filename=str(path))
    width, height, rows, info = reader.read()
    _check_size(path, width, height, limit)
    planes = info["planes"]
    a = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(height, width, planes)
    return a[..., 0] if planes == 1 else a


_ORIENT = {  # EXIF orientation -> (transpose, flip rows, flip columns)
    2: (False, False, True), 3: (False, True, True), 4: (False, True, False),
    5: (True, False, False), 6: (True, False, True), 7: (True, True, True), 8: (True, True, False),
}


def _read_tiff(path: Path, limit: int) -> np.ndarray:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        _check_size(path, page.imagewidth, page.imagelength, limit)
        a = page.asarray()
        tag = page.tags.get("Orientation")
        orientation = int(tag.value) if tag is not None else 1
        icc = page.tags.get("InterColorProfile")
        icc = None if icc is None else bytes(icc.value)
    if a.ndim == 3 and a.shape[0] in (3, 4) and a.shape[2] not in (3, 4):
        a = np.moveaxis(a, 0, -1)  # planar storage
    if icc is not None and a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] in (3, 4):
        from PIL import Image  # 8-bit: through littlecms like the other formats

        a = np.asarray(to_srgb(Image.fromarray(np.ascontiguousarray(a)), icc))
    transpose, flip_rows, flip_cols = _ORIENT.get(orientation, (False, False, False))
    if transpose:
        a = np.swapaxes(a, 0, 1)
    if flip_rows:
        a = a[::-1]
    if flip_cols:
        a = a[:, ::-1]
    if a.dtype.kind == "f":
        a = a.astype(np.float32)
    elif a.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f"{path}: TIFF sample type {a.dtype} is not supported "
                             "(use 8 or 16 bit integers, or float)")
    return np.ascontiguousarray(a)


def output_format(path) -> str:
    """The format written for ``path`` (by extension), or InputError naming the extension."""
    ext = Path(path).suffix.lower()
    if ext not in WRITE_FORMATS:
        raise InputError(
            f"{path}: unknown output format {ext or '(no extension)'!r}; use one of "
            + ", ".join(sorted(WRITE_FORMATS))
        )
    return WRITE_FORMATS[ext]


def write_image(path, img, *, overwrite: bool = False) -> Path:
    """Writes ``img`` to ``path`` atomically (temporary file in the same folder, then rename).

    PNG keeps 8 or 16 bits (float images are written as 16-bit PNG); JPEG and WebP are 8 bit
    (16-bit and float images are converted); TIFF keeps the dtype. JPEG cannot store alpha.

    Raises
    ------
    InputError
        Unknown extension, missing folder, existing file without ``overwrite``, or an image
        the format cannot hold.
    """
    path = Path(path)
    fmt = output_format(path)
    img = check_array(img, "image")
    return write_atomic(path, lambda tmp: _encode(tmp, _encodable(img, fmt, path), fmt),
                        overwrite=overwrite)


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuses a target in a missing folder, or one that exists without ``overwrite``."""
    if not path.parent.exists():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise InputError(f"{path}: already exists (pass overwrite=True / --overwrite to replace it)")


def write_atomic(path, encode, *, overwrite: bool = False) -> Path:
    """Calls ``encode(tmp)`` to write a temporary file beside ``path``, then renames it onto
    ``path``: no half-written file is ever left, and without ``overwrite`` no existing file
    is replaced, even one that appears meanwhile."""
    path = Path(path)
    check_writable(path, overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        encode(tmp)
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path appeared meanwhile: never clobbers
            except FileExistsError:
                raise InputError(f"{path}: already exists (pass --overwrite to replace it)") from None
            except OSError:
                if path.exists():
                    raise InputError(f"{path}: already exists") from None
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _encodable(img: np.ndarray, fmt: str, path) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if fmt == "TIFF":
        return np.ascontiguousarray(img)
    if img.dtype.kind == "f":
        img = np.clip(img, 0, 1)
        img = (np.rint(img * 65535).astype(np.uint16) if fmt == "PNG"
               else np.rint(img * 255).astype(np.uint8))
    if fmt in ("JPEG", "WEBP") and img.dtype == np.uint16:
        img = np.rint(img / 257.0).astype(np.uint8)
    if fmt == "JPEG" and img.ndim == 3 and img.shape[2] in (2, 4):
        raise InputError(f"{path}: JPEG cannot store an alpha channel; write a .png or .webp")
    return np.ascontiguousarray(img)


def _encode(tmp: str, img: np.ndarray, fmt: str) -> None:
    if fmt == "TIFF":
        import tifffile

        tifffile.imwrite(tmp, img, photometric="minisblack" if img.ndim == 2 or img.shape[2] == 2 else "rgb")
    elif fmt == "PNG" and img.dtype == np.uint16:
        import png

        planes = 1 if img.ndim == 2 else img.shape[2]
        with open(tmp, "wb") as f:
            png.Writer(img.shape[1], img.shape[0], greyscale=planes in (1, 2), alpha=planes in (2, 4),
                       bitdepth=16).write(f, img.reshape(img.shape[0], -1))
    else:
        from PIL import Image

        options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
        Image.fromarray(img).save(tmp, format=fmt, **options)
