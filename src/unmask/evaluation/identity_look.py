"""The inpainter's identity read in photo mode, with the attr stage's first answer against its
second look (:meth:`unmask.stages.attr.FaceAttributes.look_again`) as the inpainter's guidance.

Each held-out photo wears one mask of a family; :class:`unmask.Unmasker` rebuilds it twice, once
as shipped and once with the landmarks and P(female) of the second look (the same crop, mask and
context: only the guidance differs). The rebuilt photo and the unmasked original are compared
as :mod:`unmask.evaluation.inpainter` compares crops: dlib embeddings' cosine and same-person
match, and the teacher's NME on the output, in the box HOG finds on the original.
"""

from __future__ import annotations

import logging

import numpy as np

from unmask import Unmasker

log = logging.getLogger(__name__)


def identity_read(faces, families, template_dir=None, weights_dir=None, seed: int = 0) -> dict:
    """Per family and pooled: mean identity cosine, same-person match share and teacher NME on
    the output for the ``first`` (shipped) and ``second`` (second-look) guidance, over the faces
    both runs rebuilt and HOG finds on the original. ``faces``:
    :class:`~unmask.evaluation.attr_robust.HeldOutFace` list."""
    from unmask.data.manifest import stable_hash
    from unmask.evaluation.attr_robust import mask_source
    from unmask.evaluation.dlib_compare import _Dlib

    pipes = {
        "first": Unmasker(weights_dir, device="cpu", second_look=False),
        "second": Unmasker(weights_dir, device="cpu", second_look=True),
    }
    pipes["second"]._stages = pipes["first"]._stages  # the same loaded stages
    side = faces[0].image.shape[0] if faces else 1
    dl = _Dlib(side, side)
    rows: dict[str, list] = {}
    for fam in families:
        src = mask_source(fam, template_dir)
        for face in faces:
            rng = np.random.default_rng([seed, stable_hash(f"{fam}:{face.key}") % 2**32])
            masked = src.apply(face.image, face.landmarks, rng).image
            outs = {k: p(masked) for k, p in pipes.items()}
            if not all(any(f.masked for f in r.faces) for r in outs.values()):
                continue
            got = dl.compare(face.image, {k: r.restored for k, r in outs.items()}, True)
            if got is not None:
                rows.setdefault(fam, []).append(got)
    res = {}
    for name, sel in [*rows.items(), ("all", [r for v in rows.values() for r in v])]:
        res[name] = {"n": len(sel)}
        if not sel:
            continue
        for look in ("first", "second"):
            for key in ("identity", "identity_match", "nme_all", "nme_hidden"):
                res[name][f"{look}_{key}"] = float(np.mean([r[look][key] for r in sel]))
        diff = [r["second"]["identity"] - r["first"]["identity"] for r in sel]
        res[name]["identity_gain"] = float(np.mean(diff))
        res[name]["identity_gain_se"] = float(np.std(diff) / max(np.sqrt(len(diff)), 1))
    return res
