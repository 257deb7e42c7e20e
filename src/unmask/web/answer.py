"""The answers of ``POST /api/unmask``: the restored photo as PNG and the JSON payload (with the
page's previews). Runs on the server's workers, never on the event loop."""

from __future__ import annotations

import base64
import io
import json
import time

import numpy as np

PREVIEW_SIDE = 1024
NOTE = "The rebuilt faces are plausible syntheses, not the people's real faces."


def png(image: np.ndarray) -> bytes:
    """``image`` (RGB or grey uint8) encoded as PNG (zlib level 3: fast, for answers)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def b64png(image: np.ndarray) -> str:
    """:func:`png` as base64 text, for the JSON answer."""
    return base64.b64encode(png(image)).decode("ascii")


def _shrink(image: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    import cv2

    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def previews(result, max_side: int = PREVIEW_SIDE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(original, mask + landmarks + boxes overlay, restored), shrunk to at most ``max_side``
    before anything is drawn, so that a large photo costs no full-size float copies."""
    import cv2

    from unmask.viz import draw_landmarks, overlay_mask

    h, w = result.image.shape[:2]
    s = min(1.0, max_side / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    image = _shrink(result.image, size)
    restored = _shrink(result.restored, size)
    mask = _shrink(np.asarray(result.mask).astype(np.uint8), size, nearest=True)
    out = overlay_mask(image, mask)
    thick = max(1, round(max(image.shape[:2]) / 300))
    for face in result.faces:
        out = draw_landmarks(out, np.asarray(face.landmarks) * s, radius=thick + 1)
        x1, y1, x2, y2 = (int(round(float(v) * s)) for v in face.box)
        colour = (255, 0, 255) if face.masked else (0, 200, 255)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
    return image, out, restored


def sheet(panels: list[np.ndarray], height: int = 384) -> np.ndarray:
    """``panels`` side by side at ``height`` pixels with 4-pixel white gaps (the layout of
    :func:`unmask.viz.compare_sheet`)."""
    gap = np.full((height, 4, 3), 255, np.uint8)
    row = []
    for img in panels:
        h, w = img.shape[:2]
        row += [_shrink(img, (max(1, round(w * height / h)), height)), gap]
    return np.concatenate(row[:-1], axis=1)


def payload(result) -> dict:
    """The JSON answer for one processed photo."""
    original, overlay, restored = previews(result)
    faces = [f.to_json() for f in result.faces]
    mask = np.asarray(result.mask)
    return {
        "size": [int(result.image.shape[1]), int(result.image.shape[0])],
        "faces": faces,
        "summary": {"faces": len(faces), "masked_faces": sum(f["masked"] for f in faces)},
        "timings_ms": {k: round(float(v), 2) for k, v in result.timings_ms.items()},
        "note": NOTE,
        "images": {
            "restored": b64png(result.restored),
            "mask": b64png(np.where(mask > 0, np.uint8(255), np.uint8(0))),
            "compare": b64png(sheet([original, overlay, restored])),
            "original": b64png(original),
            "overlay": b64png(overlay),
        },
    }


def payload_json(result, since: float) -> bytes:
    """:func:`payload` encoded as compact UTF-8 JSON, with ``timings_ms["server"]`` the time
    from ``since`` (a ``time.perf_counter()`` value: when the photo was queued) to the end of
    drawing and encoding its images."""
    body = payload(result)
    body["timings_ms"]["server"] = round(1000 * (time.perf_counter() - since), 1)
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
