"""Can the shipped attr stage tell adults from children under a mask? The adult head of
``unmask train adult-head`` (a logistic regression on the members' pooled last feature maps),
fitted on masked training crops and read on the masked validation crops, per age band.

    python research/age_probe.py [--dataset data/utk256] [--train-limit 4000]

Prints the probe's accuracy and, per age band, the share read as adults.
"""

from __future__ import annotations

import argparse

import torch

from unmask.data.dataset import FaceMaskDataset
from unmask.evaluation.attr_robust import BANDS
from unmask.runtime.backend import open_net
from unmask.training.adult_head import ADULT_FROM, fit_head, pooled_features


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
    fit_head(ensemble, *pooled_features(ensemble, tr, args.train_limit))
    xv, av = pooled_features(ensemble, va)
    kv = av >= 0
    with torch.no_grad():
        logit = ensemble.adult_head(torch.from_numpy(xv[kv]).float()).squeeze(1).numpy()
    adult, truth = logit > 0, av[kv] >= ADULT_FROM
    print(f"validation crops {kv.sum()}")
    print(f"adult vs not: accuracy {100 * (adult == truth).mean():.2f} %")
    for name, (lo, hi) in BANDS.items():
        sel = (av[kv] >= lo) & (av[kv] < hi)
        print(f"  {name}: {sel.sum()} crops, read as adults {100 * adult[sel].mean():.1f} %")


if __name__ == "__main__":
    main()
