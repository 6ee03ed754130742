"""The Adobe / Resolve ``.cube`` format of 3-D LUTs (read by DaVinci Resolve, Premiere,
Photoshop, OCIO and ffmpeg's ``lut3d`` filter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import write_atomic
from .lut import check_lut, check_size


def write_cube(path, lut, *, title: str | None = None, overwrite: bool = False) -> Path:
    """Writes ``lut`` as a ``.cube`` file (atomically, as images are written).

    The values are clipped to [0, 1] and written with 6 decimals, red varying fastest, as the
    format asks. The title is written in ASCII (other characters as ``?``: grading software
    reads .cube files as ASCII).
    """
    return write_atomic(path, cube_encoder(lut, title=title), overwrite=overwrite)


def cube_encoder(lut, *, title: str | None = None):
    """The function that writes ``lut`` as a .cube file to the path it is given (for
    :class:`transfer.io.Outputs`)."""
    lut = check_lut(lut)
    size = lut.shape[0]
    lines = []
    if title:
        title = title.replace('"', "'").replace("\n", " ").encode("ascii", "replace").decode()
        lines.append(f'TITLE "{title}"')
    lines += [f"LUT_3D_SIZE {size}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    rows = np.clip(lut, 0.0, 1.0).transpose(2, 1, 0, 3).reshape(-1, 3)  # [b, g, r]: r fastest
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows.tolist())

    def encode(tmp):
        with open(tmp, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n" + body + "\n")

    return encode


def read_cube(path) -> np.ndarray:
    """Reads a 3-D ``.cube`` file into an ``(N, N, N, 3)`` float32 LUT.

    A domain other than [0, 1] is refused (this module's LUTs map [0, 1] colors), as are 1-D
    LUTs. Errors name the file and, where it helps, the line.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if data[:4096].translate(None, b"\t\n\r\f" + bytes(range(32, 256))):  # control bytes left
        raise InputError(f"{path}: cannot be read as a .cube text file (it holds binary data)")
    try:  # UTF-8 (a byte-order mark allowed); titles from older tools are often Latin-1
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    size, rows = None, []  # rows: (line number, text) of the values
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line[0].isdigit() or line[0] in "+-.":
            rows.append((number, line))
            continue
        key, _, rest = line.replace("\t", " ").partition(" ")
        if key == "TITLE":
            continue
        if key == "LUT_1D_SIZE":
            raise InputError(f"{path}: line {number}: a 1-D LUT; only 3-D LUTs are supported")
        if key == "LUT_3D_SIZE":
            if size is not None:
                raise InputError(f"{path}: line {number}: a second LUT_3D_SIZE")
            try:
                size = int(rest)
                check_size(size, "LUT_3D_SIZE")
            except ValueError as exc:
                raise InputError(f"{path}: line {number}: {exc}") from None
            continue
        if key in ("DOMAIN_MIN", "DOMAIN_MAX", "LUT_3D_INPUT_RANGE"):  # the last: Resolve's
            want = {"DOMAIN_MIN": [0.0] * 3, "DOMAIN_MAX": [1.0] * 3}.get(key, [0.0, 1.0])
            try:
                bounds = [float(v) for v in rest.split()]
            except ValueError:
                bounds = None
            if bounds != want:
                raise InputError(f"{path}: line {number}: {key} {rest.strip()}; only the domain "
                                 "[0, 1] is supported")
            continue
        raise InputError(f"{path}: line {number}: unexpected {line[:40]!r}")
    if size is None:
        raise InputError(f"{path}: no LUT_3D_SIZE line: not a 3-D .cube LUT")
    if len(rows) != size ** 3:
        raise InputError(f"{path}: LUT_3D_SIZE {size} needs {size ** 3} rows of values, found {len(rows)}")
    try:  # all rows at once; on a problem, row by row to name its line
        values = np.array(" ".join(line for _, line in rows).split(), dtype=np.float64)
    except ValueError:
        values = None
    if values is None or any(len(line.split()) != 3 for _, line in rows):
        for number, line in rows:
            try:
                numbers = [float(v) for v in line.split()]
            except ValueError:
                raise InputError(f"{path}: line {number}: unexpected {line[:40]!r}") from None
            if len(numbers) != 3:
                raise InputError(f"{path}: line {number}: expected three numbers, got {len(numbers)}")
    lut = values.astype(np.float32).reshape(size, size, size, 3).transpose(2, 1, 0, 3)  # [b, g, r] rows
    return check_lut(lut, str(path))
