import numpy as np
import torch

from unmask.stages.segment import PostParams, Segmenter, grow_soft_edge, postprocess


def _ring(size=40):
    m = np.zeros((size, size), np.float32)
    m[10:30, 8:32] = 0.9
    m[16:22, 16:22] = 0.1  # a hole (e.g. a logo) inside the mask
    m[2, 2] = 0.95  # a one-pixel speck
    return m


def test_postprocess_fills_holes_removes_specks_and_dilates():
    prob = _ring()
    plain = postprocess(prob, 0.5, 0, fill_holes=False)
    assert plain[18, 18] == 0 and plain[2, 2] == 1
    m = postprocess(prob, 0.5, 0, fill_holes=True, min_area_px=4)
    assert m.dtype == np.uint8 and m[18, 18] == 1 and m[2, 2] == 0
    assert m.sum() == 20 * 24
    d = postprocess(prob, 0.5, 2, min_area_px=4)
    assert d[8, 20] == 1 and d[7, 20] == 0 and d[20, 6] == 1 and d[20, 5] == 0
    assert postprocess(np.stack([prob, prob]), 0.5, 2, min_area_px=4).shape == (2, 40, 40)


def test_postprocess_of_empty_prediction_is_empty():
    assert postprocess(np.zeros((16, 16)), 0.5, 3, min_area_px=4).sum() == 0


class _Half(torch.nn.Module):
    """Logit map: positive on the lower half of the crop."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        out = torch.full((x.shape[0], 1, *x.shape[-2:]), -5.0) + self.w
        out[..., x.shape[-2] // 2 :, :] = 5.0
        return out


def test_segmenter_resizes_to_the_model_and_back():
    seg = Segmenter(_Half(), 32, PostParams(threshold=0.5, dilate=2 / 64, min_area=0))
    crops = np.zeros((3, 64, 64, 3), np.uint8)
    prob = seg.predict_prob(crops)
    assert prob.shape == (3, 64, 64) and prob.dtype == np.float32
    assert prob[:, 40:].min() > 0.9 and prob[:, :28].max() < 0.1
    one = seg(crops[0])
    assert one.shape == (64, 64) and one.dtype == np.uint8
    assert one[30:].all() and not one[:29].any()  # 2 px dilation at 64 px
    assert PostParams(dilate=3 / 128).radius(256) == 6


def test_the_hole_grows_into_the_soft_edge_only_where_the_segmenter_sees_mask():
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 1
    prob = np.zeros((64, 64), np.float32)
    prob[18:42, 18:42] = 0.1  # a faint rim two pixels wide all round
    prob[20:40, 41:60] = 0.2  # a faint strap running off to the right
    grown = grow_soft_edge(mask, prob, radius_px=4, low=0.05)
    assert grown[18:42, 18:42].all()  # the rim joins
    assert grown[30, 40:44].all() and not grown[30, 44:].any()  # the strap only within reach
    assert not grown[:16].any()  # no growth where the probability is 0
    assert np.array_equal(grow_soft_edge(mask, prob, 4, 0.5), mask)  # above the rim's level
