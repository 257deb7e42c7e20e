"""The temporal pieces without any network: One-Euro filter, association, cut detection."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from unmask.video import is_video
from unmask.video.synth import ClipSpec, example_still, generate
from unmask.video.track import CutDetector, OneEuro, Track, associate


def test_one_euro_smooths_jitter_at_rest_and_follows_motion() -> None:
    rng = np.random.default_rng(0)
    f = OneEuro(fps=25, min_cutoff=1.0, beta=0.5)
    rest = [f(np.array([100.0]) + rng.normal(0, 2, 1), scale=50)[0] for _ in range(50)]
    assert np.std(np.diff(rest[10:])) < 0.5 * np.std(np.diff(rng.normal(0, 2, 50)))
    f = OneEuro(fps=25, min_cutoff=1.0, beta=0.5)
    ramp = 100 + 20 * np.arange(50)  # 500 px/s = 10 eye distances per second
    out = [f(np.array([x]), scale=50)[0] for x in ramp]
    assert abs(out[-1] - ramp[-1]) < 20  # less than a frame of lag once the speed is known


def test_association_is_greedy_by_iou() -> None:
    tracks = [np.array([0, 0, 10, 10.0]), np.array([50, 50, 70, 70.0])]
    dets = [np.array([51, 50, 71, 70.0]), np.array([200, 0, 210, 10.0]), np.array([1, 0, 11, 10])]
    pairs, free_t, free_d = associate(tracks, dets)
    assert sorted(pairs) == [(0, 2), (1, 0)] and free_t == [] and free_d == [1]


def test_cuts_are_found_and_camera_motion_is_not_a_cut() -> None:
    still = example_still()
    other = example_still(5)
    dark = replace(other, original=other.original // 3, masked=other.masked // 3)
    spec = ClipSpec(frames=40, size=(160, 120), cut=25, occlude=(5, 15))
    detector = CutDetector()
    cuts = [f.index for f in generate(spec, [still, dark]) if detector(f.masked)]
    assert cuts == [25]


def test_an_object_over_much_of_the_frame_is_not_a_cut() -> None:
    import cv2

    frame = cv2.resize(example_still().masked, (320, 240))
    covered = frame.copy()
    covered[:, 100:240] = 128  # a grey bar over 44 % of the frame, in front of the camera
    other = cv2.resize(example_still(5).original, (320, 240)) // 3
    detector = CutDetector()
    assert [detector(f) for f in (frame, covered, frame, other)] == [False, False, False, True]


def test_is_video_goes_by_suffix() -> None:
    assert is_video("a/clip.MP4") and is_video("x.webm") and is_video("y.gif")
    assert not is_video("photo.jpg") and not is_video("notes.txt")


def test_importing_the_api_and_the_video_package_does_not_load_pyav() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from unmask import Unmasker; import unmask.video; "
        "from unmask.video import is_video; is_video('a.mp4'); "
        "assert 'av' not in sys.modules, 'av imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_track_with_two_boxes_matches_a_detection_near_either():
    expected = np.array([100, 100, 140, 140], np.float32)  # carried off by fast motion
    placed = np.array([60, 60, 100, 100], np.float32)  # where the face was last placed
    det = np.array([62, 61, 101, 99], np.float32)
    assert associate([expected], [det]) == ([], [0], [0])
    assert associate([[expected, placed]], [det]) == ([(0, 0)], [], [])


def _track_at(landmarks: np.ndarray) -> Track:
    tr = Track(0, 0, OneEuro(25), np.zeros(4, np.float32))
    tr.measured(landmarks)
    tr.shape = landmarks.copy()
    return tr


def test_a_track_tells_a_moved_face_from_a_covered_one_and_a_detection_confirms() -> None:
    lm = example_still().landmarks.astype(np.float64)
    tr = _track_at(lm)
    c, a = lm.mean(0), np.radians(5)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * 1.1
    moved = (lm - c) @ rot.T + c + 7  # the whole face turned, grown and shifted
    assert tr.covered(moved)[1] == 1.0
    warped = moved.copy()
    warped[:20] += 0.4 * np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    fit, share = tr.covered(warped)  # the jaw off the shape: partly covered; the rest places it
    assert share < 0.75 and np.abs(fit - moved).max() < 1.0
    assert tr.near(lm + 1, gate=0.3) and not tr.near(lm + 40, gate=0.3)

    class Det:
        box = tr.box_of(lm + 40)

    assert tr.confirmed(lm + 40, Det(), 0.6) and not tr.confirmed(lm, Det(), 0.6)
    assert not tr.confirmed(lm + 40, None, 0.6)
    assert tr.drifted(Det.box, 0.6) and not tr.drifted(tr.box_of(lm), 0.6)
