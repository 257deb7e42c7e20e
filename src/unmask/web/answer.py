"""The answers of ``POST /api/unmask``: the restored photo as PNG and the JSON payload (with the
page's previews). Runs on the server's workers, never on the event loop."""

from __future__ import annotations

import base64
import io
import json

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


def overlay_preview(result, max_side: int = PREVIEW_SIDE) -> tuple[np.ndarray, np.ndarray]:
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


def payload(result) -> dict:
    """The JSON answer for one processed photo."""
    from unmask.batch import compare_sheet

    original, overlay = overlay_preview(result)
    faces = [f.to_json() for f in result.faces]
    return {
        "size": [int(result.image.shape[1]), int(result.image.shape[0])],
        "faces": faces,
        "summary": {"faces": len(faces), "masked_faces": sum(f["masked"] for f in faces)},
        "timings_ms": {k: round(float(v), 2) for k, v in result.timings_ms.items()},
        "note": NOTE,
        "images": {
            "restored": b64png(result.restored),
            "mask": b64png((np.asarray(result.mask) > 0).astype(np.uint8) * 255),
            "compare": b64png(compare_sheet(result)),
            "original": b64png(original),
            "overlay": b64png(overlay),
        },
    }


def payload_json(result, server_ms: float) -> bytes:
    """:func:`payload` with ``timings_ms["server"]`` set, encoded as compact UTF-8 JSON."""
    body = payload(result)
    body["timings_ms"]["server"] = round(server_ms, 1)
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
