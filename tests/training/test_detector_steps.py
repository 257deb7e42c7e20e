import pytest
import torch

from unmask.training.detector_steps import focal_loss, giou


def test_focal_and_giou_basics():
    target = torch.zeros(1, 1, 4, 4)
    target[0, 0, 1, 2] = 1.0
    good, bad = torch.full_like(target, -6.0), torch.full_like(target, -6.0)
    good[0, 0, 1, 2], bad[0, 0, 3, 3] = 6.0, 6.0
    assert focal_loss(good, target) < 0.01 < focal_loss(bad, target)
    a = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    b = torch.tensor([[0.0, 0, 10, 10], [20, 0, 30, 10]])
    g = giou(a, b)
    assert g[0] == pytest.approx(1.0) and g[1] < 0
