"""Photo-resolution finishing of a rebuilt face: the person's own tone and skin grain.

The inpainter works on a 128-px model grid; pasted into a photo where the face is larger, its
result is smooth and its colour is the network's guess. Two non-learned steps, both computed in
the photo's own pixel grid and changing only pixels inside the hole, take what they need from
the visible face around it:

* **tone** (:mod:`unmask.stages.tone`) — the low-frequency colour step across the hole's
  boundary (visible skin just outside minus rebuilt skin just inside, in CIELAB) is
  interpolated smoothly over the hole (a membrane fill) and added, so the rebuilt skin meets the
  visible skin without a patch of another tone (a Poisson-style correction that keeps the
  network's shading and features);
* **grain** — high-frequency detail (what a Gaussian of the model grid's pixel size removes) is
  cut in random patches from the visible skin ring around the hole and laid over the hole, with
  just enough gain that the hole's fine detail matches the ring's instead of exceeding it.

Images are ``H x W x 3`` uint8 RGB; masks ``H x W`` with nonzero = hole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FinishConfig:
    """Settings of :func:`finish_face`.

    Attributes:
        tone: apply the boundary tone correction (off by default: on validation photos it
            lowered the tone error by 0.4-0.5 ΔE but cost 0.15-0.35 dB of PSNR).
        grain: strength of the transferred grain, 0 = off, 1 = match the ring's detail energy.
        ring: width of the visible-skin ring around the hole that serves as the source, as a
            fraction of the hole's size (square root of its area).
        band: width of the boundary bands whose colours are compared, in the same unit.
        min_scale: model-grid pixels smaller than this many photo pixels get no grain (the
            network already drew detail at the photo's resolution) unless ``small_faces``.
        small_faces: grain faces whose model-grid pixel is smaller than ``min_scale`` photo
            pixels too, in the band a pixel of ``min_scale`` would lack (the network draws
            less fine detail than real skin has, whatever the face's size).
        detail_ratio: fine-detail energy of the rebuilt region relative to the visible ring
            that the grain aims at. Unmasked faces show more detail below the mask line than on
            the cheeks (lips, nostrils, stubble); the default was chosen on validation photos
            (see docs/evaluation.md) so that the rebuilt region's Laplacian energy comes close
            to the true face's.
    """

    tone: bool = False
    grain: float = 1.0
    ring: float = 0.25
    band: float = 0.06
    min_scale: float = 1.25
    small_faces: bool = False
    detail_ratio: float = 1.8


def skin_ring(hole: np.ndarray, width: float, gap: float = 2.0, skin=None) -> np.ndarray:
    """The visible band around a hole: pixels within ``width`` px of it but more than ``gap``
    px away, restricted to ``skin`` (``H x W`` bool) when given. Returns ``H x W`` bool."""
    import cv2

    m = (np.asarray(hole) > 0).astype(np.uint8)
    d = cv2.distanceTransform(1 - m, cv2.DIST_L2, 3)  # distance to the hole
    ring = (d <= width) & (d > max(1.0, gap))
    return ring if skin is None else ring & (np.asarray(skin) > 0)


def _highpass(rgb: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    f = rgb.astype(np.float32)
    return f - cv2.GaussianBlur(f, (0, 0), sigma)


def grain_field(
    source: np.ndarray,
    ring: np.ndarray,
    size: tuple[int, int],
    patch: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """High-frequency texture for a hole's bounding box, quilted from random patches of the
    ring.

    Args:
        source: ``H x W x 3`` float32 high-pass image (any crop that holds the whole ring).
        ring: ``H x W`` bool in the same grid, where patches may come from (wholly inside it).
        size: ``(rows, cols)`` of the hole's bounding box, where texture is needed.
        patch: patch side in pixels.
    Returns:
        ``rows x cols x 3`` float32 (zero everywhere when the ring holds no whole patch).
    """
    import cv2

    h, w = ring.shape
    bh, bw = size
    p = max(4, int(patch))
    p += p % 2
    step = p // 2
    inside = cv2.erode(ring.astype(np.uint8), np.ones((p, p), np.uint8), anchor=(0, 0))
    cy, cx = np.nonzero(inside[: h - p + 1, : w - p + 1])
    if len(cy) == 0 or bw == 0:
        return np.zeros((bh, bw, 3), np.float32)
    win = np.outer(np.hanning(p + 2)[1:-1], np.hanning(p + 2)[1:-1]).astype(np.float32)
    # channels first, so that a patch's rows are contiguous runs of floats
    planes = np.ascontiguousarray(np.moveaxis(source, -1, 0), np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(planes, (p, p), axis=(1, 2))
    # four grids of non-overlapping patches, offset by half a patch: every pixel of the hole's
    # box gets up to four overlapping patches, blended by their windows
    ny, nx = (bh + p) // p + 1, (bw + p) // p + 1
    canvas = np.zeros((3, ny * p + step, nx * p + step), np.float32)
    weight = np.zeros(canvas.shape[1:], np.float32)
    tiled = np.tile(win, (ny, nx))
    for oy in (0, step):
        for ox in (0, step):
            j = rng.integers(len(cy), size=ny * nx)
            tiles = windows[:, cy[j], cx[j]] * win
            grid = canvas[:, oy : oy + ny * p, ox : ox + nx * p].reshape(3, ny, p, nx, p)
            grid += tiles.reshape(3, ny, nx, p, p).transpose(0, 1, 3, 2, 4)
            weight[oy : oy + ny * p, ox : ox + nx * p] += tiled
    # canvas pixel (step, step) is the box's first pixel
    c = np.moveaxis(canvas[:, step : step + bh, step : step + bw], 0, -1)
    a = weight[step : step + bh, step : step + bw]
    return c / np.maximum(a, 1e-6)[..., None] * (a > 1e-3)[..., None]


def finish_face(
    original: np.ndarray,
    rebuilt: np.ndarray,
    hole: np.ndarray,
    model_px: float,
    cfg: FinishConfig = FinishConfig(),
    landmarks: np.ndarray | None = None,
    seed: int = 0,
    detail=None,
) -> np.ndarray:
    """Give one rebuilt face the visible skin's tone, detail and grain.

    Args:
        original: ``H x W x 3`` uint8 RGB photo as given.
        rebuilt: ``H x W x 3`` uint8 RGB, the photo with this face's hole rebuilt.
        hole: ``H x W`` uint8, 1 = the rebuilt region of this face.
        model_px: photo pixels per pixel of the inpainter's model grid.
        cfg: the settings.
        landmarks: ``(68, 2)`` photo pixel xy of the face; visible skin is then sampled only
            from :func:`skin_region` (default: anywhere around the hole).
        seed: seed of the grain's patch choice (the same input gives the same output).
        detail: a :class:`unmask.stages.detail.DetailRestorer` (or any ``(region,
            model_px) -> region`` on float32 RGB in [0, 255]) run over the hole after the tone
            step where ``model_px`` reaches ``cfg.min_scale``; the grain then adds only the
            detail still missing. ``None``: no detail step.
    Returns:
        ``H x W x 3`` uint8 RGB; pixels outside ``hole`` are those of ``rebuilt``.
    """

    m = (np.asarray(hole) > 0).astype(np.uint8)
    area = int(m.sum())
    if area == 0 or (not cfg.tone and cfg.grain <= 0 and detail is None):
        return rebuilt
    size = float(np.sqrt(area))
    box = _grown_box(m, int(np.ceil(size * (cfg.ring + cfg.band))) + 8)
    o, r, mb = original[box], rebuilt[box].astype(np.float32), m[box]
    sk = None
    if landmarks is not None:
        corner = [box[1].start, box[0].start]
        sk = skin_region(mb.shape, np.asarray(landmarks, np.float32) - corner)
    if cfg.tone:
        from unmask.stages.tone import from_lab, to_lab, tone_offset

        band = max(2, int(round(cfg.band * size)))
        lab = to_lab(r) + tone_offset(o, rebuilt[box], mb, band, sk)
        r = np.where(mb[..., None] > 0, from_lab(lab), r)
    hole_b = mb > 0
    if detail is not None and model_px >= cfg.min_scale:
        from unmask.stages.detail import REACH

        near = _grown_box(hole_b, REACH)
        r[near] = np.where(hole_b[near][..., None], detail(r[near], model_px), r[near])
    if cfg.grain > 0 and (model_px >= cfg.min_scale or cfg.small_faces):
        sigma = 0.5 * max(model_px, cfg.min_scale)
        ring = skin_ring(mb, cfg.ring * size, max(2, sigma * 2), sk)
        if ring.sum() > 16:
            reach = int(np.ceil(4 * sigma)) + 2  # OpenCV's float Gaussian reaches 4 sigma
            # the rebuilt side's detail is only needed inside the hole, the visible side's
            # only on the ring: each is high-passed over its box and the kernel's reach
            near = _grown_box(hole_b, reach)
            have = float(np.mean(_highpass(r[near], sigma)[hole_b[near]] ** 2))
            around = _grown_box(ring, reach)
            hp_src, ring = _highpass(o[around], sigma), ring[around]
            want = cfg.detail_ratio * float(np.mean(hp_src[ring] ** 2))
            # moles, lashes and mask remnants are features, not grain: the texture is cut
            # from the ring's high-pass clipped to its typical spread
            spread = 2.5 * 1.4826 * np.median(np.abs(hp_src[ring]), axis=0) + 1.0
            np.clip(hp_src, -spread, spread, out=hp_src)
            rng = np.random.default_rng(seed)
            rows, cols = _grown_box(hole_b, 0)
            in_box = hole_b[rows, cols]
            grain = grain_field(hp_src, ring, in_box.shape, int(round(6 * sigma)) + 4, rng)
            got = float(np.mean(grain[in_box] ** 2))
            gain = cfg.grain * np.sqrt(max(want - have, 0.0) / max(got, 1e-6))
            out = rebuilt.copy()
            new = gain * grain
            new += r[rows, cols]
            new += 0.5
            np.clip(new, 0, 255, out=new)
            np.copyto(out[box][rows, cols], new.astype(np.uint8), where=in_box[..., None])
            return out
    out = rebuilt.copy()
    out[box][hole_b] = np.clip(r[hole_b] + 0.5, 0, 255).astype(np.uint8)
    return out


def _grown_box(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The bounding box of ``mask``'s nonzero pixels grown by ``margin``, within the mask."""
    import cv2

    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    rows = slice(max(0, y - margin), min(mask.shape[0], y + h + margin))
    return rows, slice(max(0, x - margin), min(mask.shape[1], x + w + margin))


def skin_region(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """Where visible skin may be sampled: the face's landmark hull raised to the forehead,
    without the eyes and brows.

    Args:
        shape: photo ``(H, W)``.
        landmarks: ``(68, 2)`` photo pixel xy, iBUG order.
    Returns:
        ``H x W`` bool.
    """
    import cv2

    from unmask.faces.landmarks import BROWS, EYES

    lm = np.asarray(landmarks, np.float32)
    up = lm[list(BROWS)] - (lm[8] - lm[27]) * 0.35
    hull = cv2.convexHull(np.concatenate([lm, up]).astype(np.int32))
    out = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(out, hull, 1)
    r = max(2, int(0.06 * np.linalg.norm(lm[16] - lm[0])))
    parts = np.ones(shape, np.uint8)
    for group in (BROWS[:5], BROWS[5:], EYES[:6], EYES[6:]):
        cv2.fillConvexPoly(parts, cv2.convexHull(lm[list(group)].astype(np.int32)), 0)
    out[cv2.distanceTransform(parts, cv2.DIST_L2, 3) <= r] = 0
    return out > 0
