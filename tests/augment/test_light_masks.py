import numpy as np
import torch

from support import mean_face_with_mask
from unmask.augment.light_masks import TONES, light_mask_batch, recolour_mask, skin_tone
from unmask.faces.landmarks import NOSE_TIP

S = 64


def _face():
    return mean_face_with_mask(S)


def _image(seed=0):
    img = np.random.default_rng(seed).uniform(0.1, 0.3, (3, S, S)).astype(np.float32)
    img[0] += 0.4  # a reddish "skin"
    return img


def test_recolour_paints_the_mask_keeps_shading_and_the_rest():
    lm, mask = _face()
    img = _image()
    out = recolour_mask(img, mask, TONES[2], blur_px=0)
    inside, far = mask > 0, np.ones_like(mask, bool)
    far[int(lm[NOSE_TIP, 1]) - 3 :, :] = False
    assert np.allclose(out[:, far], img[:, far])
    assert np.abs(out[:, inside].mean(1) - TONES[2]).max() < 0.05  # the tone, on average
    luma_in, luma_out = img.mean(0)[inside], out.mean(0)[inside]
    assert np.corrcoef(luma_in, luma_out)[0, 1] > 0.95  # shading follows the original
    assert np.array_equal(recolour_mask(img, np.zeros_like(mask), TONES[0]), img)


def test_skin_tone_reads_the_visible_face():
    lm, mask = _face()
    tone = skin_tone(_image(), mask, lm)
    assert tone.shape == (3,) and tone[0] > tone[1] + 0.3


def test_light_mask_batch_changes_the_drawn_share_only_inside_the_mask():
    lm, mask = _face()
    n = 16
    x = torch.from_numpy(np.stack([_image(i) for i in range(n)]))
    y = torch.from_numpy(np.broadcast_to(mask, (n, 1, S, S)).astype(np.float32).copy())
    lms = torch.from_numpy(np.broadcast_to(lm, (n, 68, 2)).copy())
    assert light_mask_batch(x, y, lms, 0.0) is x
    out = light_mask_batch(x, y, lms, 0.5, torch.Generator().manual_seed(0), blur_px=0)
    changed = (out != x).flatten(1).any(1)
    assert 0 < int(changed.sum()) < n and out.shape == x.shape
    diff = (out != x).any(1)  # N x S x S
    assert not diff[:, torch.from_numpy(mask == 0)].any()
    inside = torch.from_numpy(mask > 0)
    skin = skin_tone(x[0].numpy(), mask, lm).mean()
    for level in out[changed][..., inside].mean((1, 2)).tolist():  # a light tone or the skin's
        assert min(abs(level - t) for t in [*TONES.mean(1), skin]) < 0.06
    again = light_mask_batch(x, y, lms, 0.5, torch.Generator().manual_seed(0), blur_px=0)
    assert torch.equal(out, again)
