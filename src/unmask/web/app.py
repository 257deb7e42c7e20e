"""The FastAPI application behind ``unmask serve``.

Endpoints:

- ``GET /``: the page (self-contained HTML, no network).
- ``GET /api/health``: ``{"status": "ok", "version", "model_loaded", "limits"}``.
- ``POST /api/unmask``: multipart form with the file field ``image``, optional ``gender``
  (``female`` / ``male``; empty or ``auto`` = predicted) and ``format`` (``json``, the default, or
  ``png``; also accepted as a query parameter). ``png`` answers the restored photo;
  ``json`` answers ``{"size": [w, h], "faces": [FaceResult.to_json()...], "summary",
  "timings_ms", "note", "images": {name: base64 PNG}}`` with images ``restored``, ``mask``
  (0/255), ``compare`` (original | mask + landmarks | restored) and the page's previews
  ``original`` and ``overlay``.

Errors are JSON ``{"detail": message}``: 413 upload too large (checked from Content-Length and
enforced while reading), 400 not an image / corrupt / too many megapixels / bad field, 415 no
``image`` file field, 503 models unavailable, 500 anything else (logged, never sent).
"""

from __future__ import annotations

import base64
import io
import logging
import re
import threading
import time
from collections.abc import Callable

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from unmask import __version__
from unmask.io import ImageError, load_image

log = logging.getLogger(__name__)

MB = 1024 * 1024
_FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the small text fields
_PREVIEW_SIDE = 1024
_NOTE = "The rebuilt faces are plausible syntheses, not the people's real faces."
_CSP = (
    "default-src 'none'; img-src 'self' data: blob:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'self'"
)


class _TooLarge(Exception):
    """The request body passed the byte limit while it was being read."""


class _LazyUnmasker:
    """Create the unmasker on first use (once, thread-safe) and run one photo at a time.

    Runs are serialised: the stages load lazily without locks and CPU inference gains nothing
    from running two photos at once.
    """

    def __init__(self, factory: Callable[[], object]) -> None:
        self._factory = factory
        self._obj = None
        self._make_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._obj is not None

    def get(self):
        if self._obj is None:
            with self._make_lock:
                if self._obj is None:
                    self._obj = self._factory()
        return self._obj

    def __call__(self, image: np.ndarray, gender: str | None):
        unmasker = self.get()
        with self._run_lock:
            return unmasker(image, gender=gender)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _b64png(image: np.ndarray) -> str:
    return base64.b64encode(_png(image)).decode("ascii")


def _overlay(result, max_side: int = _PREVIEW_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """(original, mask + landmarks + boxes overlay), both shrunk to at most ``max_side``."""
    import cv2

    from unmask.viz import draw_landmarks, overlay_mask

    h, w = result.image.shape[:2]
    s = min(1.0, max_side / max(h, w))
    image, mask = result.image, result.mask
    if s < 1.0:
        size = (max(1, round(w * s)), max(1, round(h * s)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    out = overlay_mask(image, mask)
    thick = max(1, round(max(image.shape[:2]) / 300))
    for face in result.faces:
        out = draw_landmarks(out, np.asarray(face.landmarks) * s, radius=thick + 1)
        x1, y1, x2, y2 = (int(round(float(v) * s)) for v in face.box)
        colour = (255, 0, 255) if face.masked else (0, 200, 255)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
    return image, out


def _payload(result) -> dict:
    """The JSON answer for one processed photo."""
    from unmask.batch import compare_sheet

    original, overlay = _overlay(result)
    faces = [f.to_json() for f in result.faces]
    return {
        "size": [int(result.image.shape[1]), int(result.image.shape[0])],
        "faces": faces,
        "summary": {"faces": len(faces), "masked_faces": sum(f["masked"] for f in faces)},
        "timings_ms": {k: round(float(v), 2) for k, v in result.timings_ms.items()},
        "note": _NOTE,
        "images": {
            "restored": _b64png(result.restored),
            "mask": _b64png((np.asarray(result.mask) > 0).astype(np.uint8) * 255),
            "compare": _b64png(compare_sheet(result)),
            "original": _b64png(original),
            "overlay": _b64png(overlay),
        },
    }


def _safe_stem(filename: str | None) -> str:
    stem = re.sub(r"\.[^.]*$", "", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80].strip("._") or "photo"


def create_app(
    unmasker_factory: Callable[[], object] | None = None,
    max_upload_mb: float = 15,
    max_megapixels: float = 25,
) -> FastAPI:
    """Build the web application.

    Args:
        unmasker_factory: makes the :class:`~unmask.api.Unmasker` (called once, on the first
            photo); default ``Unmasker()``.
        max_upload_mb: largest accepted upload in MB (1 MB = 2**20 bytes).
        max_megapixels: largest accepted photo in megapixels (checked before decoding).
    """
    from unmask.web import page

    if unmasker_factory is None:
        from unmask.api import Unmasker

        unmasker_factory = Unmasker
    if max_upload_mb <= 0 or max_megapixels <= 0:
        raise ValueError("max_upload_mb and max_megapixels must be positive")
    limit = int(max_upload_mb * MB)
    limit_text = f"{max_upload_mb:g} MB"
    lazy = _LazyUnmasker(unmasker_factory)
    html = page.render(max_upload_mb, max_megapixels, __version__)
    # /docs and /redoc load their scripts from a CDN, which an offline machine cannot reach.
    app = FastAPI(title="unmask", version=__version__, docs_url=None, redoc_url=None)
    app.state.unmasker = lazy

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})

    @app.get("/api/health")
    def health() -> dict:
        limits = {"max_upload_mb": max_upload_mb, "max_megapixels": max_megapixels}
        return {
            "status": "ok",
            "version": __version__,
            "model_loaded": lazy.loaded,
            "limits": limits,
        }

    def process(data: bytes, gender: str | None, fmt: str):
        """Decode, unmask and encode one photo (blocking: runs in the threadpool)."""
        image = load_image(data, max_megapixels=max_megapixels)
        result = lazy(image, gender)
        return (_png(result.restored) if fmt == "png" else _payload(result)), result

    @app.post("/api/unmask")
    async def unmask(request: Request, fmt: str | None = Query(None, alias="format")) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit + _FORM_OVERHEAD:
            size = int(length) / MB
            return _error(413, f"upload too large: {size:.1f} MB (limit {limit_text})")
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            return _error(415, "send the photo as multipart/form-data in a file field 'image'")
        received = 0

        async def receive():
            nonlocal received
            message = await request.receive()
            received += len(message.get("body", b""))
            if received > limit + _FORM_OVERHEAD:
                raise _TooLarge
            return message

        try:
            form = await Request(request.scope, receive).form(max_files=4, max_fields=16)
        except _TooLarge:
            return _error(413, f"upload too large (limit {limit_text})")
        except ClientDisconnect:
            return _error(400, "the upload was interrupted")
        except HTTPException as exc:  # malformed multipart data
            return _error(400, f"bad form data: {exc.detail}")
        try:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                return _error(415, "no file in the form field 'image'")
            data = await upload.read(limit + 1)
            filename = upload.filename
            gender = str(form.get("gender") or "").strip().lower() or None
            fmt = (fmt or str(form.get("format") or "") or "json").strip().lower()
        finally:
            await form.close()
        if len(data) > limit:
            return _error(413, f"file too large (limit {limit_text})")
        if not data:
            return _error(400, "empty file")
        if gender == "auto":
            gender = None
        if gender not in (None, "female", "male"):
            return _error(400, "gender must be 'female', 'male' or 'auto'")
        if fmt not in ("json", "png"):
            return _error(400, "format must be 'json' or 'png'")
        t = time.perf_counter()
        try:
            body, result = await run_in_threadpool(process, data, gender, fmt)
        except ImageError as exc:
            return _error(400, exc.reason)
        except MemoryError:
            return _error(413, "image too large to process (out of memory)")
        except FileNotFoundError as exc:
            log.error("models unavailable: %s", exc)
            return _error(503, f"the models could not be loaded: {exc}")
        except Exception:
            log.exception("unmask failed on %r", filename)
            return _error(500, "internal error while processing the photo (see the server log)")
        ms = 1000 * (time.perf_counter() - t)
        log.info("%s: %d faces in %.0f ms", filename, len(result.faces), ms)
        if fmt == "png":
            masked = sum(bool(f.masked) for f in result.faces)
            headers = {
                "Content-Disposition": f'inline; filename="{_safe_stem(filename)}-unmasked.png"',
                "X-Unmask-Faces": str(len(result.faces)),
                "X-Unmask-Masked-Faces": str(masked),
            }
            return Response(body, media_type="image/png", headers=headers)
        body["timings_ms"]["server"] = round(ms, 1)
        return JSONResponse(body)

    return app
