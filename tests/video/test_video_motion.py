"""The motion of a partly covered face, without any network."""

from __future__ import annotations

import numpy as np

from unmask.faces.align import MEAN_68
from unmask.video.motion import rigid_fit


def test_rigid_fit_ignores_covered_points() -> None:
    shape = MEAN_68 * 100
    moved = shape * 1.1 + [5.0, -3.0]
    measured = moved.copy()
    measured[:17] += [0.0, 25.0]  # the jaw dragged away by an object over it
    fitted, share = rigid_fit(shape, measured, threshold=2.0)
    assert 0.6 < share < 0.9
    assert np.abs(fitted - moved).max() < 0.5
