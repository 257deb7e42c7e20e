"""The web page's clip endpoint: a short clip in, the restored MP4 out; bounded."""

from __future__ import annotations

import pytest

pytest.importorskip("av")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from unmask.video.synth import ClipSpec, example_still, generate, write_clip  # noqa: E402
from unmask.web.app import create_app  # noqa: E402

pytestmark = pytest.mark.slow


def clip_bytes(tmp_path, frames: int, fps: float) -> bytes:
    path = tmp_path / "c.mp4"
    spec = ClipSpec(frames=frames, size=(160, 120), blur=())
    write_clip(path, (f.masked for f in generate(spec, [example_still()])), fps=fps)
    return path.read_bytes()


def test_a_clip_comes_back_as_mp4_and_limits_hold(tmp_path) -> None:
    from unmask.video.io import probe

    client = TestClient(create_app(workers=1))
    r = client.post("/api/unmask-video", files={"video": ("c.mp4", clip_bytes(tmp_path, 8, 25))})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp4" and r.headers["x-unmask-frames"] == "8"
    (tmp_path / "out.mp4").write_bytes(r.content)
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height, info.frames, info.audio) == (160, 120, 8, "aac")
    long = clip_bytes(tmp_path, 20, 1)  # 20 s
    r = client.post("/api/unmask-video", files={"video": ("long.mp4", long)})
    assert r.status_code == 413 and "too long" in r.json()["detail"]
    r = client.post("/api/unmask-video", files={"video": ("x.mp4", b"not a video at all")})
    assert r.status_code == 400 and "not a readable video" in r.json()["detail"]
    r = client.post("/api/unmask-video", files={"image": ("x.mp4", b"...")})
    assert r.status_code == 415
