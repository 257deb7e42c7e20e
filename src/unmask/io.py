"""Robust image I/O: decode anything Pillow reads into RGB uint8, save atomically.

Images cross this module's edge as ``numpy.ndarray`` of shape ``(H, W, 3)``, dtype ``uint8``, colour
order RGB (not OpenCV's BGR). Every bad input raises :class:`ImageError`, whose one-line ``reason``
is meant for a batch report. Listing inputs (:func:`iter_inputs`, :func:`is_image_path`) is in
:mod:`unmask.inputs`; both names are importable from here too. Importing this module does no work.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import uuid
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from unmask.inputs import StrPath
from unmask.inputs import is_image_path as is_image_path
from unmask.inputs import iter_inputs as iter_inputs

log = logging.getLogger(__name__)

_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP"}
_SAVE_FORMATS |= {".tif": "TIFF", ".tiff": "TIFF"}
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


class ImageError(ValueError):
    """A bad image input or output; ``reason`` is a short single-line explanation."""

    def __init__(self, reason: str) -> None:
        reason = " ".join(str(reason).split())
        super().__init__(reason)
        self.reason = reason


def load_image(source: Any, *, max_megapixels: float = 50.0, min_side: int = 16) -> np.ndarray:
    """Decode ``source`` into an RGB ``uint8`` array of shape ``(H, W, 3)`` (a fresh copy).

    ``source`` may be a path (str/PathLike), ``bytes``, a binary file-like object, a PIL image or a
    numpy array (RGB order): ``(H, W)``, ``(H, W, 1|3|4)`` of ``uint8``, ``uint16``, ``bool`` or
    float in ``[0, 1]``. The first frame of multi-frame files is used and EXIF orientation is
    applied. Transparency is composited onto white. 16-bit data is scaled by 255/65535; mode ``F``
    is taken as ``[0, 1]`` if its maximum is <= 1, else as ``[0, 255]``; mode ``I`` as 16-bit.
    The pixel count is checked from the header before decoding. Raises :class:`ImageError` for
    any bad input and ``TypeError`` for an unsupported source type.
    """
    limits = (max_megapixels, min_side)
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, limits)
    if isinstance(source, Image.Image):
        return _decode_guarded(source, *limits)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise ImageError("empty file")
        return _decode_guarded(io.BytesIO(source), *limits)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode):
                raise ImageError("is a directory")
            if not stat.S_ISREG(mode):
                raise ImageError("not a regular file")
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    raise ImageError("empty file")
                return _decode_guarded(f, *limits)
        except (FileNotFoundError, NotADirectoryError):
            raise ImageError("file not found") from None
        except PermissionError:
            raise ImageError("permission denied") from None
        except OSError as e:
            raise ImageError(f"cannot read file: {e.strerror or e}") from e
    if hasattr(source, "read"):
        return _decode_guarded(source, *limits)
    raise TypeError(f"unsupported image source type: {type(source).__name__}")


def _decode_guarded(src: Image.Image | BinaryIO, max_mp: float, min_side: int) -> np.ndarray:
    """Decode a PIL image or an open binary file, mapping every Pillow failure to ImageError.

    Pillow's DecompressionBombWarning is made an error here. ``warnings.catch_warnings`` is
    process-wide (not thread-safe before Python 3.14); a race can only leave that one filter on.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if isinstance(src, Image.Image):
                return _decode(src, max_mp, min_side)
            with Image.open(src) as im:  # lazy: parses the header only
                return _decode(im, max_mp, min_side)
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            m = re.search(r"\((\d+) pixels\)", str(e))
            pillow_mp = (Image.MAX_IMAGE_PIXELS or float("inf")) / 1e6
            limit = min(max_mp, pillow_mp)
            size = f": {int(m.group(1)) / 1e6:.1f} megapixels" if m else ""
            raise ImageError(f"image too large{size} (limit {limit:.4g})") from None
        except UnidentifiedImageError:
            raise ImageError("not an image") from None
        except MemoryError:
            raise ImageError("image too large to decode (out of memory)") from None
        except Exception as e:  # Pillow raises many types (OSError, SyntaxError, struct.error...)
            log.debug("decode failed: %r", e)
            raise ImageError("truncated or corrupt image") from e


def _check_size(size: tuple[int, int], max_megapixels: float, min_side: int) -> None:
    w, h = int(size[0]), int(size[1])
    if w * h > max_megapixels * 1e6:
        mp = w * h / 1e6
        raise ImageError(f"image too large: {mp:.1f} megapixels (limit {max_megapixels:.4g})")
    if min(w, h) < max(min_side, 1):
        raise ImageError(f"image too small: {w}x{h} (min {min_side})")


def _decode(im: Image.Image, max_megapixels: float, min_side: int) -> np.ndarray:
    _check_size(im.size, max_megapixels, min_side)  # before any pixel is decoded
    im.load()  # full decode: truncated data raises here (unless LOAD_TRUNCATED_IMAGES is set)
    try:
        im = ImageOps.exif_transpose(im)
    except Exception as e:  # a broken EXIF block must not lose the picture
        log.warning("ignoring unreadable EXIF orientation: %s", e)
    mode = im.mode
    if mode.startswith("I;16"):
        arr = np.asarray(im)
    elif mode == "I":
        arr = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
    elif mode == "F":
        arr = np.nan_to_num(np.asarray(im, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        arr = np.clip(arr if arr.max() <= 1.0 else arr / 255.0, 0.0, 1.0)
    else:
        try:
            if mode == "La":  # premultiplied grey+alpha only converts via LA
                im = im.convert("LA")
            has_alpha = mode in _ALPHA_MODES or "transparency" in im.info
            arr = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
        except ValueError:
            raise ImageError(f"unsupported image mode {mode}") from None
    return _array_to_rgb(arr)


def _array_to_rgb(a: np.ndarray, limits: tuple[float, int] | None = None) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ImageError(f"unsupported array shape {tuple(a.shape)}")
    if limits is not None:
        _check_size((a.shape[1], a.shape[0]), *limits)
    kind, nbytes = a.dtype.kind, a.dtype.itemsize
    if kind == "b":
        a = a.astype(np.uint8) * 255
    elif kind == "u" and nbytes == 2:
        a = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif kind == "f":
        a = a.astype(np.float32)
        if not np.isfinite(a).all() or a.min() < 0.0 or a.max() > 1.0:
            raise ImageError("float image values must be finite and in [0, 1]")
        a = np.rint(a * 255.0).astype(np.uint8)
    elif not (kind == "u" and nbytes == 1):
        raise ImageError(f"unsupported array dtype {a.dtype}")
    if a.ndim == 2:
        return np.repeat(a[..., None], 3, axis=2)
    if a.shape[2] == 4:  # composite onto white
        rgb, alpha = a[..., :3].astype(np.uint32), a[..., 3:].astype(np.uint32)
        return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    return np.array(a, dtype=np.uint8, order="C", copy=True)


def save_image(
    path: StrPath,
    image: np.ndarray,
    *,
    overwrite: bool = True,
    protect: Collection[StrPath] = (),
    quality: int = 95,
) -> Path:
    """Atomically write an RGB ``uint8`` ``(H, W, 3)`` (or ``(H, W)`` grey) array; return the path.

    The format comes from the suffix (png, jpg/jpeg, webp, bmp, tif/tiff); parent folders are
    created. Raises :class:`ImageError` if the target is the same file as any path in ``protect``
    (one stat per protected path when the target exists) or exists while ``overwrite`` is False.
    """
    target = Path(path)
    fmt = _SAVE_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ImageError(f"unsupported output format {target.suffix or '(no suffix)'}")
    ok = isinstance(image, np.ndarray) and image.dtype == np.uint8
    if not ok or image.ndim not in (2, 3) or image.shape[2:] not in ((), (3,)):
        raise ImageError("expected an RGB uint8 array of shape (H, W, 3)")
    if target.exists():
        if not overwrite:
            raise ImageError(f"output exists: {target}")
        st = target.stat()
        for p in protect:
            if os.path.exists(p) and os.path.samestat(st, os.stat(p)):
                raise ImageError(f"refusing to overwrite input file: {target}")
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    pil = Image.fromarray(np.ascontiguousarray(image))
    atomic_write(target, lambda f: pil.save(f, format=fmt, **options))
    return target


def save_json(path: StrPath, obj: Any) -> Path:
    """Atomically write ``obj`` as indented UTF-8 JSON (paths and numpy values are converted)."""

    def default(o: Any) -> Any:
        if isinstance(o, os.PathLike):
            return os.fspath(o)
        if isinstance(o, (np.generic, np.ndarray)):
            return o.tolist()
        raise TypeError(f"not JSON serializable: {type(o).__name__}")

    data = (json.dumps(obj, indent=2, ensure_ascii=False, default=default) + "\n").encode()
    target = Path(path)
    atomic_write(target, lambda f: f.write(data))
    return target


def atomic_write(target: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write via a temp file in the target's folder, then ``os.replace``; no debris on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def unique_stem(stem: str, taken: set[str]) -> str:
    """Return ``stem``, ``stem-2``, ``stem-3``... whichever is free, and record it in ``taken``.

    Comparison ignores case (outputs may land on a case-insensitive file system): ``taken`` holds
    casefolded stems and the result's casefolded form is added to it.
    """
    candidate, n = stem, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate.casefold())
    return candidate
