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


def _s15(v: float) -> bytes:
    return int(round(v * 65536)).to_bytes(4, "big", signed=True)


def matrix_icc(name: str, red, green, blue, gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 display profile: the primaries' XYZ (D50) and one gamma per channel
    (how Display P3 or Adobe RGB profiles are built), for files tagged with a non-sRGB space."""
    def xyz(x, y, z):
        return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)

    text = name.encode("ascii") + b"\0"
    curve = b"curv" + bytes(4) + (1).to_bytes(4, "big") + int(gamma * 256).to_bytes(2, "big") + bytes(2)
    tags = [(b"desc", b"desc" + bytes(4) + len(text).to_bytes(4, "big") + text + bytes(8 + 3 + 67)),
            (b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"cprt", b"text" + bytes(4) + b"none\0"),
            (b"rXYZ", xyz(*red)), (b"gXYZ", xyz(*green)), (b"bXYZ", xyz(*blue)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        data += bytes(-(offset + len(data)) % 4)
        table += sig + (offset + len(data)).to_bytes(4, "big") + len(body).to_bytes(4, "big")
        data += body
    header = ((offset + len(data)).to_bytes(4, "big") + b"none" + (0x02100000).to_bytes(4, "big")
              + b"mntrRGB XYZ " + bytes(12) + b"acspAPPL" + bytes(4) + b"nonenone" + bytes(8 + 4)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"none" + bytes(44))
    return header + len(tags).to_bytes(4, "big") + table + data


# Display P3's primaries (as Apple's profile gives them, adapted to D50)
DISPLAY_P3 = matrix_icc("Display P3 (test)", (0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419),
                        (0.1571, 0.0666, 0.7841))


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_embedded_color_profile_is_converted_to_srgb(tmp_path, ext):
    from PIL import ImageCms

    img = np.zeros((8, 8, 3), np.uint8)
    img[:4] = [60, 180, 60]  # a green, more saturated in P3 than the same numbers in sRGB
    img[4:] = [128, 128, 128]
    path = tmp_path / f"p3{ext}"
    options = {"quality": 100, "subsampling": 0} if ext == ".jpg" else {"lossless": True} if ext == ".webp" else {}
    Image.fromarray(img).save(path, icc_profile=DISPLAY_P3, **options)
    plain = tmp_path / f"plain{ext}"
    Image.fromarray(img).save(plain, **options)
    stored = read_image(plain)  # the same pixels, untagged: taken as sRGB
    out = read_image(path)
    expected = np.asarray(ImageCms.profileToProfile(Image.fromarray(stored), ImageCms.ImageCmsProfile(
        __import__("io").BytesIO(DISPLAY_P3)), ImageCms.createProfile("sRGB"), outputMode="RGB"))
    np.testing.assert_array_equal(out, expected)
    green = out[0, 0].astype(int)
    assert green[1] - green[0] > 180 - 60 + 40, green  # measured (0, 185, 22): farther from gray
    assert np.abs(out[6, 6].astype(int) - 128).max() <= 2  # gray stays gray


def test_color_profiles_kept_as_they_are(tmp_path):
    from PIL import ImageCms

    img = rng().integers(0, 256, (6, 5, 4), dtype=np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, icc in (("srgb.png", srgb), ("broken.png", b"not a profile at all")):
        Image.fromarray(img).save(tmp_path / name, icc_profile=icc)
        np.testing.assert_array_equal(read_image(tmp_path / name), img)  # as stored
    Image.fromarray(img).save(tmp_path / "p3.png", icc_profile=DISPLAY_P3)
    out = read_image(tmp_path / "p3.png")
    assert out.shape == img.shape and (out != img).any()
    np.testing.assert_array_equal(out[..., 3], img[..., 3])  # alpha untouched


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


@pytest.mark.parametrize("bits", [8, 16])
def test_cmyk_tiff_is_read_as_rgb(tmp_path, bits):
    import tifffile

    rng = np.random.default_rng(0)
    cmyk = rng.integers(0, 256, (6, 7, 4)).astype(np.uint8)
    expected = np.asarray(Image.fromarray(cmyk, mode="CMYK").convert("RGB")).astype(int)
    data = cmyk if bits == 8 else cmyk.astype(np.uint16) * 257
    tifffile.imwrite(tmp_path / "c.tif", data, photometric="separated")
    img = read_image(tmp_path / "c.tif")
    assert img.shape == (6, 7, 3) and img.dtype == data.dtype
    got = img.astype(int) if bits == 8 else np.rint(img / 257).astype(int)
    assert np.abs(got - expected).max() <= 1
