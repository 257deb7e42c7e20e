import re
from pathlib import Path

import numpy as np
import pytest

from unmask.evaluation.unseen_masks import UNSEEN_KINDS, UnseenMasks
from unmask.faces.align import MEAN_68
from unmask.faces.landmarks import EYES, MOUTH
from unmask.masking.base import MaskSource

SIDE = 96


def _face(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((SIDE, SIDE, 3)) * 80 + 100).astype(np.uint8)


@pytest.mark.parametrize("kind", UNSEEN_KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_family_covers_the_mouth_not_the_eyes(kind, seed):
    lm = MEAN_68 * SIDE
    masked = UnseenMasks([kind]).apply(_face(), lm, np.random.default_rng(seed))
    assert masked.source == "unseen" and masked.kind == kind
    assert masked.image.shape == (SIDE, SIDE, 3) and masked.image.dtype == np.uint8
    ij = np.round(lm).astype(int)
    assert masked.mask[ij[list(MOUTH), 1], ij[list(MOUTH), 0]].all()
    assert not masked.mask[ij[list(EYES), 1], ij[list(EYES), 0]].any()
    assert masked.alpha[ij[list(EYES), 1], ij[list(EYES), 0]].max() < 0.1


@pytest.mark.parametrize("kind", UNSEEN_KINDS)
def test_deterministic_per_seed(kind):
    src, lm = UnseenMasks([kind]), MEAN_68 * SIDE
    a, b, c = (src.apply(_face(), lm, np.random.default_rng(s)) for s in (5, 5, 6))
    assert np.array_equal(a.image, b.image) and a.params == b.params
    assert not np.array_equal(a.image, c.image)


def test_is_a_mask_source_and_checks_its_input():
    assert isinstance(UnseenMasks(), MaskSource)
    with pytest.raises(ValueError, match="subset"):
        UnseenMasks(["surgical"])
    with pytest.raises(ValueError, match="uint8"):
        UnseenMasks().apply(np.zeros((8, 8)), MEAN_68 * 8, np.random.default_rng(0))


def test_a_face_outside_the_image_gets_no_mask():
    masked = UnseenMasks(["gaiter"]).apply(_face(), MEAN_68 * SIDE + 500, np.random.default_rng(0))
    assert masked.coverage == 0


def test_training_never_sees_the_evaluation_only_families():
    src = Path(__import__("unmask").__file__).parent
    pattern = re.compile(r"unseen_masks|UnseenMasks|UNSEEN_KINDS")
    for package in ("training", "data", "masking"):
        for path in (src / package).rglob("*.py"):
            assert not pattern.search(path.read_text()), f"{path} references unseen masks"
