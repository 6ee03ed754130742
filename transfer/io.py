"""Reading and writing image files.

* Formats: PNG (8 and 16 bit), JPEG, TIFF (8, 16 bit, float), WebP, OpenEXR (half and float);
  gray, gray + alpha, RGB, RGBA. Float TIFF and OpenEXR keep values above 1 (scene-linear
  images: :mod:`transfer.spaces`).
* Reading converts pixels to sRGB where an 8-bit file embeds another ICC profile (Display
  P3 from phones, Adobe RGB from cameras, CMYK), since every method computes in sRGB and
  CIELab (:func:`to_srgb`); results are written in sRGB, untagged.
* Reading applies the EXIF orientation, refuses files that declare more than
  :data:`MAX_PIXELS` pixels before decoding them, and turns every failure (missing file,
  directory, empty, truncated, not an image) into :class:`~transfer.errors.ImageReadError`
  naming the file.
* Writing is atomic: the image goes to a temporary file in the target folder, which is then
  renamed over the target, so no half-written file is ever left behind. An existing file is
  only replaced with ``overwrite=True``. :class:`Outputs` does the same for all the files
  of one run together (checked before the work, then all written or none).
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InputError, OutputError
from .image import check_array

#: Largest image, in pixels, that :func:`read_image` decodes (about 179 Mpx, twice Pillow's
#: decompression-bomb threshold); override with the TRANSFER_MAX_PIXELS environment variable.
MAX_PIXELS = int(os.environ.get("TRANSFER_MAX_PIXELS", 2 * 89_478_485))

WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                 ".tiff": "TIFF", ".webp": "WEBP", ".exr": "EXR"}

#: Formats whose float pixels may lie outside [0, 1] (scene-linear values).
FLOAT_FORMATS = ("TIFF", "EXR")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
_EXR_MAGIC = b"\x76\x2f\x31\x01"


def read_image(path, *, max_pixels: int | None = None) -> np.ndarray:
    """Reads an image file into an array.

    Returns
    -------
    ndarray
        (H, W) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB or (H, W, 4) RGBA; uint8 or uint16
        as stored (float TIFFs as float32, OpenEXR as float16 or float32 as stored; their
        values may lie outside [0, 1]).

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
        elif head[:4] == _EXR_MAGIC:
            img = _read_exr(path, limit)
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
                    im = ImageOps.exif_transpose(im, in_place=True) or im  # no copy when upright
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
        cmyk = page.photometric == tifffile.PHOTOMETRIC.SEPARATED
    if a.ndim == 3 and a.shape[0] in (3, 4, 5) and a.shape[2] not in (3, 4, 5):
        a = np.moveaxis(a, 0, -1)  # planar storage
    if cmyk:
        a = _cmyk_to_rgb(a, icc, path)
    elif icc is not None and a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] in (3, 4):
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


def _read_exr(path: Path, limit: int) -> np.ndarray:
    import OpenEXR

    with OpenEXR.File(str(path), separate_channels=True) as exr:
        box = exr.header()["dataWindow"]
        _check_size(path, int(box[1][0] - box[0][0] + 1), int(box[1][1] - box[0][1] + 1), limit)
        planes = {name.rsplit(".", 1)[-1]: ch.pixels for name, ch in exr.channels().items()}
    order = [c for c in ("R", "G", "B", "A") if c in planes]
    if order[:3] != ["R", "G", "B"]:
        order = [c for c in ("Y", "A") if c in planes]
    if not order or order[0] == "A":
        raise ImageReadError(f"{path}: an OpenEXR file without R, G, B (or Y) channels "
                             f"(it has {', '.join(sorted(planes))})")
    stack = [planes[c] for c in order]
    if any(p.dtype.kind != "f" for p in stack):
        raise ImageReadError(f"{path}: OpenEXR channels of integer type are not supported (use half or float)")
    dtype = np.float32 if any(p.dtype == np.float32 for p in stack) else np.float16
    img = np.stack(stack, axis=-1).astype(dtype)
    return np.ascontiguousarray(img[..., 0] if len(stack) == 1 else img)


def _cmyk_to_rgb(a: np.ndarray, icc: bytes | None, path) -> np.ndarray:
    """A CMYK TIFF's pixels (H, W, 4 or 5: a fifth channel is alpha) as RGB(A) of the same
    dtype: through its ICC profile where it has one (8 bit), else by the plain formula
    R = (1 - C)(1 - K), as Pillow converts CMYK JPEGs without a profile."""
    if a.ndim != 3 or a.shape[2] not in (4, 5):
        raise ImageReadError(f"{path}: a CMYK TIFF with {a.shape[-1] if a.ndim == 3 else 1} "
                             "channels (expected 4, or 5 with alpha)")
    alpha = a[..., 4:]
    if a.dtype == np.uint8:
        from PIL import Image

        im = Image.fromarray(np.ascontiguousarray(a[..., :4]), mode="CMYK")
        converted = to_srgb(im, icc)
        rgb = np.asarray(converted if converted.mode == "RGB" else im.convert("RGB"))
    elif a.dtype == np.uint16 or a.dtype.kind == "f":
        top = 65535.0 if a.dtype == np.uint16 else 1.0
        ink = a[..., :4].astype(np.float64) / top
        rgb = (1 - ink[..., :3]) * (1 - ink[..., 3:4]) * top
        rgb = np.rint(rgb).astype(a.dtype) if a.dtype == np.uint16 else rgb.astype(a.dtype)
    else:
        return a  # refused below with the other sample types
    return np.concatenate([rgb, alpha.astype(rgb.dtype)], axis=2) if alpha.size else rgb


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
    (16-bit and float images are converted); TIFF keeps the dtype; OpenEXR is half (float16
    images) or float (others). Float TIFF and OpenEXR keep values outside [0, 1]. JPEG cannot
    store alpha.
    A missing folder is created.

    Raises
    ------
    InputError
        Unknown extension, an existing file without ``overwrite``, a folder that cannot be
        written, or an image the format cannot hold.
    """
    return write_atomic(path, image_encoder(path, img), overwrite=overwrite)


def image_encoder(path, img):
    """The function that writes ``img`` in ``path``'s format to the file it is given, checked
    now (format, dtype, alpha) so that a problem shows before any file is touched."""
    fmt = output_format(path)
    img = _encodable(check_array(img, "image", scene_linear=fmt in FLOAT_FORMATS), fmt, path)
    return lambda tmp: _encode(tmp, img, fmt)


def check_writable(path, overwrite: bool = False) -> Path:
    """Refuses, before any work, a target that could not be written: a folder, an existing
    file without ``overwrite``, a name too long for its file system, or a place under a
    file or in a folder that cannot be written. A missing folder is fine (it is created when
    the file is written) where its nearest existing parent can be written."""
    path = Path(path)
    existing = _check_names(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder")
    if path.exists() and not overwrite:
        raise InputError(f"{path}: already exists (pass overwrite=True / --overwrite to replace it)")
    try:  # the only sure test: a file made and removed (permissions, read-only mounts, quotas)
        fd, probe = tempfile.mkstemp(prefix=".transfer-", suffix=".probe", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"{path}: folder {existing} cannot be written ({exc.strerror or exc})") from None
    return path


def _check_names(path: Path) -> Path:
    """Refuses a path under a file or with a name too long for its file system; returns its
    nearest existing folder."""
    existing = path.parent
    while existing != existing.parent:
        try:
            if existing.exists():
                break
        except OSError:  # a name too long to look up: checked below
            pass
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{path}: {existing} is a file, not a folder")
    name_max = _name_max(existing)
    for part in path.relative_to(existing).parts:
        if len(os.fsencode(part)) > name_max:
            raise InputError(f"{path}: the name {part[:40]}... is longer than this file system "
                             f"allows ({name_max} bytes)")
    return existing


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def write_atomic(path, encode, *, overwrite: bool = False) -> Path:
    """Calls ``encode(tmp)`` to write a temporary file beside ``path``, then renames it onto
    ``path``: no half-written file is ever left, and without ``overwrite`` no existing file
    is replaced, even one that appears meanwhile."""
    outputs = Outputs(overwrite=overwrite)
    outputs.claim(path)
    outputs.add(path, encode)
    outputs.commit()
    return Path(path)


class Outputs:
    """The files one run writes, all or none.

    ``claim`` each target before the work (it is checked as :func:`check_writable` does, and
    must not be one of ``inputs`` or claimed twice); ``add`` encodes a file into a temporary
    file beside its target once the work is done; ``commit`` then puts them all in place. If
    anything fails before or during the commit, nothing of the run is left: temporary files
    are removed, files already put in place are taken back (a replaced file restored) and
    folders made for the run are removed again.
    """

    def __init__(self, inputs=(), *, overwrite: bool = False):
        self.inputs = [Path(p) for p in inputs]
        self.overwrite = overwrite
        self.claimed: list[Path] = []
        self._staged: list[tuple[str, Path]] = []  # (temporary file, target)
        self._made: list[Path] = []  # folders made for this run, outermost first

    def claim(self, path) -> Path:
        """Checks now that ``path`` can be written by this run; returns it as a Path."""
        path = Path(path)
        _check_names(path)
        for p in self.inputs:
            if _same_file(p, path):
                raise InputError(f"{path}: is one of the input images; refusing to overwrite an input")
        for p in self.claimed:
            if _same_file(p, path):
                raise InputError(f"{path}: is written twice by this run")
        check_writable(path, self.overwrite)
        self.claimed.append(path)
        return path

    def add(self, path, encode) -> Path:
        """Writes ``path``'s content through ``encode(tmp)`` into a temporary file (claiming
        ``path`` first where that was not done)."""
        path = Path(path)
        if not any(p == path for p in self.claimed):
            self.claim(path)
        self._make_folder(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".part", dir=path.parent)
        os.close(fd)
        self._staged.append((tmp, path))
        try:
            encode(tmp)
            os.chmod(tmp, 0o644)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
        except BaseException:
            self.abort()
            raise
        return path

    def commit(self) -> list:
        """Puts every added file in place; on failure takes back those already placed."""
        placed: list[tuple[Path, str | None]] = []  # (target, backup of what it replaced)
        try:
            for tmp, path in self._staged:
                backup = None
                if self.overwrite:
                    if path.exists():
                        backup = _link_aside(path)
                    os.replace(tmp, path)
                else:
                    try:
                        os.link(tmp, path)  # fails if path appeared meanwhile: never clobbers
                    except FileExistsError:
                        raise InputError(f"{path}: already exists (pass --overwrite to replace it)") from None
                    os.unlink(tmp)
                placed.append((path, backup))
        except BaseException:
            for path, backup in reversed(placed):
                if backup is not None:
                    os.replace(backup, path)
                else:
                    path.unlink(missing_ok=True)
            self.abort()
            raise
        for _, backup in placed:
            if backup is not None:
                os.unlink(backup)
        self._staged, self._made = [], []
        return [path for path, _ in placed]

    def abort(self) -> None:
        """Removes the temporary files and the folders made for this run."""
        for tmp, _ in self._staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._staged = []
        for folder in reversed(self._made):
            try:
                folder.rmdir()
            except OSError:
                pass
        self._made = []

    def _make_folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for f in reversed(missing):
            try:
                f.mkdir()
            except OSError as exc:
                self.abort()
                raise InputError(f"{f}: folder cannot be made ({exc.strerror or exc})") from None
            self._made.append(f)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None:
            self.abort()
        return False


def _link_aside(path: Path) -> str:
    """A second name for ``path`` beside it (to restore it from), unused until now."""
    import secrets

    while True:
        aside = str(path.parent / f".{path.name[:64]}.{secrets.token_hex(4)}.old")
        try:
            os.link(path, aside)
            return aside
        except FileExistsError:
            continue


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _encodable(img: np.ndarray, fmt: str, path) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if fmt == "TIFF":
        return np.ascontiguousarray(img)
    if fmt == "EXR":
        if img.dtype.kind != "f":
            img = img.astype(np.float32) / (255 if img.dtype == np.uint8 else 65535)
        return np.ascontiguousarray(img if img.dtype in (np.float16, np.float32) else img.astype(np.float32))
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
    if fmt == "EXR":
        import OpenEXR

        names = {1: "Y", 2: "YA", 3: "RGB", 4: "RGBA"}[1 if img.ndim == 2 else img.shape[2]]
        planes = img[..., None] if img.ndim == 2 else img
        channels = {c: np.ascontiguousarray(planes[..., i]) for i, c in enumerate(names)}
        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
        with OpenEXR.File(header, channels) as exr:
            exr.write(tmp)
    elif fmt == "TIFF":
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

        # PNG deflated with zlib's run-length strategy: 5x faster to write than Pillow's
        # default, files 2% larger (docs/performance.md)
        options = ({"quality": 95} if fmt in ("JPEG", "WEBP")
                   else {"compress_level": 1, "compress_type": 3} if fmt == "PNG" else {})
        Image.fromarray(img).save(tmp, format=fmt, **options)
