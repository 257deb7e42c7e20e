"""The built-in demo: mask the example photo with the synthetic mask engine, rebuild it with
the full pipeline, and lay out ground truth | masked input | detected mask | result.

The example is the astronaut photo (NASA, public domain; the one scikit-image ships), stored
losslessly in ``unmask/assets`` with its 68 teacher landmarks, so the demo needs no files, no
dlib and no scikit-image. The rebuilt face is a plausible synthesis, not the person's real face.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np


def example_face() -> tuple[np.ndarray, np.ndarray]:
    """The built-in unmasked example photo and its 68 teacher landmarks.

    Returns:
        ``(image, landmarks)``: ``512 x 512 x 3`` uint8 RGB and ``(68, 2)`` float32 pixel xy in
        iBUG order (from dlib's 68-point predictor on this photo).
    """
    from PIL import Image

    assets = resources.files("unmask.assets")
    meta = json.loads(assets.joinpath("astronaut.json").read_text())
    with assets.joinpath(meta["image"]).open("rb") as f, Image.open(f) as im:
        image = np.asarray(im.convert("RGB"))
    return image, np.asarray(meta["landmarks"], np.float32)


def example_photo(seed: int = 3) -> np.ndarray:
    """The built-in example with a synthetic face mask drawn on it, ready for an
    :class:`~unmask.Unmasker`: ``512 x 512 x 3`` uint8 RGB. ``seed`` picks the mask."""
    return masked_example(seed)[1]


def masked_example(seed: int = 3, size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The example photo with a procedural face mask drawn on it.

    Args:
        seed: seed of the mask's shape, colour and pattern.
        size: side of the aligned crop the mask is drawn in.
    Returns:
        ``(original, masked, mask)``: the photo and the masked photo, ``H x W x 3`` uint8 RGB,
        and the drawn mask ``H x W`` uint8 {0, 1} in the photo grid.
    """
    image, landmarks = example_face()
    return (image, *mask_photo(image, landmarks, seed, size))


def mask_photo(
    image: np.ndarray, landmarks: np.ndarray, seed: int = 3, size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a procedural face mask on ``image`` (``H x W x 3`` uint8 RGB) from its 68
    ``landmarks`` (pixel xy), in an aligned crop of side ``size``.

    Returns:
        ``(masked, mask)``: the masked photo and the drawn mask ``H x W`` uint8 {0, 1}.
    """
    from unmask.faces.align import align
    from unmask.faces.landmarks import five_from_68
    from unmask.faces.paste import paste_back, photo_mask
    from unmask.masking.procedural import ProceduralMasks

    al = align(image, five_from_68(landmarks), size)
    face = ProceduralMasks().apply(al.crop, al.to_crop(landmarks), np.random.default_rng(seed))
    masked = paste_back(image, face.image, al, face.mask, feather=0.0)
    return masked, photo_mask(al, face.mask, image.shape[:2])


def demo_sheet(unmasker, seed: int = 3, height: int = 384):
    """Run ``unmasker`` on :func:`masked_example`.

    Returns:
        ``(sheet, result)``: the ``height``-pixel-high uint8 RGB sheet (ground truth | masked
        input | detected mask and landmarks | restored) and the :class:`~unmask.types.Result`.
    """
    from unmask.viz import compare_sheet

    original, masked, _ = masked_example(seed)
    result = unmasker(masked)
    return compare_sheet(result, height, before=original), result
