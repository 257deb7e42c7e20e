import numpy as np
import pytest

from unmask.metrics.gender import agreement_groups


def test_groups_split_by_age_and_judge_certainty():
    agree = np.array([1, 1, 0, 0, 1], bool)
    ages = np.array([30, 40, 10, 50, 5])
    p_truth = np.array([0.95, 0.1, 0.5, 0.85, 0.6])
    g = agreement_groups(agree, ages, p_truth)
    assert g["all"] == pytest.approx(0.6)
    assert g["adults"] == pytest.approx(2 / 3)
    assert g["under_18"] == pytest.approx(0.5)
    assert g["sure_share"] == pytest.approx(0.6)
    assert g["judge_sure"] == pytest.approx(2 / 3)


def test_fractional_agreement_and_empty_groups_are_left_out():
    g = agreement_groups(np.array([0.5, 1.0]), np.array([30, 20]), np.array([0.55, 0.45]))
    assert g == {"all": 0.75, "adults": 0.75, "sure_share": 0.0}


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        agreement_groups(np.ones(3, bool), np.ones(2))
