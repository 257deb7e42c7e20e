"""No-reference figures of rebuilt faces in real masked photos (no unmasked truth exists):
how much fine detail the rebuilt hole carries relative to the visible skin ring around it, the
colour step across its upper edge, the same figures of unmasked faces as the reference, and a
before/after contact sheet of photos chosen by seed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np


def hole_regions(hole: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where one rebuilt face's detail is read: the hole eroded by 2 % of its size (square root
    of its area), the visible skin ring around the hole as :mod:`unmask.stages.finish` samples
    it, and the face's skin region.

    Args:
        hole: ``H x W``, nonzero = the face's rebuilt region.
        landmarks: ``(68, 2)`` photo pixel xy of that face.
    Returns:
        ``(inner, ring, skin)``, each ``H x W`` bool.
    """
    from unmask.metrics.images import erode
    from unmask.stages.finish import FinishConfig, skin_region, skin_ring

    m = (np.asarray(hole) > 0).astype(np.uint8)
    size = float(np.sqrt(max(int(m.sum()), 1)))
    skin = skin_region(m.shape, landmarks)
    ring = skin_ring(m, FinishConfig().ring * size, 2, skin)
    return erode(m, max(1, round(0.02 * size))), ring, skin


def detail_and_seam(photo_out: np.ndarray, hole: np.ndarray, landmarks: np.ndarray) -> dict | None:
    """No-reference figures of one rebuilt face (or, with an unmasked photo and a would-be
    hole, the same figures of the real face).

    Args:
        photo_out: ``H x W x 3`` uint8 RGB photo.
        hole: ``H x W`` uint8, the face's rebuilt region.
        landmarks: ``(68, 2)`` photo pixel xy of that face.
    Returns:
        ``{"lap_hole", "lap_ring", "seam_de"}``: mean |Laplacian| inside the eroded hole and in
        the visible skin ring around it (as :mod:`unmask.stages.finish` samples it), and the
        mean CIELAB step across the hole's upper edge; ``None`` when the ring or edge is empty.
    """
    from unmask.metrics.images import laplacian_energy
    from unmask.stages.finish import FinishConfig
    from unmask.stages.tone import boundary_step

    m = (np.asarray(hole) > 0).astype(np.uint8)
    size = float(np.sqrt(max(int(m.sum()), 1)))
    inner, ring, skin = hole_regions(m, landmarks)
    band = max(2, int(round(FinishConfig().band * size)))
    step, edge = boundary_step(photo_out, photo_out, m, band, skin)
    ys = np.nonzero(m)[0]
    edge[int(ys.mean()) :] = 0  # the upper edge: where the hole meets the visible face
    if ring.sum() < 50 or edge.sum() == 0:
        return None
    return {
        "lap_hole": laplacian_energy(photo_out, inner),
        "lap_ring": laplacian_energy(photo_out, ring),
        "seam_de": float(np.linalg.norm(step, axis=-1)[edge > 0].mean()),
    }


def reference_detail(set_dir: str | Path, limit: int | None = None) -> dict:
    """:func:`detail_and_seam` of the unmasked truths of a set, with the pasted mask as the
    would-be hole: how much more fine detail a real lower face has than the skin ring above."""
    from unmask.io import load_image

    set_dir = Path(set_dir)
    rows = json.loads((set_dir / "index.json").read_text())["photos"][:limit]
    recs = []
    for row in rows:
        d = set_dir / row["id"]
        mask = load_image(d / "mask.png")[..., 0] > 127
        r = detail_and_seam(load_image(d / "truth.png"), mask, np.asarray(row["landmarks"]))
        if r:
            recs.append(r)
    return _detail_summary(recs)


#: Faces whose aligned crop spans fewer photo pixels are reported apart as "small" (their
#: model-grid pixel is under ``FinishConfig.min_scale`` photo pixels at 128 px).
SMALL_SIDE = 160


def _detail_summary(recs: Sequence[dict]) -> dict:
    """Detail ratio (ratio of sums) and mean seam ΔE over ``recs``; where the records carry the
    crop's ``side``, also the detail ratio of the small and the large faces apart."""
    out = {
        "n": len(recs),
        "detail_ratio": float(sum(r["lap_hole"] for r in recs) / sum(r["lap_ring"] for r in recs)),
        "seam_de": float(np.mean([r["seam_de"] for r in recs])),
    }
    if recs and "side" in recs[0]:
        for name, part in (
            ("small", [r for r in recs if r["side"] < SMALL_SIDE]),
            ("large", [r for r in recs if r["side"] >= SMALL_SIDE]),
        ):
            ratio = sum(r["lap_hole"] for r in part) / max(sum(r["lap_ring"] for r in part), 1e-9)
            out[name] = {"n": len(part), "detail_ratio": float(ratio) if part else None}
    return out


def masked_faces(unmasker, folder: str | Path, limit: int | None = None) -> Iterator[tuple]:
    """``(result, face)`` for every face that ``unmasker`` finds masked and rebuilds in the
    first ``limit`` photos of ``folder`` (photos it cannot read are passed over)."""
    from unmask.io import iter_inputs, load_image

    for item in iter_inputs([str(folder)])[:limit]:
        try:
            res = unmasker(load_image(item.path))
        except ValueError:
            continue
        for face in res.faces:
            if face.masked:
                yield res, face


def real_photos(unmasker, folder: str | Path, limit: int | None = None) -> dict:
    """No-reference figures of ``unmasker`` on real masked photos (every masked face found):
    the hole's detail relative to its visible skin ring, and the seam step (CIELAB ΔE)."""
    from unmask.stages.refine import photo_side

    recs = []
    for res, face in masked_faces(unmasker, folder, limit):
        r = detail_and_seam(res.restored, face.mask, face.landmarks)
        if r:
            recs.append(r | {"side": photo_side(face.alignment)})
    return _detail_summary(recs)


def contact_sheet(
    photos: Sequence[np.ndarray], results: Sequence, height: int = 256, per_row: int = 3
) -> np.ndarray:
    """Before | after pairs, ``per_row`` pairs a row, each photo scaled to ``height`` px with
    its aspect kept (area interpolation). Returns ``H x W x 3`` uint8 RGB on white."""
    import cv2

    def fit(img):
        h, w = img.shape[:2]
        size = (max(1, round(w * height / h)), height)
        return cv2.resize(img, size, interpolation=cv2.INTER_AREA)

    gap = np.full((height, 4, 3), 255, np.uint8)
    pairs = [
        np.concatenate([fit(p), gap, fit(r.restored), gap, gap, gap], axis=1)
        for p, r in zip(photos, results, strict=True)
    ]
    rows = [np.concatenate(pairs[i : i + per_row], axis=1) for i in range(0, len(pairs), per_row)]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)


def pick(n: int, k: int, seed: int) -> list[int]:
    """``k`` indices of ``n`` chosen by ``seed`` alone (sorted), so a sheet is not picked by
    hand."""
    return sorted(np.random.default_rng(seed).choice(n, size=min(k, n), replace=False).tolist())


def real_markdown(reference: dict, real: dict) -> str:
    """The no-reference table: detail ratio (hole / visible ring) of real masked photos against
    that of unmasked faces, and the seam step."""
    ref = reference["detail_ratio"]
    lines = [
        f"Unmasked faces ({reference['n']}): lower-face detail / skin ring = {ref:.2f}, "
        f"seam ΔE {reference['seam_de']:.1f}.",
        "",
        "| real masked photos | faces | detail ratio | relative to unmasked (bar 0.8–1.25) "
        f"| small faces (crop < {SMALL_SIDE} px) | large faces | seam ΔE |",
        "|---|---|---|---|---|---|---|",
    ]

    def part(r: dict | None) -> str:
        if not r or r["detail_ratio"] is None:
            return "–"
        return f"{r['detail_ratio'] / ref:.2f} ({r['n']})"

    for name, r in real.items():
        lines.append(
            f"| {name} | {r['n']} | {r['detail_ratio']:.2f} | {r['detail_ratio'] / ref:.2f} "
            f"| {part(r.get('small'))} | {part(r.get('large'))} | {r['seam_de']:.1f} |"
        )
    return "\n".join(lines) + "\n"
