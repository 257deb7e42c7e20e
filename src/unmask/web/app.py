"""The FastAPI application behind ``unmask serve``.

Endpoints:

- ``GET /``: the page (self-contained HTML, no network).
- ``GET /api/health``: ``{"status": "ok", "version", "model_loaded", "token_required",
  "limits", "work"}`` (``work``: workers, queue, timeout_s and the running / admitted counts).
- ``POST /api/unmask``: multipart form with the file field ``image``, optional ``gender``
  (``female`` / ``male``; empty or ``auto`` = predicted) and ``format`` (``json``, the default, or
  ``png``; also accepted as a query parameter). ``png`` answers the restored photo;
  ``json`` answers ``{"size": [w, h], "faces": [FaceResult.to_json()...], "summary",
  "timings_ms", "note", "images": {name: base64 PNG}}`` with images ``restored``, ``mask``
  (0/255), ``compare`` (original | mask + landmarks | restored) and the page's previews
  ``original`` and ``overlay``.

Errors are JSON ``{"detail": message}``: 413 upload too large (checked from Content-Length and
enforced while reading), 400 not an image / corrupt / too many megapixels / bad field, 415 no
``image`` file field, 401 missing / wrong bearer token (when one is set), 503 server busy
(with ``Retry-After`` and ``retry_after_s``) or models unavailable, 504 processing past the
timeout, 500 anything else (logged, never sent). Admission control is in
:mod:`unmask.web.limits`, the token check in :mod:`unmask.web.guard`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from unmask import __version__
from unmask.io import ImageError, load_image
from unmask.web import answer, clip
from unmask.web.guard import BearerTokenMiddleware, discard_body
from unmask.web.limits import Overloaded, WorkPool, default_workers

log = logging.getLogger(__name__)

MB = 1024 * 1024
_FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the small text fields
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


def _safe_stem(filename: str | None) -> str:
    stem = re.sub(r"\.[^.]*$", "", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80].strip("._") or "photo"


def create_app(
    unmasker_factory: Callable[[], object] | None = None,
    max_upload_mb: float = 15,
    max_megapixels: float = 25,
    workers: int | None = None,
    queue: int = 8,
    timeout_s: float = 120,
    token: str | None = None,
) -> FastAPI:
    """Build the web application.

    Args:
        unmasker_factory: makes the :class:`~unmask.api.Unmasker` (called once, on the first
            photo); default ``Unmasker()``.
        max_upload_mb: largest accepted upload in MB (1 MB = 2**20 bytes).
        max_megapixels: largest accepted photo in megapixels (checked before decoding).
        workers: photos decoded and processed at once; default
            :func:`~unmask.web.limits.default_workers`.
        queue: requests that may wait for a worker; beyond ``workers + queue`` the server
            answers 503 with ``Retry-After`` without reading the photo into memory.
        timeout_s: longest wait for a photo once it is queued (queue and processing): 503 when
            it never reached a worker, 504 when it was still being processed.
        token: when set, every ``/api/`` route but ``/api/health`` needs
            ``Authorization: Bearer <token>``.
    """
    from unmask.web import page

    if unmasker_factory is None:
        from unmask.api import Unmasker

        unmasker_factory = Unmasker
    if max_upload_mb <= 0 or max_megapixels <= 0 or timeout_s <= 0:
        raise ValueError("max_upload_mb, max_megapixels and timeout_s must be positive")
    limit = int(max_upload_mb * MB)
    limit_text = f"{max_upload_mb:g} MB"
    lazy = _LazyUnmasker(unmasker_factory)
    pool = WorkPool(default_workers() if workers is None else workers, queue)
    html = page.render(max_upload_mb, max_megapixels, __version__, token_required=bool(token))
    # /docs and /redoc load their scripts from a CDN, which an offline machine cannot reach.
    app = FastAPI(title="unmask", version=__version__, docs_url=None, redoc_url=None)
    app.state.unmasker = lazy
    app.state.pool = pool
    if token:
        app.add_middleware(BearerTokenMiddleware, token=token, max_body=limit + _FORM_OVERHEAD)

    def busy(retry_after: int, message: str) -> JSONResponse:
        return JSONResponse(
            {"detail": message, "retry_after_s": retry_after},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})

    @app.get("/api/health")
    async def health() -> dict:  # on the event loop: answers even when every worker is busy
        limits = {"max_upload_mb": max_upload_mb, "max_megapixels": max_megapixels}
        work = {"workers": pool.workers, "queue": pool.queue, "timeout_s": timeout_s}
        work.update(running=pool.running, admitted=pool.admitted)
        return {
            "status": "ok",
            "version": __version__,
            "model_loaded": lazy.loaded,
            "token_required": bool(token),
            "limits": limits,
            "work": work,
        }

    def process(data: bytes, gender: str | None, fmt: str, queued_at: float):
        """Decode, unmask and encode one photo (blocking: runs on a pool worker, so at most
        ``workers`` decoded photos exist at once). Returns (body, faces, masked faces)."""
        image = load_image(data, max_megapixels=max_megapixels)
        result = lazy(image, gender)
        del image
        faces, masked = len(result.faces), sum(bool(f.masked) for f in result.faces)
        if fmt == "png":
            return answer.png(result.restored), faces, masked
        return answer.payload_json(result, queued_at), faces, masked

    @app.post("/api/unmask")
    async def unmask(request: Request, fmt: str | None = Query(None, alias="format")) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit + _FORM_OVERHEAD:
            size = int(length) / MB
            return _error(413, f"upload too large: {size:.1f} MB (limit {limit_text})")
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            return _error(415, "send the photo as multipart/form-data in a file field 'image'")
        try:  # before the upload is read: refused requests hold no photo in memory
            ticket = pool.admit()
        except Overloaded as exc:
            await discard_body(request.receive, limit + _FORM_OVERHEAD)
            log.info("busy: refused a photo (retry after %d s)", exc.retry_after)
            return busy(
                exc.retry_after,
                f"server busy: {pool.workers} photos in progress and "
                f"{pool.queue} waiting; retry in {exc.retry_after} s",
            )
        with ticket:
            answer_or_error = await _read_form(request, limit, limit_text)
            if isinstance(answer_or_error, Response):
                return answer_or_error
            data, filename, gender, fmt_form = answer_or_error
            fmt = (fmt or fmt_form or "json").strip().lower()
            if fmt not in ("json", "png"):
                return _error(400, "format must be 'json' or 'png'")
            t = time.perf_counter()
            future = ticket.submit(process, data, gender, fmt, t)
            del data
        try:
            body, faces, masked = await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except asyncio.TimeoutError:
            if future.cancel() or future.cancelled():  # never reached a worker: dropped
                wait = pool.retry_after()
                return busy(wait, f"server busy: the photo waited {timeout_s:g} s for a worker")
            log.warning("%s: still processing after %g s", filename, timeout_s)
            return _error(504, f"processing took longer than {timeout_s:g} s")
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
        log.info("%s: %d faces in %.0f ms", filename, faces, ms)
        if fmt == "png":
            headers = {
                "Content-Disposition": f'inline; filename="{_safe_stem(filename)}-unmasked.png"',
                "X-Unmask-Faces": str(faces),
                "X-Unmask-Masked-Faces": str(masked),
            }
            return Response(body, media_type="image/png", headers=headers)
        return Response(body, media_type="application/json")

    clip.add_route(app, lazy, pool, timeout_s)  # POST /api/unmask-video (unmask.web.clip)
    return app


async def _read_form(request: Request, limit: int, limit_text: str):
    """The upload's (bytes, filename, gender, format field), or the error answer."""
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
        fmt = str(form.get("format") or "")
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
    return data, filename, gender, fmt
