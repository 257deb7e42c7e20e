"""The public API: :class:`Unmasker` runs detect -> align -> gender + landmarks -> segment ->
inpaint -> paste back on a photo.

Example::

    from unmask import Unmasker
    result = Unmasker()("photo.jpg")
    result.restored   # H x W x 3 uint8 RGB, every masked face rebuilt

The rebuilt faces are plausible syntheses, not the people's real faces.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from unmask.faces.align import align, inside_photo, repad, warp_to_crop
from unmask.faces.paste import paste_back, paste_hole, photo_mask
from unmask.stages.finish import FinishConfig
from unmask.stages.loader import SEGMENTERS, StageLoader, resolve_device
from unmask.types import FaceResult, Result

log = logging.getLogger(__name__)

#: Default share of the aligned crop the mask must cover for a face to count as masked.
MIN_COVERAGE = 0.03
GENDERS = ("female", "male")
#: How far (share of the crop's side) the hole may grow into the mask's soft edge.
SOFT_EDGE_REACH = 0.015
#: How a rebuilt crop meets the photo: (width as a share of the crop's side, inside the hole,
#: fade in from the visible face's colour). ``"inside"`` fades it in within the hole (no pixel
#: outside the hole changes, its outermost pixels keep some of the original: on a masked face,
#: the mask's rim); ``"fill"`` does the same from the colour of the visible pixels next to the
#: hole instead; ``"edge"`` replaces the whole hole and fades out within about two pixels
#: beyond it; ``"outside"`` fades out over a wide band beyond the hole.
SEAMS = {
    "inside": (0.008, True, False),
    "fill": (0.008, True, True),
    "edge": (0.008, False, False),
    "outside": (0.02, False, False),
}


class Unmasker(StageLoader):
    """Rebuild masked faces in photos. Stages load lazily on first use.

    Examples::

        >>> from unmask import Unmasker, example_photo
        >>> result = Unmasker()(example_photo())
        >>> result.restored.shape, result.restored.dtype
        ((512, 512, 3), dtype('uint8'))
        >>> [(face.masked, face.landmarks.shape) for face in result.faces]
        [(True, (68, 2))]
        >>> result.mask.shape, result.mask.dtype  # the rebuilt hole, 1 = rebuilt
        ((512, 512), dtype('uint8'))

    Args:
        weights_dir: folder searched first for weights (then ``$UNMASK_HOME/weights``, then the
            shipped weights).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        detector: ``"auto"`` (the trained masked-face detector when its weights exist, else
            dlib CNN), a registered backend name (``"hog"``, ``"cnn"``, ``"unmask"``), or
            ``"aligned"`` for inputs that already are canonical crops.
        segmenter: ``"default"`` (the fast segmenter) or ``"maskrcnn"``.
        crop_size: side of the aligned crop the stages work on.
        min_coverage: a face counts as masked when the mask covers at least this share of the
            aligned crop.
        max_faces: at most this many faces per photo (by score).
        backend: ``"auto"`` (ONNX Runtime on the CPU where ``.onnx`` weights exist, else
            PyTorch), ``"onnx"`` or ``"torch"``.
        passes: inpainting passes per face whose crop reaches past the photo's edge. A further
            pass pastes the result into the photo, cuts the crop again (its padding now mirrors
            the rebuilt face instead of a Telea fill) and rebuilds the hole once more. The shipped
            inpainter was trained on crops padded that way; a second pass costs 0.36 dB in the
            hole (standard error 0.05) and gains 1.5 points of gender agreement on 400 test
            faces, so the default is one; crops wholly inside the photo always get one pass.
        finish: photo-resolution finishing of each rebuilt face (the visible skin's tone and
            grain, :mod:`unmask.stages.finish`): ``True``, ``False`` or a ``FinishConfig``.
        hole_margin: how far the segmented mask is grown into the hole, as a fraction of the
            crop's side; ``None`` = the margin the inpainter was trained with.
        seam: ``"inside"``, ``"fill"``, ``"edge"`` or ``"outside"`` (see :data:`SEAMS`).
        soft_edge: pixels within :data:`SOFT_EDGE_REACH` of the segmented mask whose mask
            probability exceeds this join the hole (its soft edge, seams, ear loops); ``None``
            turns it off.
        second_look: re-align each face on its first 68 landmarks and predict them again
            (more accurate landmarks in photos, for about 1.5 times the attr stage's time;
            see ``docs/robustness.md``); ``None`` = as the attr weights' metadata says.
        refine: redraw each face's hole at the photo's resolution with the edge refiner
            (:mod:`unmask.stages.refine`): the inpainter fills that hole (``soft_edge`` and
            ``hole_margin`` then do not apply) and the rebuilt face is pasted over it alone,
            with the refiner's seam; ``None`` = when refiner weights are found.
        detail: restore fine detail in each rebuilt region at the photo's resolution with the
            detail network (:mod:`unmask.stages.detail`) before the grain step, where the face
            is enlarged from the model grid; ``None`` = when detail weights are found.
        destripe: filter the inpainter's output horizontally on its model grid, against the
            fine vertical streaks the network draws (:func:`unmask.stages.inpaint.destripe`;
            measured in ``docs/evaluation.md``).
        destripe_centre: that filter's centre weight ``c`` in ``[1, c, 1] / (c + 2)``; larger
            is weaker.
    """

    def __init__(
        self,
        weights_dir: str | Path | None = None,
        device: str = "auto",
        detector: str = "auto",
        segmenter: str = "default",
        crop_size: int = 256,
        min_coverage: float = MIN_COVERAGE,
        max_faces: int = 20,
        backend: str = "auto",
        passes: int = 1,
        finish: bool | FinishConfig = True,
        hole_margin: float | None = 0.0,
        seam: str = "inside",
        soft_edge: float | None = 0.05,
        second_look: bool | None = None,
        refine: bool | None = None,
        detail: bool | None = None,
        destripe: bool = True,
        destripe_centre: float = 2.0,
    ) -> None:
        from unmask.runtime.backend import BACKENDS
        from unmask.stages.inpaint import check_destripe_centre

        if segmenter not in SEGMENTERS:
            raise ValueError(f"unknown segmenter {segmenter!r}: use {', '.join(SEGMENTERS)}")
        self.weights_dir = weights_dir
        self.device = resolve_device(device)
        self.detector_name = detector
        self.segmenter_name = segmenter
        self.crop_size = int(crop_size)
        self.min_coverage = float(min_coverage)
        self.max_faces = int(max_faces)
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
        self.backend = backend
        if int(passes) < 1:
            raise ValueError(f"passes must be at least 1, got {passes}")
        self.passes = int(passes)
        if finish is True:
            finish = FinishConfig()
        self.finish = finish or None
        if seam not in SEAMS:
            raise ValueError(f"unknown seam {seam!r}: use {', '.join(SEAMS)}")
        self.seam = seam
        self.hole_margin = hole_margin
        self.soft_edge = soft_edge
        self.second_look = second_look
        self.refine = refine
        self.detail = detail
        self.destripe = bool(destripe)
        self.destripe_centre = check_destripe_centre(destripe_centre)
        self._stages: dict = {}

    # -- running ------------------------------------------------------------------------
    def __call__(self, source, gender: str | None = None) -> Result:
        """Rebuild every masked face of one photo.

        Args:
            source: a path, bytes, PIL image or ``H x W x 3`` RGB uint8 array.
            gender: force ``"female"`` or ``"male"`` for every face (default: predicted).
        Returns:
            :class:`~unmask.types.Result`. Faces without a mask are reported and left untouched.
        Raises:
            unmask.io.ImageError: the input is not a readable image (message says why).
        """
        from unmask.io import load_image

        if gender is not None and gender not in GENDERS:
            raise ValueError(f"gender must be 'female' or 'male', got {gender!r}")
        image = load_image(source)
        t0 = time.perf_counter()
        dets = self.detector.detect(image)[: self.max_faces]
        t_det = 1000 * (time.perf_counter() - t0)
        restored = image.copy()
        union = np.zeros(image.shape[:2], np.uint8)
        faces = []
        for det in dets:
            try:
                face = self._face(image, det, gender)
            except ValueError as exc:  # e.g. degenerate keypoints: not a usable face
                log.warning("skipped a detection at %s: %s", np.round(det.box), exc)
                continue
            faces.append(face)
            if face.masked:
                before = restored
                t = time.perf_counter()
                restored = self._paste(restored, face)
                face.timings_ms["paste"] = 1000 * (time.perf_counter() - t)
                if self.finish is not None:
                    t = time.perf_counter()
                    restored = self._finish(before, restored, face, len(faces))
                    face.timings_ms["finish"] = 1000 * (time.perf_counter() - t)
                union |= face.mask
        total = 1000 * (time.perf_counter() - t0)
        return Result(image, restored, faces, union, {"detect": t_det, "total": total})

    def _paste(self, photo, face: FaceResult) -> np.ndarray:
        if face.refined:
            outside, inside = self.refiner.seam_px(face.alignment)
            return paste_hole(photo, face.restored, face.alignment, face.mask, outside, inside)
        width, inside, fill = SEAMS[self.seam]
        return paste_back(photo, face.restored, face.alignment, face.crop_mask, width, inside, fill)

    def video(self, frames, fps: float = 25.0, gender: str | None = None, **options):
        """Stream a clip: ``H x W x 3`` uint8 RGB frames in, ``(restored frame, faces)`` out,
        with faces tracked, smoothed and their gender decided once per track (see
        :func:`unmask.video.restore_frames`; ``options`` are its knobs). Needs the ``video``
        extra only to read or write files, not for frames already in memory."""
        from unmask.video import restore_frames

        return restore_frames(self, frames, fps, gender, **options)

    def _finish(self, before, pasted, face: FaceResult, seed: int) -> np.ndarray:
        """Tone, detail and grain of the photo-resolution finishing
        (:mod:`unmask.stages.finish`)."""
        from unmask.stages.finish import finish_face
        from unmask.stages.refine import photo_side

        model_px = photo_side(face.alignment) / self.inpainter.image_size
        return finish_face(
            before,
            pasted,
            face.mask,
            model_px,
            self.finish,
            face.landmarks,
            seed,
            self.detail_restorer,
        )

    def _face(self, image: np.ndarray, det, gender: str | None) -> FaceResult:
        times = {}
        t = time.perf_counter()
        al = align(image, det.keypoints, self.crop_size)
        times["align"] = 1000 * (time.perf_counter() - t)
        t = time.perf_counter()
        look = self.attributes.second_look if self.second_look is None else self.second_look
        lm, p_female = self.attributes(al.crop, before_look=look)
        lm, p = lm[0], float(p_female[0])
        if look:
            lm = self.attributes.look_again(image, al, lm)
        times["attributes"] = 1000 * (time.perf_counter() - t)
        t = time.perf_counter()
        prob = self.segmenter.predict_prob(al.crop)
        crop_mask = self.segmenter.postprocess(prob).astype(np.uint8)
        coverage = float(crop_mask.mean())
        masked = coverage >= self.min_coverage
        times["segment"] = 1000 * (time.perf_counter() - t)
        hole = None
        if masked and self.refiner is not None:
            from unmask.stages.refine import place_hole

            t = time.perf_counter()
            found = self.refiner(image, al, prob)
            if found is not None:
                hole, crop_mask = place_hole(found, image.shape[:2], al, crop_mask.shape[0])
            times["refine"] = 1000 * (time.perf_counter() - t)
        if masked and hole is None:
            t = time.perf_counter()
            if self.soft_edge is not None:
                from unmask.stages.inpaint import hole_radius
                from unmask.stages.segment import grow_soft_edge

                radius = hole_radius(SOFT_EDGE_REACH, al.size)
                crop_mask = grow_soft_edge(crop_mask, prob, radius, self.soft_edge)
            crop_mask = self.inpainter.hole(crop_mask, self.hole_margin)
            times["segment"] += 1000 * (time.perf_counter() - t)
        predicted = "female" if p >= 0.5 else "male"
        g = gender or predicted
        g_score = 1.0 if gender else (p if g == "female" else 1 - p)
        restored = al.crop
        if masked:
            t = time.perf_counter()
            # the crop's padding mirrors the photo, mask included, wherever the mask reaches
            # the photo's edge: remake it without the mask (as `data build` now pads its crops)
            context = repad(image, al, crop_mask)
            padded = not inside_photo(image.shape[:2], al.matrix, al.size).all()
            for k in range(self.passes if padded else 1):
                if k:
                    again = paste_back(image, restored, al, crop_mask)
                    context = warp_to_crop(again, al.matrix, al.size).crop
                # the generator was trained and measured on the attr network's P(female): the
                # hard label would push uncertain faces (children) towards a caricature
                restored = self.inpainter(context, crop_mask, lm, gender or p)
            restored = np.where(crop_mask[..., None] > 0, restored, al.crop)
            times["inpaint"] = 1000 * (time.perf_counter() - t)
        else:
            crop_mask = np.zeros_like(crop_mask)
        mask = photo_mask(al, crop_mask, image.shape[:2]) if hole is None else hole
        return FaceResult(
            box=np.asarray(det.box, np.float32),
            score=float(det.score),
            keypoints=np.asarray(det.keypoints, np.float32),
            landmarks=al.to_photo(lm),
            gender=g,
            gender_score=g_score,
            gender_forced=gender is not None,
            masked=masked,
            mask_coverage=coverage if masked else 0.0,
            mask=mask,
            alignment=al,
            restored=restored,
            crop_mask=crop_mask,
            timings_ms=times,
            refined=hole is not None,
        )
