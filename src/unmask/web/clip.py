"""``POST /api/unmask-video``: a short clip in, the restored MP4 out (the ``video`` extra).

Multipart form with the file field ``video`` and optional ``gender`` (``female`` / ``male`` /
``auto``). Bounded: at most ``max_clip_mb`` MB, ``max_clip_s`` seconds and
``max_clip_megapixels`` per frame (checked from the container before any frame is decoded).
Answers ``video/mp4`` (H.264, the clip's frame rate, size and audio) with the headers
``X-Unmask-Frames``, ``X-Unmask-Tracks`` and ``X-Unmask-Masked-Frames``. Errors are JSON
``{"detail": message}``: 413 too large / too long, 400 not a readable video (the skip reason),
415 no ``video`` file, 503 busy or PyAV missing, 504 past the timeout.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from unmask.web.limits import Overloaded

MB = 1024 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def add_route(
    app,
    lazy,
    pool,
    timeout_s: float,
    max_clip_mb: float = 20,
    max_clip_s: float = 15,
    max_clip_megapixels: float = 1.0,
) -> None:
    """Register the clip endpoint on ``app`` (``lazy``: the app's shared unmasker, whose run
    lock also serialises clips with photos; ``pool``: its :class:`WorkPool`)."""
    limit = int(max_clip_mb * MB)

    def process(data: bytes, suffix: str, gender: str | None):
        from unmask.video import process_video
        from unmask.video.io import VideoError, probe

        with tempfile.TemporaryDirectory(prefix="unmask-clip-") as tmp:
            src, dst = Path(tmp) / f"in{suffix}", Path(tmp) / "out.mp4"
            src.write_bytes(data)
            try:
                info = probe(src)
            except VideoError as exc:
                return 400, str(exc)
            if info.duration > max_clip_s:
                return 413, f"clip too long: {info.duration:.1f} s (limit {max_clip_s:g} s)"
            if info.width * info.height > max_clip_megapixels * 1e6:
                mp = info.width * info.height / 1e6
                return 413, f"frames too large: {mp:.2f} MP (limit {max_clip_megapixels:g} MP)"
            unmasker = lazy.get()
            with lazy._run_lock:
                entry = process_video(unmasker, src, dst, gender=gender)
            if entry["status"] != "ok":
                return 400, entry["reason"]
            return 200, (dst.read_bytes(), entry)

    @app.post("/api/unmask-video")
    async def unmask_video(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
            return _error(413, f"upload too large (limit {max_clip_mb:g} MB)")
        try:
            from unmask.video.io import require_av

            require_av()
        except RuntimeError as exc:
            return _error(503, str(exc))
        try:
            ticket = pool.admit()
        except Overloaded as exc:
            return JSONResponse(
                {"detail": "server busy", "retry_after_s": exc.retry_after},
                status_code=503,
                headers={"Retry-After": str(exc.retry_after)},
            )
        with ticket:
            form = await request.form(max_files=2, max_fields=8)
            try:
                upload = form.get("video")
                if not isinstance(upload, UploadFile):
                    return _error(415, "no file in the form field 'video'")
                data = await upload.read(limit + 1)
                suffix = Path(upload.filename or "clip.mp4").suffix.lower()[:8] or ".mp4"
                gender = str(form.get("gender") or "").strip().lower() or None
            finally:
                await form.close()
            if len(data) > limit:
                return _error(413, f"upload too large (limit {max_clip_mb:g} MB)")
            gender = None if gender == "auto" else gender
            if gender not in (None, "female", "male"):
                return _error(400, "gender must be 'female', 'male' or 'auto'")
            future = ticket.submit(process, data, suffix, gender)
            del data
        try:
            status, body = await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except asyncio.TimeoutError:
            return _error(504, f"processing took longer than {timeout_s:g} s")
        if status != 200:
            return _error(status, body)
        video, entry = body
        headers = {
            "X-Unmask-Frames": str(entry["frames"]),
            "X-Unmask-Tracks": str(len(entry["tracks"])),
            "X-Unmask-Masked-Frames": str(entry["masked_frames"]),
        }
        return Response(video, media_type="video/mp4", headers=headers)
