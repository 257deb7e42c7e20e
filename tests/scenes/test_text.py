import numpy as np

from unmask.scenes.text import draw_text


def test_draw_text_writes_letters_inside_the_canvas():
    changed = 0
    for seed in range(10):
        canvas = np.full((120, 90, 3), 128.0, np.float32)
        draw_text(canvas, np.random.default_rng(seed))
        assert canvas.dtype == np.float32 and canvas.shape == (120, 90, 3)
        assert canvas.min() >= 0 and canvas.max() <= 255
        changed += int((canvas != 128).any())
    assert changed == 10


def test_draw_text_is_deterministic_per_seed():
    a = np.zeros((64, 64, 3), np.float32)
    b = np.zeros((64, 64, 3), np.float32)
    draw_text(a, np.random.default_rng(3))
    draw_text(b, np.random.default_rng(3))
    assert np.array_equal(a, b)
