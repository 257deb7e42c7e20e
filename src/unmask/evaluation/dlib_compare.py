"""The dlib teacher's comparison of rebuilt crops with their ground truth: NME of the teacher's
68 landmarks on each output against those on the ground truth (in the box HOG finds on the
ground truth), and the cosine, distance and same-person match of dlib face-recognition
embeddings. dlib and its model files are optional: without them there is no comparison.
"""

from __future__ import annotations

import numpy as np

from unmask.evaluation.inpainter_report import DLIB_SAME_PERSON


class _Dlib:
    """Teacher landmarks on an upscaled crop with a given box, and identity embeddings."""

    def __init__(self, size: int, teacher_size: int) -> None:
        self.f = teacher_size / size

    @classmethod
    def create(cls, size: int, teacher_size: int, notes: list[str]) -> _Dlib | None:
        """The helper, or ``None`` (with a note) when dlib or its model files are missing."""
        from unmask.faces.teacher import TeacherUnavailable, model_path

        try:
            model_path("shape68"), model_path("recognition")
            import dlib  # noqa: F401
        except (TeacherUnavailable, ImportError) as exc:
            notes.append(f"landmark NME and identity skipped: {exc}")
            return None
        return cls(size, teacher_size)

    def up(self, im: np.ndarray) -> np.ndarray:
        import cv2

        s = round(im.shape[0] * self.f)
        return im if s == im.shape[0] else cv2.resize(im, (s, s), interpolation=cv2.INTER_CUBIC)

    def box(self, gt: np.ndarray):
        from unmask.faces import teacher

        up = self.up(gt)
        dets = teacher.detect_dlib(up, "hog", 0) or teacher.detect_dlib(up, "hog", 1)
        return dets[0][0] if dets else None

    def landmarks(self, im: np.ndarray, box) -> np.ndarray:
        from unmask.faces import teacher

        return teacher.shape(self.up(im), box, 68)

    def embed(self, im: np.ndarray, lm: np.ndarray) -> np.ndarray:
        from unmask.faces import teacher

        return teacher.face_descriptor(self.up(im), lm)

    def compare(self, gt: np.ndarray, outs: dict, identity: bool) -> dict | None:
        """Per output: NME (all, hidden) of its teacher landmarks against the ground truth's in
        the box HOG finds on the ground truth and, when ``identity``, the embeddings' cosine,
        Euclidean distance and whether that distance is under :data:`DLIB_SAME_PERSON`.
        ``None`` when HOG finds no face on the ground truth."""
        from unmask.faces.landmarks import HIDDEN
        from unmask.metrics.landmarks import nme_per_face

        box = self.box(gt)
        if box is None:
            return None
        lm_gt = self.landmarks(gt, box)
        emb_gt = self.embed(gt, lm_gt) if identity else None
        res = {}
        for name, out in outs.items():
            lm = self.landmarks(out, box)[None]
            r = {
                "nme_all": nme_per_face(lm, lm_gt[None])[0],
                "nme_hidden": nme_per_face(lm, lm_gt[None], HIDDEN)[0],
            }
            if emb_gt is not None:
                emb = self.embed(out, lm[0])
                dist = float(np.linalg.norm(emb - emb_gt))
                r.update(
                    identity=_cos(emb, emb_gt),
                    identity_dist=dist,
                    identity_match=float(dist < DLIB_SAME_PERSON),
                )
            res[name] = r
        return res


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
