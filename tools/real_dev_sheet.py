"""Before | after sheet of the pipeline on real masked photos (no ground truth exists).

usage: python tools/real_dev_sheet.py OUT.png [PHOTO_DIR] [N_PHOTOS] [WEIGHTS_DIR]

Runs :class:`unmask.Unmasker` on the first ``N_PHOTOS`` photos (sorted names) and tiles the
aligned crop and the rebuilt crop of the first masked face of each, 12 faces, 3 pairs a row.
``WEIGHTS_DIR`` is searched first for weights (e.g. a candidate ``inpainter.*``), as
``Unmasker(weights_dir=...)`` does.
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.api import Unmasker
from unmask.io import ImageError, load_image

out = Path(sys.argv[1])
folder = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data/masked-real-dev")
photos = sorted(folder.iterdir())
photos = photos[: int(sys.argv[3]) if len(sys.argv) > 3 else 40]
weights = sys.argv[4] if len(sys.argv) > 4 else None
unmasker, tiles, found = Unmasker(weights_dir=weights), [], 0
for path in photos:
    try:
        result = unmasker(load_image(path))
    except ImageError as exc:
        print(f"skipped {path.name}: {exc}")
        continue
    faces = [f for f in result.faces if f.masked]
    found += bool(faces)
    if faces and len(tiles) < 12:
        pair = (faces[0].aligned, faces[0].restored)
        tiles.append(
            np.concatenate([np.asarray(Image.fromarray(a).resize((160, 160))) for a in pair], 1)
        )
print(f"{found} of {len(photos)} photos with a rebuilt face")
rows = [np.concatenate(tiles[i : i + 3], 1) for i in range(0, len(tiles) - len(tiles) % 3, 3)]
Image.fromarray(np.concatenate(rows, 0)).save(out)
