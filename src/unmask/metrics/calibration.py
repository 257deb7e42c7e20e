"""Binary classification calibration: expected calibration error and temperature scaling."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def ece(prob: np.ndarray, label: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of P(label=1) over equal-width confidence bins.

    Confidence is ``max(p, 1 - p)``; accuracy is whether the thresholded prediction is right.
    """
    p = np.asarray(prob, np.float64)
    y = np.asarray(label).astype(bool)
    conf = np.maximum(p, 1 - p)
    correct = (p >= 0.5) == y
    edges = np.linspace(0.5, 1.0, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf > lo) & (conf <= hi) if lo > 0.5 else (conf >= lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(total)


def fit_temperature(logits: np.ndarray, label: np.ndarray) -> float:
    """Temperature T > 0 minimising the NLL of ``sigmoid(logits / T)`` (golden-section search)."""
    z = np.asarray(logits, np.float64)
    y = np.asarray(label, np.float64)

    def nll(t: float) -> float:
        p = np.clip(sigmoid(z / t), 1e-7, 1 - 1e-7)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    for _ in range(60):
        if nll(np.exp(a)) < nll(np.exp(b)):
            hi, b = b, a
            a = hi - g * (hi - lo)
        else:
            lo, a = a, b
            b = lo + g * (hi - lo)
    return float(np.exp((lo + hi) / 2))


def fit_logistic(x: np.ndarray, label: np.ndarray, l2: float = 0.0, iters: int = 50):
    """Logistic regression by Newton's method: weights ``w`` and bias ``b`` minimising the mean
    binary cross-entropy of ``sigmoid(x @ w + b)`` plus ``l2 * |w|^2``.

    Args:
        x: ``N x D`` float features.
        label: ``N`` {0, 1}.
    Returns:
        ``(w, b)``: float64 ``D`` and a float.
    """
    xs = np.asarray(x, np.float64)
    y = np.asarray(label, np.float64)
    n, d = xs.shape
    a = np.concatenate([xs, np.ones((n, 1))], 1)
    reg = np.full(d + 1, 2 * l2)
    reg[-1] = 0.0  # the bias is not shrunk
    theta = np.zeros(d + 1)
    for _ in range(iters):
        p = sigmoid(a @ theta)
        grad = a.T @ (p - y) / n + reg * theta
        hess = (a * (p * (1 - p))[:, None]).T @ a / n + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def fit_scaling(logits: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """Temperature ``T`` and bias ``b`` minimising the NLL of ``sigmoid(logits / T + b)``
    (Platt scaling; :func:`fit_temperature` is the same without the bias)."""
    w, b = fit_logistic(np.asarray(logits, np.float64)[:, None], label)
    if w[0] <= 0:
        raise ValueError("the logits do not rise with the label: no positive temperature")
    return float(1.0 / w[0]), b
