import numpy as np

from support import make_tiny_weights
from unmask.faces.align import MEAN_68, align
from unmask.faces.landmarks import five_from_68
from unmask.stages.attr import FaceAttributes


def test_look_again_answers_in_the_first_crops_grid(tmp_path):
    attr = FaceAttributes.from_weights(make_tiny_weights(tmp_path, ("attr",)), backend="torch")
    rng = np.random.default_rng(0)
    photo = (rng.random((120, 150, 3)) * 255).astype(np.uint8)
    al = align(photo, five_from_68(MEAN_68 * 100 + [30, 10]), 64)
    first, _ = attr(al.crop)
    lm, p = attr.look_again(photo, al, first[0])
    assert lm.shape == (68, 2) and lm.dtype == np.float32 and 0 <= p <= 1
    # re-aligned on the mean face's own points, the second crop is the first one
    same = MEAN_68 * 64
    lm2, _ = attr.look_again(photo, al, same)
    direct, _ = attr(al.crop)
    assert np.abs(lm2 - direct[0]).max() < 0.5


def test_look_again_keeps_the_first_answer_on_degenerate_points(tmp_path):
    attr = FaceAttributes.from_weights(make_tiny_weights(tmp_path, ("attr",)), backend="torch")
    photo = np.zeros((64, 64, 3), np.uint8)
    al = align(photo, five_from_68(MEAN_68 * 64), 64)
    lm, p = attr.look_again(photo, al, np.full((68, 2), 7.0, np.float32))
    assert p is None and np.all(lm == 7.0)
