"""Template folders in the MaskTheFace format: ``masks.cfg`` (one INI section per template:
``template: templates/X.png`` relative to the cfg's folder and six anchors ``mask_a`` ...
``mask_f`` = left-top, centre-top, right-top, left-bottom, centre-bottom, right-bottom of the
mask in template pixels) and the RGBA ``templates/*.png``. Sections without a template
(``empty*``, ``inpaint*``) are ignored."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIDES = ("front", "left", "right")


@dataclass(frozen=True, eq=False)
class MaskTemplate:
    """One template section of ``masks.cfg``.

    Attributes:
        name: section name, e.g. ``"surgical_blue_left"``.
        path: the RGBA template PNG.
        anchors: ``(6, 2)`` float32 template pixel xy of ``mask_a`` ... ``mask_f``.
        kind: family, lower case: ``"surgical"``, ``"n95"``, ``"kn95"``, ``"cloth"``, ``"gas"``.
        base: name without the side suffix, e.g. ``"surgical_blue"``.
        side: ``"front"``, ``"left"`` (nose toward the image left) or ``"right"``.
    """

    name: str
    path: Path
    anchors: np.ndarray
    kind: str
    base: str
    side: str

    @property
    def yaw(self) -> float:
        """The view's yaw on the scale of :func:`estimate_yaw`: where ``b`` lies between ``a``
        and ``c``, minus 0.5 (about 0 for front views, negative for ``left``)."""
        a, b, c = self.anchors[:3, 0]
        return float((b - a) / (c - a) - 0.5) if abs(c - a) > 1e-6 else 0.0


def parse_masks_cfg(path: str | Path) -> list[MaskTemplate]:
    """Read a MaskTheFace ``masks.cfg`` (or the folder holding it) into :class:`MaskTemplate`\\ s.

    Raises:
        FileNotFoundError: the cfg or a template PNG it names is missing.
        ValueError: the cfg cannot be parsed, an anchor is missing or malformed, or no section
            names a template.
    """
    path = Path(path)
    path = path / "masks.cfg" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"mask template config not found: {path}")
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ValueError(f"cannot parse mask template config {path}: {exc}") from exc
    out = []
    for name in cp.sections():
        sec = cp[name]
        if "template" not in sec:  # empty*, inpaint*: MaskTheFace's non-template modes
            continue
        try:
            anchors = np.array(
                [[float(v) for v in sec[f"mask_{c}"].split(",")] for c in "abcdef"], np.float32
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"{path} [{name}]: need six anchors mask_a..mask_f as 'x, y' ({exc})"
            ) from exc
        if anchors.shape != (6, 2) or not np.all(np.isfinite(anchors)):
            raise ValueError(f"{path} [{name}]: anchors must be six 'x, y' pairs")
        file = path.parent / sec["template"].strip()
        if not file.is_file():
            raise FileNotFoundError(f"{path} [{name}]: template image not found: {file}")
        side = next((s for s in SIDES[1:] if name.lower().endswith("_" + s)), "front")
        base = name[: len(name) - len(side) - 1] if side != "front" else name
        anchors.flags.writeable = False
        out.append(MaskTemplate(name, file, anchors, base.split("_")[0].lower(), base, side))
    if not out:
        raise ValueError(f"{path}: no section names a template")
    return out
