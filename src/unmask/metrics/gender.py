"""Gender agreement between a judge's verdicts on two sets of images, split by group.

The judge (any classifier returning P(female)) reads the rebuilt face and the ground truth;
agreement is the share of pairs where both verdicts fall on the same side of 0.5. Children's
faces are hard to sex for any judge, and where the judge doubts the ground truth its own noise
adds to the rebuild's, so agreement is also reported for adults and where the judge is sure.
"""

from __future__ import annotations

import numpy as np

SURE_MARGIN = 0.3  # "judge sure": P(female) on the ground truth >= 0.8 or <= 0.2


def agreement_groups(
    agree: np.ndarray, ages: np.ndarray, p_truth: np.ndarray | None = None
) -> dict[str, float]:
    """Mean agreement overall and by group.

    ``agree``: ``(N,)`` bool, verdicts equal (or float in [0, 1], the share of several tries
    that agree); ``ages``: ``(N,)`` years; ``p_truth``: ``(N,)``
    the judge's P(female) on the ground truth, in [0, 1] (optional). Returns ``all``, then
    ``adults`` (age >= 18) and ``under_18`` where the group is not empty, and with ``p_truth``
    ``sure_share`` (fraction of samples the judge is sure of) and ``judge_sure``.
    """
    agree, ages = np.asarray(agree, np.float64), np.asarray(ages)
    if agree.shape != ages.shape or agree.ndim != 1 or not len(agree):
        raise ValueError(f"agree {agree.shape} and ages {ages.shape} must be equal, non-empty 1-D")
    adult = ages >= 18
    parts = {"all": agree, "adults": agree[adult], "under_18": agree[~adult]}
    out = {k: float(v.mean()) for k, v in parts.items() if len(v)}
    if p_truth is not None:
        sure = np.abs(np.asarray(p_truth, np.float64) - 0.5) >= SURE_MARGIN
        out["sure_share"] = float(sure.mean())
        if sure.any():
            out["judge_sure"] = float(agree[sure].mean())
    return out
