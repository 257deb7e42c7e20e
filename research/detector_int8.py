"""A detector against a candidate weights folder's, at the shipped rules.

    python research/detector_int8.py DATASET CANDIDATE_DIR [BASELINE_DIR]

Builds the promotion's validation sets as ``research/detector_flip.py`` does (600 scenes,
1,000 synthetic face-free pictures plus the scikit-image validation photos) and runs both
detectors (the baseline folder's, default the shipped one, and the candidate's) on ONNX
Runtime with every shipped rule (mirrored pass, zoom, verifier, small-face rule), counting
faces at the shipped score threshold. Prints recall, false faces per face-free
picture, keypoint error and the median time per picture of each.
"""

from __future__ import annotations

import json
import sys

from unmask.detection.net import NetDetector
from unmask.metrics.detection import collect, negatives_metrics, synthetic_metrics
from unmask.runtime import weights
from unmask.training.detector import DetectorTrainConfig
from unmask.training.detector_steps import _eval_sets


def main() -> None:
    dataset, candidate = sys.argv[1], sys.argv[2]
    baseline = sys.argv[3] if len(sys.argv) > 3 else weights.shipped_dir()
    cfg = DetectorTrainConfig(
        dataset=dataset, eval_images=600, neg_images=1000, scene={"text": 0.25}
    )
    scenes, negs = _eval_sets(cfg)
    for name, wdir in (("baseline", baseline), ("candidate", candidate)):
        det = NetDetector.from_weights(wdir, score_threshold=0.05, backend="onnx")
        t = float(weights.find_here("detector", wdir).meta["score_threshold"])
        pos = collect(det.predict, [s.image for s in scenes])
        neg = collect(det.predict, negs)
        syn = synthetic_metrics(pos, scenes, (t,))
        fp = negatives_metrics(neg, negs, (t,))
        row = {
            "threshold": t,
            "faces": sum(len(s.boxes) for s in scenes),
            "recall": syn[f"recall_{t}"],
            "false_faces_per_picture": fp[f"neg_fp_per_image_{t}"],
            "kp_nme": syn["kp_nme"],
            "ms_scene": round(pos["ms"], 1),
            "ms_negative": round(neg["ms"], 1),
        }
        print(json.dumps({name: row}), flush=True)


if __name__ == "__main__":
    main()
