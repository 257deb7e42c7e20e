"""Fixtures for the web tests: a fake unmasker (deterministic, no models) and a generated photo."""

from __future__ import annotations

import importlib.util
import io
import threading
import time

import numpy as np
import pytest

from unmask.faces.align import MEAN_68, TEMPLATE_5, align
from unmask.io import load_image
from unmask.types import FaceResult, Result


class FakeUnmasker:
    """Stands in for :class:`unmask.Unmasker`: one "face" in the middle of the photo whose lower
    half is the "mask"; the result paints that region grey. Records the gender of every call."""

    def __init__(self) -> None:
        self.calls: list[str | None] = []

    def __call__(self, source, gender: str | None = None) -> Result:
        image = load_image(source)
        self.calls.append(gender)
        h, w = image.shape[:2]
        side = 0.6 * min(h, w)
        x1, y1 = (w - side) / 2, (h - side) / 2
        box = np.array([x1, y1, x1 + side, y1 + side], np.float32)
        five = (TEMPLATE_5 * side + [x1, y1]).astype(np.float32)
        landmarks = (MEAN_68 * side + [x1, y1]).astype(np.float32)
        mask = np.zeros((h, w), np.uint8)
        top, bottom = int(y1 + 0.55 * side), int(y1 + 0.9 * side)
        mask[top:bottom, int(x1 + 0.2 * side) : int(x1 + 0.8 * side)] = 1
        restored = image.copy()
        restored[mask > 0] = 128
        al = align(image, five, 64)
        crop_mask = np.zeros((64, 64), np.uint8)
        crop_mask[35:58, 13:51] = 1
        face = FaceResult(
            box=box,
            score=0.97,
            keypoints=five,
            landmarks=landmarks,
            gender=gender or "female",
            gender_score=1.0 if gender else 0.83,
            gender_forced=gender is not None,
            masked=True,
            mask_coverage=float(crop_mask.mean()),
            mask=mask,
            alignment=al,
            restored=al.crop.copy(),
            crop_mask=crop_mask,
            timings_ms={"align": 0.5, "inpaint": 2.0},
        )
        return Result(image, restored, [face], mask, {"detect": 1.0, "total": 3.5})


class FakeFactory:
    """An unmasker factory that counts how often it is called."""

    def __init__(self) -> None:
        self.created = 0
        self.unmasker = FakeUnmasker()

    def __call__(self) -> FakeUnmasker:
        self.created += 1
        return self.unmasker


@pytest.fixture
def fake_factory() -> FakeFactory:
    return FakeFactory()


def photo_bytes(width: int = 320, height: int = 260, fmt: str = "JPEG") -> bytes:
    """A cartoon of a masked face (skin oval, hair, eyes, a blue mask), encoded as ``fmt``."""
    from PIL import Image, ImageDraw

    y = np.linspace(0, 1, height)[:, None, None]
    bg = (np.array([205, 220, 235]) * (1 - y) + np.array([150, 170, 195]) * y).astype(np.uint8)
    im = Image.fromarray(np.broadcast_to(bg, (height, width, 3)).copy())
    d = ImageDraw.Draw(im)
    cx, cy, s = width / 2, height / 2, 0.6 * min(width, height)

    def at(*uv: float) -> list[float]:  # offsets from the centre in units of s -> pixels
        return [(cx if i % 2 == 0 else cy) + v * s for i, v in enumerate(uv)]

    hair, skin = (70, 45, 30), (224, 178, 148)
    d.ellipse(at(-0.38, -0.55, 0.38, 0.6), fill=skin)
    d.pieslice(at(-0.42, -0.62, 0.42, -0.05), 180, 360, fill=hair)
    for ex in (-0.15, 0.15):
        d.ellipse(at(ex - 0.06, -0.12, ex + 0.06, -0.04), fill="white")
        d.ellipse(at(ex - 0.025, -0.105, ex + 0.025, -0.055), fill=(60, 40, 30))
        d.line(at(ex - 0.08, -0.17, ex + 0.08, -0.19), fill=hair, width=3)
    outline = at(-0.4, 0.02, 0.4, 0.02, 0.3, 0.45, 0.0, 0.55, -0.3, 0.45)
    d.polygon(outline, fill=(120, 170, 220))
    for k in (0.15, 0.25, 0.35):
        d.line(at(-0.35, k, 0.35, k), fill=(100, 150, 205), width=2)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def make_photo():
    """:func:`photo_bytes` as a fixture: ``make_photo(width, height, fmt) -> bytes``."""
    return photo_bytes


@pytest.fixture
def live_server():
    """``live_server(app) -> base URL``: run ``app`` under uvicorn in a background thread on a
    free port of 127.0.0.1, stopped at the end of the test. Skips without uvicorn."""
    if importlib.util.find_spec("uvicorn") is None:
        pytest.skip("uvicorn is not installed (pip install 'unmask[web]')")
    import uvicorn

    running = []

    def start(app) -> str:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)
