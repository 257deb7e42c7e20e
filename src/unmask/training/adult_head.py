"""An adult-or-not head on a trained ``attr`` ensemble, and the gender calibration per age band
that it allows (``unmask train adult-head``).

The head is a logistic regression on the members' pooled last feature maps (what the network
already computes), fitted on masked training crops; nothing else of the network changes. The
gender is then calibrated apart for the faces the head reads as adults and for the others
(a temperature and a bias each, fitted by NLL on the masked validation crops), because a masked
face's gender reads differently at different ages and one temperature cannot fit both.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from unmask.data.dataset import FaceMaskDataset
from unmask.evaluation.attr_robust import BANDS
from unmask.metrics.calibration import fit_logistic, fit_scaling
from unmask.models.face_attr import FaceAttrEnsemble

log = logging.getLogger(__name__)

#: Age (years) from which a face counts as an adult.
ADULT_FROM = BANDS["adults"][0]


@torch.no_grad()
def pooled_features(model: FaceAttrEnsemble, ds, limit: int | None = None, seed: int = 0):
    """What the adult head reads on the masked crops of ``ds`` (``limit`` of them at most,
    chosen by ``seed``): float64 ``N x C`` features and float ``N`` ages (-1 = unknown)."""
    idx = np.arange(len(ds))
    if limit and limit < len(ds):
        idx = np.sort(np.random.default_rng(seed).choice(len(ds), limit, replace=False))
    feats, ages = [], []
    for b in DataLoader(Subset(ds, idx.tolist()), 64, num_workers=0):
        x = b["masked"]
        feats.append(model.pooled([m.features(x) for m in model.members]).double().numpy())
        ages.append(b["age"].numpy())
    return np.concatenate(feats), np.concatenate(ages)


def fit_head(model: FaceAttrEnsemble, x: np.ndarray, ages: np.ndarray, l2: float = 1e-2) -> None:
    """Give ``model`` an adult head fitted on features ``x`` and ``ages`` (unknown ages left
    out), in place: an L2 logistic regression on the standardised features, the
    standardisation folded into the linear layer."""
    known = ages >= 0
    mu, sd = x[known].mean(0), x[known].std(0) + 1e-6
    w, b = fit_logistic((x[known] - mu) / sd, ages[known] >= ADULT_FROM, l2)
    head = torch.nn.Linear(x.shape[1], 1)
    head.weight.data = torch.from_numpy(w / sd).float()[None]
    head.bias.data = torch.tensor([b - float(np.sum(w * mu / sd))], dtype=torch.float32)
    model.adult_head = head


def fit_bands(
    logits: np.ndarray,
    adult: np.ndarray,
    female: np.ndarray,
    temperature: float = 1.0,
    min_crops: int = 50,
) -> dict:
    """Gender calibration per band read by the adult head: ``{"adult": [T, b], "young": [T,
    b]}`` fitted on uncalibrated ``logits``, adult logits and labels (-1 = unknown, left out).
    A band with fewer than ``min_crops`` labelled crops keeps ``[temperature, 0]`` (logged)."""
    known = female >= 0
    out = {}
    for band, sel in (("adult", adult > 0), ("young", adult <= 0)):
        s = known & sel
        if s.sum() < min_crops:
            log.warning("%d labelled crops read as %s: one temperature kept", s.sum(), band)
            out[band] = [float(temperature), 0.0]
        else:
            out[band] = list(fit_scaling(logits[s], female[s]))
    return out


def add_adult_head(
    folder: str | Path,
    dataset: str | Path,
    out: str | Path,
    exclude_kinds: tuple[str, ...] = (),
    limit: int | None = 4000,
    seed: int = 0,
    min_crops: int = 50,
) -> tuple[Path, dict]:
    """Write ``out/attr.*``: the ``attr`` ensemble of ``folder`` with an adult head fitted on
    the masked training crops of ``dataset`` and its gender calibrated per band on the masked
    validation crops (``exclude_kinds``: mask kinds the members never saw; ``min_crops``: the
    fewest labelled validation crops a band is calibrated on, else it keeps the temperature).
    The rest of the network and of its metadata is kept; weights are stored as in ``folder``.

    Returns:
        The written path and the fit's figures on the validation crops.
    """
    from unmask.runtime import weights
    from unmask.stages.attr import FaceAttributes
    from unmask.validation.attr import predict

    info = weights.find_here("attr", folder)
    if info.arch != "FaceAttrEnsemble":
        raise ValueError(f"{folder}: the adult head needs a FaceAttrEnsemble, not {info.arch}")
    model = weights.load_module(info)
    size = model.image_size
    kinds = tuple(exclude_kinds)
    train = FaceMaskDataset(dataset, "train", size, None, kinds)
    fit_head(model, *pooled_features(model, train, limit, seed))
    meta = dict(info.meta)
    runs = FaceAttributes(
        model,
        size,
        flip=meta.get("flip_tta", False),
        second_look=meta.get("second_look", False),
        first_look_flip=meta.get("first_look_flip_tta", True),
    )
    val = DataLoader(FaceMaskDataset(dataset, "val", size, None, kinds), 64, num_workers=0)
    p = predict(model, val, size, runs.gender_flip)  # calibrated as the stage reads gender
    temperature = meta.get("gender_temperature", 1.0)
    bands = fit_bands(p["logit"], p["adult"], p["gender"], temperature, min_crops)
    stage = FaceAttributes(model, size, temperature, bands=bands)
    known = (p["gender"] >= 0) & (p["age"] >= 0)
    adult = p["age"][known] >= ADULT_FROM
    read = p["adult"][known] > 0
    report = {
        "adult_accuracy": _share(read == adult),
        "adults_read_as_adults": _share(read[adult]),
        "minors_read_as_adults": _share(read[~adult]),
        "gender_accuracy": {
            "one temperature": _accuracy(stage, p, known, bands=False),
            "per band": _accuracy(stage, p, known, bands=True),
        },
    }
    meta["gender_bands"] = bands
    meta["adult_head"] = {
        "fitted_on": f"{len(train) if not limit else min(limit, len(train))} masked training "
        f"crops of {Path(dataset).name}, seed {seed}; adult = {ADULT_FROM} years or more",
        "validation": report,
    }
    args = {**info.args, "adult_head": True}
    int8 = weights.stored_int8(info.path)
    path = weights.save(out, "attr", model, "FaceAttrEnsemble", args, meta, int8=int8)
    log.info("adult head: %s", report)
    return path, report


def _accuracy(stage, p: dict, known: np.ndarray, bands: bool) -> dict:
    """Gender accuracy of the validation predictions ``p`` on the ``known`` crops, adults and
    minors apart, with the per-band calibration or the one temperature."""
    prob = stage.p_female(p["logit"], p["adult"] if bands else None)[known]
    right = (prob >= 0.5) == (p["gender"][known] == 1)
    adult = p["age"][known] >= ADULT_FROM
    return {"adults": _share(right[adult]), "minors": _share(right[~adult])}


def _share(flags: np.ndarray) -> float | None:
    """The share of true values, ``None`` for none at all."""
    return float(np.mean(flags)) if np.size(flags) else None
