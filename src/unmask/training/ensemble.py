"""Average several trained networks of one stage into one (``unmask train ensemble``).

``attr``: each member is a promoted weights folder of
:class:`~unmask.models.face_attr.FaceAttrNet`; the result is one
:class:`~unmask.models.face_attr.FaceAttrEnsemble` with the same inputs and outputs, so every
stage, the ONNX export and the evaluation run it unchanged. Its gender temperature is fitted anew
on the validation split, with the flip averaging the stage uses.

``segmenter``: each member is a promoted :class:`~unmask.models.segmenter.MaskSegNet`; the
result is a :class:`~unmask.models.segmenter.MaskSegEnsemble` (mean probability) whose
post-processing is chosen anew on the validation sets, as ``train promote`` does for one network.
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
    folder, index = Path(spec), None
    if not folder.exists() and "#" in folder.name:
        name, _, index = folder.name.rpartition("#")
        folder = folder.with_name(name)
    if index is not None:
        return member_weights(folder, int(index) if index.isdigit() else -1)
    picked = folder_weights("attr", "FaceAttrNet", folder)
    return {**picked, "temperature": picked["meta"].get("gender_temperature", 1.0)}


def folder_weights(stage: str, arch: str, folder: str | Path) -> dict:
    """``args``, ``meta`` and ``state`` (state dict) of the ``arch`` network whose ``stage``
    weights lie in ``folder`` itself (not a fallback); ``ValueError`` otherwise."""
    from unmask.runtime import weights

    info = weights.find(stage, folder)
    if info.arch != arch or not weights.is_here(info, folder):
        raise ValueError(f"{folder}: no {arch} {stage}.safetensors in this folder")
    return {"args": info.args, "meta": info.meta, "state": weights.load_module(info).state_dict()}


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


def promote_segmenter(
    members: list[str | Path],
    dataset: str | Path,
    out: str | Path,
    real: str | Path | None = None,
    val_limit: int | None = 500,
    fp16: bool = False,
) -> Path:
    """Write ``out/segmenter.*``: the :class:`~unmask.models.segmenter.MaskSegEnsemble` of the
    segmenters in ``members`` (folders holding a promoted MaskSegNet ``segmenter.safetensors``),
    its post-processing chosen on the validation splits of ``dataset`` and ``real`` (at most
    ``val_limit`` crops each, evenly spaced) by
    :func:`~unmask.validation.segmenter.choose_postprocess`."""
    from unmask.models.segmenter import MaskSegEnsemble
    from unmask.runtime import weights
    from unmask.training.segmenter import SegTrainConfig, postprocess_meta

    picked = [folder_weights("segmenter", "MaskSegNet", m) for m in members]
    sizes = {p["meta"].get("image_size", 128) for p in picked}
    if len(sizes) > 1:
        raise ValueError(f"members differ in input size: {sorted(sizes)}")
    model = MaskSegEnsemble([p["args"] for p in picked])
    for net, p in zip(model.members, picked, strict=True):
        net.load_state_dict(p["state"])
    real = str(real) if real else None
    cfg = SegTrainConfig(dataset=str(dataset), real=real, size=sizes.pop(), val_limit=val_limit)
    metas = [p["meta"] for p in picked]
    meta = {
        "stage": "segmenter",
        "arch": "unet",
        "members": [{k: m.get(k) for k in ("run", "step", "postprocess")} for m in metas],
        "image_size": cfg.size,
        **postprocess_meta(model, cfg),
        "data": {"synthetic": str(dataset), "real": real},
        "licence": metas[0].get("licence", ""),
    }
    args = {"members": [p["args"] for p in picked]}
    return weights.save(out, "segmenter", model, "MaskSegEnsemble", args, meta, fp16)
