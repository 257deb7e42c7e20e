"""Tests for unmask.io: every bad input is generated here, in tmp_path."""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from unmask.io import (
    ImageError,
    load_image,
    save_image,
    save_json,
    unique_stem,
)


def _gradient(h: int = 40, w: int = 48) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 5, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a 1-bit grey image of width x height."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _reason(source, **kw) -> str:
    with pytest.raises(ImageError) as info:
        load_image(source, **kw)
    reason = info.value.reason
    assert reason == str(info.value) and "\n" not in reason and "Traceback" not in reason
    return reason


# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated_file(tmp_path: Path, fmt: str, suffix: str) -> None:
    data = _encode(Image.fromarray(_gradient(64, 64)), fmt)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    assert _reason(path) == "truncated or corrupt image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_random_bytes_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert _reason(path) == "not an image"


def test_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    assert _reason(path) == "not an image"
    assert _reason(str(path)) == "not an image"


def test_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert _reason(tmp_path / "empty.jpg") == "empty file"
    assert _reason(b"") == "empty file"
    assert _reason(tmp_path / "nope.jpg") == "file not found"
    assert _reason(tmp_path / "empty.jpg" / "child.jpg") == "file not found"
    assert _reason(tmp_path) == "is a directory"


def test_bomb_over_pillow_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_bomb_png(30000, 30000))
    assert path.stat().st_size < 200
    before = Image.MAX_IMAGE_PIXELS
    assert _reason(path).startswith("image too large: 900.0 megapixels")
    assert Image.MAX_IMAGE_PIXELS == before


def test_bomb_in_pillow_warning_zone_raises_without_warning() -> None:
    data = _bomb_png(10000, 10000)  # 100 MP: Pillow only warns; we must still refuse, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _reason(data) == "image too large: 100.0 megapixels (limit 50)"


def test_header_checked_against_own_limit() -> None:
    data = _bomb_png(8000, 7000)  # 56 MP: below Pillow's limit, above ours
    assert _reason(data) == "image too large: 56.0 megapixels (limit 50)"
    assert _reason(_bomb_png(2000, 1000), max_megapixels=1.5).startswith("image too large: 2.0")


def test_too_small() -> None:
    data = _encode(Image.new("RGB", (8, 8)), "PNG")
    assert _reason(data, min_side=32) == "image too small: 8x8 (min 32)"
    assert _reason(np.zeros((20, 10, 3), np.uint8)) == "image too small: 10x20 (min 16)"
    assert load_image(data, min_side=8).shape == (8, 8, 3)


def test_bad_arrays() -> None:
    assert _reason(np.zeros((32, 32, 2), np.uint8)).startswith("unsupported array shape")
    assert _reason(np.zeros(32, np.uint8)).startswith("unsupported array shape")
    assert _reason(np.zeros((32, 32), np.int64)) == "unsupported array dtype int64"
    assert "[0, 1]" in _reason(np.full((32, 32), 2.0))
    assert "[0, 1]" in _reason(np.full((32, 32), np.nan))


def test_unsupported_source_type() -> None:
    with pytest.raises(TypeError):
        load_image(12345)


# --- modes and conversions -------------------------------------------------------------------


def test_rgb_roundtrip_from_path_bytes_filelike_pil(tmp_path: Path) -> None:
    rgb = _gradient()
    data = _encode(Image.fromarray(rgb), "PNG")
    (tmp_path / "a.png").write_bytes(data)
    for source in (
        tmp_path / "a.png",
        str(tmp_path / "a.png"),
        data,
        bytearray(data),
        io.BytesIO(data),
        Image.fromarray(rgb),
    ):
        out = load_image(source)
        assert out.dtype == np.uint8 and out.shape == (40, 48, 3) and out.flags.c_contiguous
        np.testing.assert_array_equal(out, rgb)


def test_grayscale_and_one_bit() -> None:
    grey = _gradient()[..., 0]
    out = load_image(_encode(Image.fromarray(grey), "PNG"))
    np.testing.assert_array_equal(out, np.repeat(grey[..., None], 3, axis=2))
    bits = Image.fromarray(grey > 100).convert("1")
    out = load_image(_encode(bits, "PNG"))
    assert set(np.unique(out)) <= {0, 255}
    np.testing.assert_array_equal(out[..., 0], np.where(grey > 100, 255, 0))


def test_alpha_composited_on_white() -> None:
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :16, 3] = 255  # left opaque red, right fully transparent
    out = load_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert tuple(out[5, 5]) == (200, 0, 0) and tuple(out[5, 20]) == (255, 255, 255)
    la = Image.fromarray(np.stack([np.full((32, 32), 0, np.uint8), rgba[..., 3]], -1), "LA")
    out = load_image(_encode(la, "PNG"))
    assert tuple(out[5, 5]) == (0, 0, 0) and tuple(out[5, 20]) == (255, 255, 255)
    half = rgba.copy()
    half[..., 3] = 128
    assert tuple(load_image(half)[0, 0]) == (227, 127, 127)


def test_palette_with_transparency() -> None:
    im = Image.new("P", (32, 32), 1)
    im.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    im.paste(0, (0, 0, 16, 32))
    out = load_image(_encode(im, "PNG", transparency=0))
    assert tuple(out[3, 3]) == (255, 255, 255) and tuple(out[3, 20]) == (10, 200, 30)


def test_gif_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert tuple(load_image(data)[10, 10]) == (255, 0, 0)


def test_cmyk_jpeg() -> None:
    data = _encode(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    np.testing.assert_allclose(load_image(data)[16, 16], (0, 255, 255), atol=3)


def test_16bit_png_is_scaled_not_clipped() -> None:
    values = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)
    data = _encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = load_image(data)[..., 0].astype(int)
    np.testing.assert_array_less(np.abs(out - values / 257.0), 0.51)
    assert out.min() == 0 and out.max() == 255 and len(np.unique(out)) == 256


def test_float_tiff() -> None:
    values = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)
    data = _encode(Image.fromarray(values, "F"), "TIFF")
    out = load_image(data)
    np.testing.assert_array_equal(out[..., 1], np.rint(values * 255).astype(np.uint8))


def test_exif_orientation_rotates() -> None:
    rgb = np.zeros((40, 64, 3), np.uint8)  # H=40, W=64; quadrants of distinct colours
    rgb[:20, :32] = (255, 0, 0)
    rgb[:20, 32:] = (0, 255, 0)
    rgb[20:, :32] = (0, 0, 255)
    rgb[20:, 32:] = (255, 255, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    data = _encode(Image.fromarray(rgb), "JPEG", quality=95, exif=exif.tobytes())
    out = load_image(data)
    expected = np.rot90(rgb, k=-1)
    assert out.shape == expected.shape == (64, 40, 3)
    inner = (slice(4, -4), slice(4, -4))
    for rows in (slice(0, 32), slice(32, 64)):
        for cols in (slice(0, 20), slice(20, 40)):
            got = out[rows, cols][inner].reshape(-1, 3).mean(0)
            want = expected[rows, cols][inner].reshape(-1, 3).mean(0)
            np.testing.assert_allclose(got, want, atol=8)


@pytest.mark.parametrize("mode", ["LAB", "HSV", "YCbCr", "I", "I;16B", "PA", "La", "RGBa", "1"])
def test_in_memory_modes(mode: str) -> None:
    out = load_image(Image.new(mode, (20, 20)))
    assert out.shape == (20, 20, 3) and out.dtype == np.uint8


@pytest.mark.parametrize(
    "array,expected",
    [
        (np.full((20, 20), 7, np.uint8), 7),
        (np.full((20, 20, 1), 7, np.uint8), 7),
        (np.full((20, 20, 3), 7, np.uint8), 7),
        (np.full((20, 20), 257 * 7, np.uint16), 7),
        (np.full((20, 20), 65535, ">u2"), 255),
        (np.full((20, 20, 3), 0.5, np.float32), 128),
        (np.full((20, 20, 3), 1.0, np.float64), 255),
        (np.full((20, 20), 1.0, np.float16), 255),
        (np.ones((20, 20), bool), 255),
        (np.full((20, 20, 4), 9, np.uint8) | np.array([0, 0, 0, 255], np.uint8), 9),
    ],
)
def test_numpy_inputs(array: np.ndarray, expected: int) -> None:
    out = load_image(array)
    assert out.shape == (20, 20, 3) and out.dtype == np.uint8
    assert (out == expected).all()
    assert not np.shares_memory(out, array)


# --- saving ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_save_image_roundtrip(tmp_path: Path, suffix: str) -> None:
    rgb = _gradient()
    target = tmp_path / "out" / "deep" / f"face{suffix}"
    assert save_image(target, rgb) == target
    out = load_image(target)
    assert out.shape == rgb.shape
    tol = 0 if suffix == ".png" else 12
    assert np.abs(out.astype(int) - rgb).mean() <= tol
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_save_image_failure_leaves_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(ImageError):
        save_image(target, np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImageError):
        save_image(tmp_path / "out.gifx", _gradient())

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_image(target, _gradient())
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_save_image_protect_and_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "in" / "photo.png"
    save_image(src, _gradient())
    before = src.read_bytes()
    for target in (src, tmp_path / "in" / ".." / "in" / "photo.png"):
        with pytest.raises(ImageError, match="input file"):
            save_image(target, np.zeros((40, 48, 3), np.uint8), protect=[str(src)])
    assert src.read_bytes() == before
    other = tmp_path / "other.png"
    save_image(other, _gradient(), protect=[src])
    with pytest.raises(ImageError, match="exists"):
        save_image(other, _gradient(), overwrite=False)
    save_image(other, np.zeros((40, 48), np.uint8))
    assert load_image(other).max() == 0


def test_save_json(tmp_path: Path) -> None:
    target = tmp_path / "r" / "report.json"
    obj = {"path": Path("a/ü.jpg"), "score": np.float32(0.5), "box": np.arange(3), "n": 1}
    save_json(target, obj)
    assert json.loads(target.read_text("utf-8")) == {
        "path": "a/ü.jpg",
        "score": 0.5,
        "box": [0, 1, 2],
        "n": 1,
    }
    with pytest.raises(TypeError):
        save_json(target, {"bad": object()})
    assert json.loads(target.read_text("utf-8"))["n"] == 1
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_unique_stem() -> None:
    taken: set[str] = set()
    assert [unique_stem(s, taken) for s in ("a", "a", "A", "b", "a-2", "a")] == [
        "a",
        "a-2",
        "A-3",
        "b",
        "a-2-2",
        "a-4",
    ]
