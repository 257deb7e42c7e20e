"""Before | after sheet of the pipeline on real masked photos (no ground truth exists).

usage: python research/real_dev_sheet.py OUT.png [PHOTO_DIR] [N_PHOTOS] [WEIGHTS_DIR]
    [--start K] [--holes]

Runs :class:`unmask.Unmasker` on ``N_PHOTOS`` photos (sorted names, from the ``K``-th) and
tiles the aligned crop and the rebuilt crop of the first masked face of each, 12 faces, 3 pairs
a row. With ``--holes`` the second tile is the crop with the hole the inpainter fills (the
segmenter's mask grown by the inpainter's margin) in magenta, 28 faces, 4 pairs a row.
``WEIGHTS_DIR`` is searched first for weights (e.g. a candidate ``inpainter.*``), as
``Unmasker(weights_dir=...)`` does.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.api import Unmasker
from unmask.io import ImageError, load_image
from unmask.viz import overlay_mask

ap = argparse.ArgumentParser()
ap.add_argument("out", type=Path)
ap.add_argument("folder", nargs="?", type=Path, default=Path("../shared/data/masked-real-dev"))
ap.add_argument("n", nargs="?", type=int, default=40)
ap.add_argument("weights", nargs="?", default=None)
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--holes", action="store_true")
args = ap.parse_args()
photos = sorted(args.folder.iterdir())[args.start : args.start + args.n]
per_row, limit, side = (4, 28, 120) if args.holes else (3, 12, 160)
unmasker, tiles, found = Unmasker(weights_dir=args.weights), [], 0
for path in photos:
    try:
        result = unmasker(load_image(path))
    except ImageError as exc:
        print(f"skipped {path.name}: {exc}")
        continue
    faces = [f for f in result.faces if f.masked]
    found += bool(faces)
    if faces and len(tiles) < limit:
        crop = faces[0].aligned
        second = faces[0].restored
        if args.holes:
            second = overlay_mask(crop, faces[0].crop_mask)
        pair = (crop, second)
        tiles.append(
            np.concatenate([np.asarray(Image.fromarray(a).resize((side, side))) for a in pair], 1)
        )
print(f"{found} of {len(photos)} photos with a rebuilt face")
tiles = tiles[: len(tiles) - len(tiles) % per_row]
rows = [np.concatenate(tiles[i : i + per_row], 1) for i in range(0, len(tiles), per_row)]
Image.fromarray(np.concatenate(rows, 0)).save(args.out)
