"""Average several trained ``attr`` networks into one (``unmask train ensemble``).

Each member is a promoted weights folder of :class:`~unmask.models.face_attr.FaceAttrNet`; the
result is one :class:`~unmask.models.face_attr.FaceAttrEnsemble` with the same inputs and
outputs, so every stage, the ONNX export and the evaluation run it unchanged. Its gender
temperature is fitted anew on the validation split, with the flip averaging the stage uses.
"""

from __future__ import annotations

import logging
from pathlib import Path

from unmask.models.face_attr import FaceAttrEnsemble

log = logging.getLogger(__name__)


def build(
    members: list[str | Path], landmark_members: list[int] | None = None
) -> tuple[FaceAttrEnsemble, list[dict]]:
    """The ensemble of the ``attr`` networks named by ``members`` (landmarks from
    ``landmark_members``, default all; each gender logit divided by its member's own
    temperature), and for each member its ``args``, ``meta`` and ``temperature``.

    A member is a folder with a FaceAttrNet ``attr.safetensors``, or ``FOLDER#K``: member K
    of the ensemble in FOLDER (to keep some members of a shipped ensemble and replace others).
    """
    picked = [_member(m) for m in members]
    temperatures = [p["temperature"] for p in picked]
    model = FaceAttrEnsemble([p["args"] for p in picked], landmark_members, temperatures)
    for net, p in zip(model.members, picked, strict=True):
        net.load_state_dict(p.pop("state"))
    return model.eval(), picked


def _member(spec: str | Path) -> dict:
    """``args``, ``meta``, ``temperature`` and ``state`` (state dict) of one member spec."""
    from unmask.runtime import weights

    folder, index = Path(spec), None
    if not folder.exists() and "#" in folder.name:
        name, _, index = folder.name.rpartition("#")
        folder = folder.with_name(name)
    if index is not None:
        return member_weights(folder, int(index) if index.isdigit() else -1)
    info = weights.find("attr", folder)
    if info.arch != "FaceAttrNet" or not weights.is_here(info, folder):
        raise ValueError(f"{spec}: no FaceAttrNet attr.safetensors in this folder")
    return {
        "args": info.args,
        "meta": info.meta,
        "state": weights.load_module(info).state_dict(),
        "temperature": info.meta.get("gender_temperature", 1.0),
    }


def member_weights(folder: str | Path, k: int) -> dict:
    """Member ``k`` of the ``FaceAttrEnsemble`` whose ``attr`` weights are in ``folder`` (that
    folder only): its constructor ``args``, ``meta`` (run, step, licence), own gender
    ``temperature`` and ``state`` (state dict). ``ValueError`` when there is no such member."""
    from unmask.runtime import weights

    info = weights.find("attr", folder)
    here = info.arch == "FaceAttrEnsemble" and weights.is_here(info, folder)
    n = len(info.args.get("members", [])) if here else 0
    if not 0 <= k < n:
        raise ValueError(f"{folder}: no member {k} of a FaceAttrEnsemble in this folder")
    meta = {"licence": info.meta.get("licence", ""), **info.meta.get("members", [{}] * n)[k]}
    return {
        "args": info.args["members"][k],
        "meta": meta,
        "state": weights.load_module(info).members[k].state_dict(),
        "temperature": info.args["temperatures"][k],
    }


def promote(
    members: list[str | Path],
    dataset: str | Path,
    out: str | Path,
    exclude_kinds: tuple[str, ...] = (),
    fp16: bool = False,
    int8: bool = False,
    landmark_members: list[int] | None = None,
) -> Path:
    """Write ``out/attr.*``: the ensemble of ``members`` (landmarks from ``landmark_members``,
    default all) with a temperature fitted on the validation split of ``dataset``
    (``exclude_kinds``: mask kinds the members never saw)."""
    from unmask.runtime import weights
    from unmask.training.attr import AttrTrainConfig, calibrate

    model, picked = build(members, landmark_members)
    metas = [p["meta"] for p in picked]
    cfg = AttrTrainConfig(dataset=str(dataset), exclude_kinds=list(exclude_kinds))
    cfg.size = model.image_size
    temperature = calibrate(model, cfg, flip=True)
    log.info("ensemble of %d: temperature %.3f", len(metas), temperature)
    meta = {
        "stage": "attr",
        "trained_on": "masked",
        "members": [{k: m.get(k) for k in ("run", "step", "trained_on")} for m in metas],
        "gender_temperature": temperature,
        "flip_tta": True,
        "image_size": model.image_size,
        "licence": metas[0].get("licence", ""),
    }
    args = {
        "members": [p["args"] for p in picked],
        "landmark_members": model.landmark_members,
        "temperatures": model.temperatures,
    }
    return weights.save(out, "attr", model, "FaceAttrEnsemble", args, meta, fp16, int8)
