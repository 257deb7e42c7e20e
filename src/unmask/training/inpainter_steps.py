"""The pieces of one inpainter training step, apart from the loop in
:mod:`unmask.training.inpainter_loop`: the frozen ``attr`` network, the conditioning a batch gets
(predicted or noisy teacher landmarks and P(female)), the landmark maps, the generator's loss
terms, the holes grown around the inference margin, validation and checkpoint selection."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from unmask.faces.landmark_map import render, sigma_for
from unmask.losses import (
    feature_matching,
    g_loss,
    high_frequency_l1,
    hole_l1,
    laplacian_energy_gap,
    over_known,
    patch_weight,
    ssim_loss,
)
from unmask.models.face_attr import member_nets
from unmask.models.inpainter import composite
from unmask.runtime.backend import from_nchw
from unmask.stages.inpaint import hole_radius
from unmask.stages.segment import disk

if TYPE_CHECKING:
    from unmask.training.inpainter import InpaintTrainConfig


class FrozenAttr:
    """The frozen ``attr`` network (gender + landmarks) used for guidance and consistency."""

    def __init__(self, model, temperature: float) -> None:
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.temperature = temperature

    @classmethod
    def load(cls, weights_dir, device, name: str = "attr", only_here: bool = False) -> FrozenAttr:
        """The ``name`` weights found from ``weights_dir`` with the usual fallbacks, or, with
        ``only_here`` (the ``gender_guide``), in exactly that folder."""
        from unmask.runtime import weights

        find = weights.find_here if only_here else weights.find
        info = find(name, weights_dir)
        return cls(weights.load_module(info, str(device)), info.meta.get("gender_temperature", 1))

    def gender_logit(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """The calibrated (temperature-scaled) gender logit of an output of this network."""
        return out["gender_logit"] / self.temperature

    def p_female(self, images: torch.Tensor) -> torch.Tensor:
        """Calibrated P(female) (``N``) of ``N x 3 x S x S`` [0, 1] images, without gradients."""
        with torch.no_grad():
            return torch.sigmoid(self.gender_logit(self(images)))

    def _fit(self, images: torch.Tensor) -> torch.Tensor:
        size = self.model.image_size
        if images.shape[-1] != size:
            images = F.interpolate(images, (size, size), mode="bilinear", antialias=True)
        return images

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run on ``N x 3 x S x S`` [0, 1] images of any S (gradients flow to the images)."""
        return self.model(self._fit(images))

    def feature_gap(self, images: torch.Tensor, target: torch.Tensor, stages: int = 2):
        """Relative L1 gap between the encoder features of ``images`` and of ``target`` (the
        ``stages`` deepest maps of each member, each gap over the target's mean magnitude;
        gradients flow to ``images`` only): feature matching through our own face network,
        not an ImageNet perceptual loss."""
        gaps = []
        for net in member_nets(self.model):
            with torch.no_grad():
                want = net.features(self._fit(target))[-stages:]
            for f, w in zip(net.features(self._fit(images))[-stages:], want, strict=True):
                gaps.append((f - w).abs().mean() / (w.abs().mean() + 1e-6))
        return torch.stack(gaps).mean()


def conditioning(batch: dict, attr: FrozenAttr | None, cfg: InpaintTrainConfig, gen=None):
    """Landmarks (``N x 68 x 2`` px at ``cfg.size``) and P(female) (``N``, 0.5 = unknown) to
    condition on: the attr network's predictions on the masked crop for a ``predicted_prob``
    share of the batch, else teacher landmarks with noise and the label. ``gen=None`` (validation)
    means predictions for all when ``attr`` exists, else the clean teacher values. Without
    guidance nothing is predicted (the label is then only the gender-consistency target)."""
    lm, g = batch["landmarks"], batch["gender"]
    p = torch.where(g >= 0, g.float(), torch.full_like(g, 0.5, dtype=torch.float32))
    n, s = lm.shape[0], cfg.size
    if gen is not None:
        noise = torch.randn(lm.shape, generator=gen) * cfg.landmark_noise * s
        shift = torch.randn(n, 1, 2, generator=gen) * cfg.landmark_shift * s
        lm = lm + (noise + shift).to(lm.device)
    if attr is None or not cfg.guidance or (gen is not None and cfg.predicted_prob <= 0):
        return lm, p
    with torch.no_grad():
        out = attr(batch["masked"])
    use = (
        torch.ones(n, dtype=torch.bool)
        if gen is None
        else (torch.rand(n, generator=gen) < cfg.predicted_prob)
    )
    use = use.to(lm.device)
    lm = torch.where(use[:, None, None], out["landmarks"] * s - 0.5, lm)
    p = torch.where(use, torch.sigmoid(attr.gender_logit(out)), p)
    return lm, p


def guide_maps(landmarks: torch.Tensor, cfg: InpaintTrainConfig) -> torch.Tensor | None:
    """The landmark map for the generator (``None`` without guidance)."""
    if not cfg.guidance:
        return None
    lm, sigma = landmarks.detach(), sigma_for(cfg.size, cfg.landmark_sigma)
    if lm.is_cuda:  # on the GPU (numpy is faster on a CPU: 0.44 s vs 0.83 s at batch 32)
        return render(lm, cfg.size, sigma)
    return torch.from_numpy(render(lm.cpu().numpy(), cfg.size, sigma))


def generator_losses(
    pred, comp, batch, lm_cond, p_cond, attr, fake_logits, fake_feats, real_feats, cfg, guide=None
) -> dict[str, torch.Tensor]:
    """Weighted generator loss terms (``loss`` is their sum). Adversarial inputs may be None;
    ``guide`` is the frozen gender network trained on unmasked faces (``w_guide``)."""
    clean, mask = batch["clean"], batch["mask"]
    known = None if cfg.loss_on_padding else batch.get("inside")
    hole = mask if known is None else mask * known  # hole pixels with a real ground truth
    parts = {
        "l1": hole_l1(pred, clean, mask, cfg.w_valid, known),
        "ssim": ssim_loss(comp, clean, hole),
        "hf": high_frequency_l1(comp, clean, hole),
    }
    total = cfg.w_l1 * parts["l1"] + cfg.w_ssim * parts["ssim"] + cfg.w_hf * parts["hf"]
    if cfg.w_energy > 0:
        parts["energy"] = laplacian_energy_gap(comp, clean, hole, mode=cfg.energy_mode)
        total = total + cfg.w_energy * parts["energy"]
    if fake_logits is not None:
        parts["adv"] = g_loss(fake_logits, cfg.adv_kind, patch_weight(mask, fake_logits))
        parts["fm"] = feature_matching(fake_feats, real_feats)
        total = total + cfg.w_adv * parts["adv"] + cfg.w_fm * parts["fm"]
    if attr is not None and (cfg.w_landmark > 0 or cfg.w_gender > 0):
        out = attr(comp)
        target = (batch["landmarks"] + 0.5) / cfg.size
        parts["lm_pct"] = (out["landmarks"] - target).abs().mean() * 100
        known = (p_cond - 0.5).abs() > 1e-6
        logit = attr.gender_logit(out)
        parts["gender_bce"] = over_known(F.binary_cross_entropy_with_logits, logit, p_cond, known)
        total = total + cfg.w_landmark * parts["lm_pct"] + cfg.w_gender * parts["gender_bce"]
    if attr is not None and cfg.w_attr_feat > 0:
        parts["attr_feat"] = attr.feature_gap(comp, clean)
        total = total + cfg.w_attr_feat * parts["attr_feat"]
    if guide is not None and cfg.w_guide > 0:
        # gender as read on the whole face: the composite should read like the ground truth
        logit = guide.gender_logit(guide(comp))
        want = guide.p_female(clean)
        parts["guide_bce"] = F.binary_cross_entropy_with_logits(logit, want)
        total = total + cfg.w_guide * parts["guide_bce"]
    parts["loss"] = total
    return parts


def selection_score(m: dict) -> float:
    """Checkpoint score: hole PSNR, minus 20 dB per unit of log-sharpness outside [0.8, 1.25]."""
    s = m.get("sharpness", float("nan"))
    off = max(0.0, abs(math.log(s)) - math.log(1.25)) if s > 0 and math.isfinite(s) else 1.0
    return m["psnr_hole"] - 20 * off


@torch.no_grad()
def validate(g, batches: list[dict], attr, cfg: InpaintTrainConfig):
    """Hole/whole PSNR, SSIM, L1 and sharpness of ``g`` on fixed validation batches, and a
    sample grid (rows: masked, conditioning landmarks, output, ground truth)."""
    from unmask.metrics.images import image_metrics, summarize
    from unmask.viz import draw_landmarks, grid

    g.eval()
    recs, rows = [], []
    device = next(g.parameters()).device
    for b in batches:
        b = {k: v.to(device) for k, v in b.items()}
        lm, p = conditioning(b, attr, cfg)
        comp = composite(g(b["masked"], b["mask"], guide_maps(lm, cfg), p), b["masked"], b["mask"])
        out, gt, masked = (from_nchw(t.cpu()) for t in (comp, b["clean"], b["masked"]))
        # as `unmask eval inpainter`: hole pixels of the source photo, not its padding
        masks = (b["mask"] * b["inside"] if "inside" in b else b["mask"])[:, 0].cpu().numpy()
        for i in range(len(out)):
            recs.append(image_metrics(out[i], gt[i], masks[i]))
            if len(rows) < 6:
                rows.append(
                    [masked[i], draw_landmarks(masked[i], lm[i].cpu().numpy()), out[i], gt[i]]
                )
    return summarize(recs), grid(rows)


def margin_px(cfg: InpaintTrainConfig) -> int:
    """The hole margin in pixels at the training size (what :meth:`Inpainter.hole` adds)."""
    return hole_radius(cfg.hole_margin, cfg.size)


def grow_holes(mask: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Grow each ``N x 1 x S x S`` {0, 1} mask by its radius (``N`` ints, pixels) with the
    structuring element of :func:`unmask.stages.segment.dilate` (what inference uses)."""
    out = mask.clone()
    radii = radii.to(mask.device)
    for r in radii.unique().tolist():
        if r <= 0:
            continue
        k = torch.from_numpy(disk(r)).to(mask.device, mask.dtype)
        sel = radii == r
        out[sel] = (F.conv2d(mask[sel], k[None, None], padding=r) > 0.5).to(mask.dtype)
    return out
