import numpy as np

from unmask.stages.tone import pull_push


def test_pull_push_keeps_known_values_and_fills_between():
    v = np.zeros((40, 50, 3), np.float32)
    w = np.zeros((40, 50), np.float32)
    v[0], w[0] = 10, 1
    v[-1], w[-1] = 20, 1
    out = pull_push(v, w)
    assert np.allclose(out[0], 10) and np.allclose(out[-1], 20)
    mid = out[20, 25, 0]
    assert 10 < mid < 20
    # monotone from the top row to the bottom row
    col = out[:, 25, 0]
    assert np.all(np.diff(col) >= -1e-3)
