"""Where the rebuilt region's fine detail falls short, band by band.

    python research/detail_bands.py SET_DIR REAL_DIR N [KEY=VALUE ...]

For the first N photos of a set made by ``unmask eval photos`` (unmasked truths with pasted
masks) and of a folder of real masked photos, the hole's energy relative to the visible skin
ring in three bands of the grey image (``x - G(0.7)``, ``G(0.7) - G(1.5)``, ``G(1.5) - G(3)``;
Gaussian sigmas in photo pixels) and the mean |Laplacian| that ``unmask eval photos`` reads:

* ``truth``: the unmasked truth with the pasted mask as would-be hole (the reference);
* ``set``: the pipeline's output on the masked photo, with its own hole;
* ``real``: the pipeline's output on the real photos.

Each figure is a ratio of sums over the faces (hole / ring), as the evaluation sums.
``KEY=VALUE`` pairs (JSON values) set fields of the pipeline's ``FinishConfig``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from unmask import Unmasker
from unmask.evaluation.photos_real import hole_regions, masked_faces
from unmask.io import load_image

SIGMAS = (0.7, 1.5, 3.0)


def energies(img: np.ndarray, hole: np.ndarray, lm: np.ndarray) -> dict | None:
    import cv2

    inner, ring, _ = hole_regions(hole, lm)
    if ring.sum() < 50 or inner.sum() < 50:
        return None
    grey = (img.astype(np.float64) / 255.0) @ np.array([0.299, 0.587, 0.114])
    levels = [grey] + [cv2.GaussianBlur(grey, (0, 0), s) for s in SIGMAS]
    rec = {}
    for k in range(len(SIGMAS)):
        band = levels[k] - levels[k + 1]
        rec[f"b{k}"] = (float(np.mean(band[inner] ** 2)), float(np.mean(band[ring] ** 2)))
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_64F, ksize=1))
    rec["lap"] = (float(lap[inner].mean()), float(lap[ring].mean()))
    return rec


def summary(recs: list[dict]) -> dict:
    keys = [k for k in recs[0]]
    out = {k: sum(r[k][0] for r in recs) / sum(r[k][1] for r in recs) for k in keys}
    return out | {"n": len(recs)}


def main(set_dir: str, real_dir: str, n: int, sets: list[str]) -> None:
    from unmask.cli.options import parse_sets
    from unmask.config import from_dict
    from unmask.stages.finish import FinishConfig

    u = Unmasker(finish=from_dict(FinishConfig, parse_sets(tuple(sets))))
    rows = json.loads((Path(set_dir) / "index.json").read_text())["photos"][:n]
    truth_recs, set_recs, real_recs = [], [], []
    for row in rows:
        d = Path(set_dir) / row["id"]
        lm = np.asarray(row["landmarks"], np.float32)
        mask = load_image(d / "mask.png")[..., 0] > 127
        r = energies(load_image(d / "truth.png"), mask, lm)
        if r:
            truth_recs.append(r)
        res = u(load_image(d / "masked.png"))
        if res.faces:
            r = energies(res.restored, res.mask, res.faces[0].landmarks)
            if r:
                set_recs.append(r)
    for res, face in masked_faces(u, real_dir, n):
        r = energies(res.restored, face.mask, face.landmarks)
        if r:
            real_recs.append(r)
    out = {"truth": summary(truth_recs), "set": summary(set_recs), "real": summary(real_recs)}
    for name, fig in out.items():
        print(name, " ".join(f"{k}={v:.3f}" for k, v in fig.items() if k != "n"), f"n={fig['n']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:])
