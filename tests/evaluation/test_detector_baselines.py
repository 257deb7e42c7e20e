import numpy as np

from unmask.evaluation.detector_baselines import dlib_predict


def test_dlib_baseline_finds_a_real_face():
    from support import require_dlib, shared_path

    require_dlib()
    path = sorted(shared_path("faces-utk").glob("*.jpg"))[0]
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"))
    boxes, scores, kps = dlib_predict("hog")(img, 0.0)
    assert len(boxes) >= 1 and boxes.shape[1] == 4 and kps.shape == (len(boxes), 5, 2)
