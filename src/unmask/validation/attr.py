"""The attr network's predictions over a validation loader and their figures (landmark NME
groups, gender accuracy and calibration error)."""

from __future__ import annotations

import numpy as np
import torch

from unmask.metrics.calibration import ece, sigmoid
from unmask.metrics.landmarks import nme_groups


@torch.no_grad()
def predict(
    model, loader, size: int, flip: bool = False, key: str = "masked"
) -> dict[str, np.ndarray]:
    """Run ``model`` over a loader: landmarks (pixels at ``size``), logits, labels, indices
    (and ``adult``, the adult logits, and ``age``, where the model and the data give them).

    ``flip`` averages each crop with its mirror image, as the shipped stage does
    (:meth:`unmask.stages.attr.FaceAttributes.raw`); ``key`` picks the batch's
    ``"masked"`` or ``"clean"`` crops.
    """
    from unmask.stages.attr import FaceAttributes

    stage = FaceAttributes(model, size, flip=flip)
    out = {"pred": [], "target": [], "logit": [], "gender": [], "index": []}
    for b in loader:
        lm, logit, adult = stage.raw(b[key].numpy())
        if adult is not None:
            out.setdefault("adult", []).append(adult)
        if "age" in b:
            out.setdefault("age", []).append(b["age"].numpy())
        out["pred"].append(lm * size - 0.5)
        out["target"].append(b["landmarks"].numpy())
        out["logit"].append(logit)
        out["gender"].append(b["gender"].numpy())
        out["index"].append(b["index"].numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def summarize(p: dict[str, np.ndarray], temperature: float = 1.0) -> dict[str, float]:
    """NME groups, gender accuracy and ECE of a :func:`predict` output."""
    res = {f"nme_{k}": v for k, v in nme_groups(p["pred"], p["target"]).items()}
    known = p["gender"] >= 0
    if known.any():
        prob = sigmoid(p["logit"][known] / temperature)
        y = p["gender"][known]
        res["gender_acc"] = float(((prob >= 0.5) == y).mean())
        res["gender_ece"] = ece(prob, y)
    return res
