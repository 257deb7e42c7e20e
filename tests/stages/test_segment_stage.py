import numpy as np
import torch

from unmask.stages.segment import PostParams, Segmenter, postprocess


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
