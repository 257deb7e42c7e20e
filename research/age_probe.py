"""Can the shipped attr stage tell adults from children under a mask? A linear probe on the
pooled last-stage features of each member, fitted on masked training crops, read on the masked
validation crops (adult = 18 years or more).

    python research/age_probe.py [--dataset data/utk256] [--train-limit 4000]

Prints the probe's accuracy and, per age band, the share read as adults.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from unmask.data.dataset import FaceMaskDataset
from unmask.evaluation.attr_robust import BANDS
from unmask.runtime.backend import open_net


def features(ensemble, ds, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Pooled last-stage features of every member (concatenated) and the ages."""
    idx = np.arange(len(ds))
    if limit and limit < len(ds):
        idx = np.random.default_rng(0).choice(len(ds), limit, replace=False)
    feats, ages = [], []
    with torch.no_grad():
        for b in DataLoader(Subset(ds, idx.tolist()), 64, num_workers=0):
            x = b["masked"]
            f = [m.features(x)[-1].mean((2, 3)) for m in ensemble.members]
            feats.append(torch.cat(f, 1).numpy())
            ages.append(b["age"].numpy())
    return np.concatenate(feats), np.concatenate(ages)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Weights (last = bias) of an L2-regularised logistic regression, fitted by L-BFGS."""
    xt = torch.from_numpy(x).float()
    yt = torch.from_numpy(y.astype(np.float32))
    w = torch.zeros(x.shape[1] + 1, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        logit = xt @ w[:-1] + w[-1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, yt)
        loss = loss + l2 * (w[:-1] ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="data/utk256")
    ap.add_argument("--train-limit", type=int, default=4000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    net, _ = open_net("attr", backend="torch")
    ensemble = net.module
    tr = FaceMaskDataset(args.dataset, "train", 128, None, ())
    va = FaceMaskDataset(args.dataset, "val", 128, None, ())
    xt, at = features(ensemble, tr, args.train_limit)
    xv, av = features(ensemble, va, None)
    kt, kv = at >= 0, av >= 0
    mu, sd = xt[kt].mean(0), xt[kt].std(0) + 1e-6
    adult_from = BANDS["adults"][0]
    w = fit_logistic((xt[kt] - mu) / sd, at[kt] >= adult_from)
    adult = ((xv[kv] - mu) / sd) @ w[:-1] + w[-1] > 0
    truth = av[kv] >= adult_from
    print(f"train crops {kt.sum()}, validation crops {kv.sum()}")
    print(f"adult vs not: accuracy {100 * (adult == truth).mean():.2f} %")
    for name, (lo, hi) in BANDS.items():
        sel = (av[kv] >= lo) & (av[kv] < hi)
        print(f"  {name}: {sel.sum()} crops, read as adults {100 * adult[sel].mean():.1f} %")


if __name__ == "__main__":
    main()
