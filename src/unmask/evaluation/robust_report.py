"""Figures and tables of the robustness protocol (:mod:`unmask.evaluation.attr_robust`).

A record is one face wearing one mask in one mode: ``key``, ``band``, ``female`` (1, 0 or -1),
``family`` (``source/kind``), ``mode``, ``missed`` and, unless missed, ``nme_all``,
``nme_visible``, ``nme_hidden`` (fractions) and ``p_female`` (the stage's calibrated P(female)).
"""

from __future__ import annotations

import numpy as np

from unmask.metrics.calibration import ece, fit_temperature, sigmoid

POOLS = {"in-distribution": ("procedural", "template"), "eval-only": ("unseen",)}
OVER = 0.10  # a face "fails" above this NME


def logits(records: list[dict], temperature: float) -> np.ndarray:
    """Uncalibrated gender logits back from the stage's P(female) and its ``temperature``."""
    p = np.clip(np.array([r["p_female"] for r in records], np.float64), 1e-7, 1 - 1e-7)
    return temperature * np.log(p / (1 - p))


def band_temperatures(records: list[dict], temperature: float) -> dict:
    """``{mode: {band: T}}``: a gender temperature per mode and age band fitted (NLL) on the
    records of known gender (fit on validation records, apply to test ones)."""
    out: dict = {}
    for r in records:
        if _scored(r):
            out.setdefault(r["mode"], {}).setdefault(r["band"], []).append(r)
    return {
        mode: {
            band: fit_temperature(logits(sel, temperature), np.array([r["female"] for r in sel]))
            for band, sel in sorted(bands.items())
        }
        for mode, bands in sorted(out.items())
    }


def _scored(r: dict) -> bool:
    return not r["missed"] and r["female"] >= 0


def metrics(records: list[dict], temperature: float = 1.0, band_t: dict | None = None) -> dict:
    """NME (mean, median, share over :data:`OVER`), misses, gender accuracy and ECE of a set of
    records of one mode; with ``band_t`` also ECE under the per-band temperatures."""
    hit = [r for r in records if not r["missed"]]
    out: dict = {"n": len(records), "missed": len(records) - len(hit)}
    if not hit:
        return out
    nme = np.array([r["nme_all"] for r in hit])
    out.update(nme_all=float(nme.mean()), nme_median=float(np.median(nme)))
    out["over_10"] = float((nme > OVER).mean())
    for g in ("visible", "hidden"):
        out[f"nme_{g}"] = float(np.mean([r[f"nme_{g}"] for r in hit]))
    kp = [r["kp_err"] for r in hit if "kp_err" in r]
    if kp:
        out["kp_err"] = float(np.mean(kp))
    known = [r for r in hit if r["female"] >= 0]
    if known:
        y = np.array([r["female"] for r in known])
        p = np.array([r["p_female"] for r in known])
        out.update(gender_acc=float(((p >= 0.5) == y).mean()), ece=ece(p, y))
        if band_t:
            z = logits(known, temperature)
            t = np.array([band_t.get(r["mode"], {}).get(r["band"], temperature) for r in known])
            out["ece_band_t"] = ece(sigmoid(z / t), y)
    return out


def aggregate(records: list[dict], temperature: float = 1.0, band_t: dict | None = None) -> dict:
    """``{mode: {family or pool: {band or "all": metrics}}}`` over ``records``."""
    res: dict = {}
    families = sorted({r["family"] for r in records})
    groups = {f: (f,) for f in families}
    for pool, sources in POOLS.items():
        members = tuple(f for f in families if f.split("/")[0] in sources)
        if members:
            groups[pool] = members
    from unmask.evaluation.attr_robust import MODES

    for mode in [m for m in MODES if any(r["mode"] == m for r in records)]:
        res[mode] = {}
        for name, members in groups.items():
            sel = [r for r in records if r["mode"] == mode and r["family"] in members]
            by = {"all": sel, **{b: [r for r in sel if r["band"] == b] for b in _bands(sel)}}
            res[mode][name] = {b: metrics(v, temperature, band_t) for b, v in by.items() if v}
    return res


def _bands(records: list[dict]) -> list[str]:
    from unmask.evaluation.attr_robust import BANDS

    return [b for b in BANDS if any(r["band"] == b for r in records)]


def worst_family(table: dict, mode: str = "photo", pool: str = "in-distribution") -> tuple:
    """``(family, NME all)`` of the family of ``pool`` with the highest mean NME."""
    fams = [f for f in table[mode] if f not in POOLS and f.split("/")[0] in POOLS[pool]]
    worst = max(fams, key=lambda f: table[mode][f]["all"].get("nme_all", 0.0))
    return worst, table[mode][worst]["all"].get("nme_all")


def summary(table: dict) -> str:
    """One row per family (all ages): NME all / hidden and adults' gender accuracy per mode."""
    modes = list(table)
    head = "| family | " + " | ".join(
        f"{m} NME all | {m} hidden | {m} adults gender" for m in modes
    )
    lines = [head + " |\n", "|---" * (1 + 3 * len(modes)) + "|\n"]
    for fam in table[modes[0]]:
        cells = [fam]
        for mode in modes:
            m = table[mode].get(fam, {})
            a, ad = m.get("all", {}), m.get("adults", {})
            cells += [_pct(a, "nme_all"), _pct(a, "nme_hidden"), _pct(ad, "gender_acc")]
        lines.append("| " + " | ".join(cells) + " |\n")
    return "".join(lines)


def _pct(m: dict, k: str) -> str:
    return f"{100 * m[k]:.2f}" if k in m else "-"


def markdown(res: dict) -> str:
    """Tables (one per mode, rows family x age band) of a protocol result."""

    lines = [
        f"{res['split']} split, {res['faces']} faces ({res['per_band']} per age band at most), "
        f"weights `{res['weights']}`, mask seed {res['seed']}; NME in % of the outer-eye-corner "
        "distance; >10 % = share of faces over 10 % NME; keypoint err = the detector's five "
        "keypoints against the teacher's, same units; ECE with the shipped temperature "
        f"({res['temperature']:.3f}), ECE band-T with per-band temperatures "
        f"{_temps(res.get('band_t'))} fitted on {res.get('band_t_from') or '-'}.\n\n",
        summary(res["table"]),
    ]
    head = (
        "| family | ages | n | missed | NME all | median | >10 % | visible | hidden "
        "| gender acc | ECE | ECE band-T | keypoint err |\n" + "|---" * 13 + "|\n"
    )
    for mode, table in res["table"].items():
        lines.append(f"\n**{mode} mode**\n\n{head}")
        for fam, bands in table.items():
            for band, m in bands.items():
                cells = [fam, band, str(m["n"]), str(m["missed"])]
                cells += [_pct(m, k) for k in ("nme_all", "nme_median", "over_10")]
                cells += [_pct(m, k) for k in ("nme_visible", "nme_hidden", "gender_acc")]
                cells += [f"{m[k]:.3f}" if k in m else "-" for k in ("ece", "ece_band_t")]
                cells.append(_pct(m, "kp_err"))
                lines.append("| " + " | ".join(cells) + " |\n")
    return "".join(lines)


def _temps(band_t: dict | None) -> str:
    parts = [
        f"{mode}: " + ", ".join(f"{b} {t:.2f}" for b, t in bands.items())
        for mode, bands in (band_t or {}).items()
    ]
    return "; ".join(parts) or "(none)"
