import os

import numpy as np
import pytest
from PIL import Image

from transfer.errors import ImageReadError, InputError
from transfer.io import read_image, write_image

from conftest import rng


@pytest.mark.parametrize("ext", [".png", ".tif", ".webp"])
@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 3), (9, 7, 4)])
def test_lossless_round_trip_8bit(tmp_path, ext, shape):
    if ext == ".webp" and len(shape) == 2:
        pytest.skip("WebP stores no gray images")
    img = rng().integers(0, 256, shape, dtype=np.uint8)
    path = write_image(tmp_path / f"a{ext}", img)
    if ext == ".webp":
        Image.open(path).save(path, lossless=True)  # Pillow writes lossy WebP by default
        img = read_image(path)
    np.testing.assert_array_equal(read_image(path), img)


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 3), (9, 7, 4)])
def test_round_trip_16bit(tmp_path, ext, shape):
    img = rng().integers(0, 65536, shape, dtype=np.uint16)
    out = read_image(write_image(tmp_path / f"a{ext}", img))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, img)


def test_float_written_as_16bit_png_and_float_tiff(tmp_path):
    img = rng().random((5, 6, 3)).astype(np.float32)
    png = read_image(write_image(tmp_path / "f.png", img))
    assert png.dtype == np.uint16 and np.abs(png / 65535 - img).max() <= 0.5 / 65535 + 1e-7
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "f.tif", img)), img)


def test_jpeg(tmp_path, astronaut):
    out = read_image(write_image(tmp_path / "a.jpg", astronaut))
    assert out.shape == astronaut.shape and np.abs(out.astype(int) - astronaut).mean() < 3
    with pytest.raises(InputError, match="JPEG cannot store an alpha"):
        write_image(tmp_path / "b.jpg", np.zeros((4, 4, 4), np.uint8))
    assert not (tmp_path / "b.jpg").exists()


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((4, 6, 3), np.uint8)
    img[0, 0] = 255  # marker in the top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # the stored image must be rotated 90 degrees clockwise for display
    Image.fromarray(img).save(tmp_path / "o.jpg", exif=exif, quality=100)
    out = read_image(tmp_path / "o.jpg")
    assert out.shape == (6, 4, 3)
    assert out[0, -1].mean() > 200 and out[0, 0].mean() < 50


def test_write_never_overwrites_without_permission_and_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.png"
    target.write_bytes(b"keep me")
    with pytest.raises(InputError, match="already exists"):
        write_image(target, np.zeros((2, 2, 3), np.uint8))
    assert target.read_bytes() == b"keep me"
    write_image(target, np.zeros((2, 2, 3), np.uint8), overwrite=True)
    assert read_image(target).shape == (2, 2, 3)
    assert sorted(os.listdir(tmp_path)) == ["x.png"]  # no temporary file left


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import transfer.io as tio

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tio, "_encode", boom)
    with pytest.raises(OSError):
        write_image(tmp_path / "y.png", np.zeros((2, 2, 3), np.uint8))
    assert os.listdir(tmp_path) == []


def test_unknown_output_format(tmp_path):
    with pytest.raises(InputError, match="unknown output format '.bmpx'"):
        write_image(tmp_path / "a.bmpx", np.zeros((2, 2, 3), np.uint8))


def _bad_files(tmp_path, astronaut):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("this is not an image\n")
    Image.fromarray(astronaut).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "folder.png").mkdir()
    return {
        "missing.png": "no such file",
        "folder.png": "is a directory",
        "empty.png": r"is empty \(0 bytes\)",
        "text.jpg": "not an image file",
        "truncated.jpg": "truncated",
    }


def test_read_errors_name_file_and_problem(tmp_path, astronaut):
    for name, message in _bad_files(tmp_path, astronaut).items():
        with pytest.raises(ImageReadError, match=message) as info:
            read_image(tmp_path / name)
        assert name in str(info.value)


def huge_png(path, width=100_000, height=100_000):
    """A valid PNG header declaring width x height pixels, with almost no data."""
    import struct
    import zlib

    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    return path


def test_enormous_declared_size_is_refused_before_decoding(tmp_path):
    with pytest.raises(ImageReadError, match=r"declares 100000x100000 pixels"):
        read_image(huge_png(tmp_path / "bomb.png"))
