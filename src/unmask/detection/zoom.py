"""Zoom verification of small detections: a second look at each small candidate face.

A face a dozen pixels wide on the detector's letterbox is a blob; so are a pebble, a coin and
a printed letter, and that is where the false faces sit. Each small candidate is therefore cut
out of the *photo* with some context, enlarged so the face fills a known part of the crop, and
run through the same network again; its score becomes the lower of the first score and the best
score the network gives a face at the expected place in the crop. A real face keeps its eyes,
brows and mask at the larger size; a blob gets a low second score.

A separately trained face / not-face network (:class:`~unmask.models.verifier.FaceVerifier`)
can take the second look instead of, or after, the detector (:func:`verifier_look`).

The second look can only veto: scores never rise (a box that a vetoed one used to suppress in
non-maximum suppression can still appear).
A veto rather than an average of the two looks: an average can raise a candidate whose second
look is confident, which lets clusters of tiny boxes through.
"""

from __future__ import annotations

import numpy as np

#: Candidates scoring under this (before the zoom) are never looked at again.
ZOOM_FLOOR = 0.1
#: Overlap between a face found in the crop and the expected box for it to count.
ZOOM_IOU = 0.3


def zoom_crop(image: np.ndarray, box: np.ndarray, context: float, out: int) -> np.ndarray:
    """The square of ``context`` times the box's longer side around its centre, resized to
    ``out x out`` (uint8 RGB; the photo's border pixels repeat outside it)."""
    import cv2

    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(float(box[2] - box[0]), float(box[3] - box[1]), 1.0) * context / 2
    f = out / (2 * half)
    m = np.array([[f, 0, (half - cx) * f], [0, f, (half - cy) * f]], np.float32)
    return cv2.warpAffine(
        image, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def expected_box(context: float, out: int) -> np.ndarray:
    """Where a :func:`zoom_crop` puts the candidate: float32 ``(1, 4)`` xyxy, centred."""
    half = out / context / 2
    c = out / 2
    return np.array([[c - half, c - half, c + half, c + half]], np.float32)


def second_look(
    look,
    image: np.ndarray,
    boxes: np.ndarray,
    scores: np.ndarray,
    small: np.ndarray,
    context: float,
    out: int,
    floor: float = ZOOM_FLOOR,
) -> np.ndarray:
    """Scores with each ``small`` candidate (boolean ``(n,)``) scoring at least ``floor``
    replaced by ``min(score, look)``; a caller that drops scores under a threshold passes it
    as ``floor`` (candidates under it cannot rise over it, so their look is saved).

    Args:
        look: ``list of out x out uint8 crops -> (k,) float`` second scores in [0, 1]
            (:func:`detector_look`, :func:`verifier_look`).
        image: the ``H x W x 3`` uint8 RGB photo; boxes: float32 ``(n, 4)`` xyxy in its
            pixels; scores: float32 ``(n,)``.
        context: crop side / candidate box side.
        out: crop side in pixels.
    """
    scores = np.asarray(scores, np.float32).copy()
    idx = np.nonzero(np.asarray(small, bool) & (scores >= floor))[0]
    if idx.size:
        second = np.asarray(look([zoom_crop(image, boxes[j], context, out) for j in idx]))
        scores[idx] = np.minimum(scores[idx], second.astype(np.float32))
    return scores


def detector_look(raw_faces, context: float, out: int):
    """A second look by the detector itself: the best score of a face it finds at the
    expected place (:func:`expected_box`, overlap ``ZOOM_IOU``) in each crop, else 0.

    Args:
        raw_faces: ``crop -> (boxes, scores, ...)`` of the network on an ``out``-pixel uint8
            crop, at a low threshold, without any rescoring.
    """
    from unmask.metrics.detection import box_iou

    target = expected_box(context, out)

    def look(crops: list[np.ndarray]) -> np.ndarray:
        second = []
        for crop in crops:
            found, found_scores = raw_faces(crop)[:2]
            ok = box_iou(np.asarray(found).reshape(-1, 4), target)[:, 0] >= ZOOM_IOU
            second.append(float(np.max(found_scores[ok])) if ok.any() else 0.0)
        return np.array(second, np.float32)

    return look


def verifier_look(net):
    """A second look by a face / not-face network
    (:class:`~unmask.models.verifier.FaceVerifier` or a net of :mod:`unmask.runtime.backend`
    running one): its probability of a face for each crop, all crops in one batch."""
    from unmask.metrics.calibration import sigmoid
    from unmask.runtime.backend import to_nchw

    def look(crops: list[np.ndarray]) -> np.ndarray:
        logit = net(image=to_nchw(np.stack(crops)))["logit"]
        return sigmoid(np.asarray(logit, np.float32).reshape(-1))

    return look
