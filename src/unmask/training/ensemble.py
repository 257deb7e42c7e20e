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
) -> tuple[FaceAttrEnsemble, list]:
    """The ensemble of the ``attr`` weights in each folder of ``members`` (landmarks from
    ``landmark_members``, default all; each gender logit divided by its member's own
    temperature), and their :class:`~unmask.runtime.weights.WeightsInfo`."""
    from unmask.runtime import weights

    infos = [weights.find("attr", m) for m in members]
    for m, info in zip(members, infos, strict=True):
        here = info.path is not None and info.path.parent.resolve() == Path(m).resolve()
        if info.arch != "FaceAttrNet" or not here:
            raise ValueError(f"{m}: no FaceAttrNet attr.safetensors in this folder")
    temperatures = [info.meta.get("gender_temperature", 1.0) for info in infos]
    model = FaceAttrEnsemble([info.args for info in infos], landmark_members, temperatures)
    for net, info in zip(model.members, infos, strict=True):
        net.load_state_dict(weights.load_module(info).state_dict())
    return model.eval(), infos


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

    model, infos = build(members, landmark_members)
    metas = [info.meta for info in infos]
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
        "members": [info.args for info in infos],
        "landmark_members": model.landmark_members,
        "temperatures": model.temperatures,
    }
    return weights.save(out, "attr", model, "FaceAttrEnsemble", args, meta, fp16, int8)
