import torch
import torch.nn.functional as F

from unmask.losses import over_known


def test_over_known_uses_only_labelled_samples():
    pred = torch.tensor([0.0, 1.0, 5.0], requires_grad=True)
    target = torch.tensor([1.0, 1.0, -9.0])
    loss = over_known(F.l1_loss, pred, target, torch.tensor([True, True, False]))
    assert loss.item() == 0.5
    loss.backward()
    assert pred.grad[2] == 0 and pred.grad[0] != 0


def test_over_known_is_a_zero_in_the_graph_without_labels():
    pred = torch.ones(4, requires_grad=True)
    loss = over_known(F.l1_loss, pred, torch.zeros(4), torch.zeros(4, dtype=torch.bool))
    assert loss.item() == 0
    loss.backward()
    assert pred.grad is not None and (pred.grad == 0).all()
