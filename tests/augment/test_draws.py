import torch

from unmask.augment.draws import drawn_crops


def test_drawn_crops_follow_the_probability_and_the_generator():
    assert drawn_crops(8, 0.0, torch.Generator().manual_seed(0)) == []
    every = drawn_crops(8, 1.0, torch.Generator().manual_seed(0))
    assert [i for i, _ in every] == list(range(8))
    a = drawn_crops(64, 0.5, torch.Generator().manual_seed(1))
    b = drawn_crops(64, 0.5, torch.Generator().manual_seed(1))
    assert [i for i, _ in a] == [i for i, _ in b] and 10 < len(a) < 54
    assert [r.random() for _, r in a] == [r.random() for _, r in b]
    assert len({r.random() for _, r in a}) == len(a)  # each crop draws its own
