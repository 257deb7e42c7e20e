"""Two segmenters on real masked photos without labels: where does one mark less than the other?

Runs :class:`unmask.Unmasker` with weights folder ``--before`` and with ``--after`` (each
searched first, the shipped weights as the fallback) on every photo of ``FOLDER`` and compares
the mask coverage of the first face (share of the aligned crop). Prints JSON: photos with a
masked face (coverage >= the pipeline's ``min_coverage``) under each, the photos where only one
finds it, and the coverage ratio after / before over the photos both find. With ``--sheet``
it also draws, for the photos of ``--photos`` (default: the six lowest ratios), the first face's
aligned crop with the hole the inpainter fills (magenta) under ``--before``, ``--after`` and
each ``--also`` folder, one photo a row.

usage: python research/segmenter_real_coverage.py --before DIR [--after DIR] [FOLDER] [--limit N]
    [--sheet OUT.png [--photos A,B,...] [--also DIR ...]]
"""

import argparse
import json
from pathlib import Path

import numpy as np

from unmask.api import Unmasker
from unmask.io import ImageError, is_image_path, load_image
from unmask.viz import overlay_mask

ap = argparse.ArgumentParser()
ap.add_argument("folder", nargs="?", type=Path, default=Path("../shared/data/masked-real-dev"))
ap.add_argument("--before", required=True)
ap.add_argument("--after", default=None, help="default: the shipped weights")
ap.add_argument("--limit", type=int, default=None)
ap.add_argument("--sheet", type=Path, default=None)
ap.add_argument("--photos", default=None, help="comma-separated names for the sheet")
ap.add_argument("--also", action="append", default=[], help="weights folder drawn on the sheet")
args = ap.parse_args()

runs = {"before": Unmasker(args.before), "after": Unmasker(args.after)}
runs |= {f"also{i}": Unmasker(d) for i, d in enumerate(args.also)}
tiles: dict[str, list[np.ndarray]] = {}
files = sorted(p for p in args.folder.iterdir() if is_image_path(p))[: args.limit]
cover: dict[str, dict[str, float]] = {}
for f in files:
    try:
        image = load_image(f)
    except ImageError:
        continue
    cover[f.name] = {}
    for k, u in runs.items():
        faces = u(image).faces
        cover[f.name][k] = faces[0].mask_coverage if faces else float("nan")
        if args.sheet and faces:
            tiles.setdefault(f.name, []).append(overlay_mask(faces[0].aligned, faces[0].crop_mask))

at = runs["after"].min_coverage
found = {k: {n for n, c in cover.items() if c[k] >= at} for k in ("before", "after")}
both = sorted(found["before"] & found["after"])
ratio = np.array([cover[n]["after"] / cover[n]["before"] for n in both])
order = np.argsort(ratio)
res = {
    "photos": len(cover),
    "masked_face_found": {k: len(v) for k, v in found.items()},
    "only_before": sorted(found["before"] - found["after"]),
    "only_after": sorted(found["after"] - found["before"]),
    "coverage_ratio_after_over_before": {
        "median": round(float(np.median(ratio)), 3),
        "below_0.8": int((ratio < 0.8).sum()),
        "above_1.2": int((ratio > 1.2).sum()),
        "lowest": [(both[i], round(float(ratio[i]), 3)) for i in order[:6]],
    },
}
print(json.dumps(res, indent=1, ensure_ascii=False))

if args.sheet:
    from PIL import Image

    names = args.photos.split(",") if args.photos else [both[i] for i in order[:6]]
    rows = [
        np.concatenate([np.asarray(Image.fromarray(t).resize((160, 160))) for t in tiles[n]], 1)
        for n in names
        if n in tiles and len(tiles[n]) == len(runs)
    ]
    Image.fromarray(np.concatenate(rows, 0)).save(args.sheet)
