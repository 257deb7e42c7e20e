import torch

from unmask.training.segmenter_steps import with_clean_faces


def test_clean_faces_get_empty_targets_only_where_an_original_exists():
    masked = torch.rand(6, 3, 8, 8)
    clean = masked.clone()
    clean[:3] += 0.1  # samples 0-2 have an unmasked original; 3-5 (real labels) do not
    mask = torch.ones(6, 1, 8, 8)
    batch = {"masked": masked, "clean": clean, "mask": mask}
    x, y = with_clean_faces(batch, 1.0)
    assert torch.equal(x[:3], clean[:3]) and y[:3].sum() == 0
    assert torch.equal(x[3:], masked[3:]) and torch.equal(y[3:], mask[3:])
    x, y = with_clean_faces(batch, 0.0)
    assert torch.equal(x, masked) and torch.equal(y, mask)
