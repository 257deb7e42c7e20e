import json

import numpy as np
import pytest
from click.testing import CliRunner

from support import make_tiny_weights
from unmask.data.manifest import split_of
from unmask.evaluation import attr_robust as ar
from unmask.evaluation.robust_report import aggregate, band_temperatures, markdown, worst_family
from unmask.faces.align import MEAN_68

SIDE = 96
FAMILIES = ["procedural/surgical", "unseen/bandana"]


def _faces(n: int = 3) -> list[ar.HeldOutFace]:
    rng = np.random.default_rng(0)
    lm = (MEAN_68 * 0.7 + 0.15) * SIDE
    return [
        ar.HeldOutFace(
            f"face{i}", (rng.random((SIDE, SIDE, 3)) * 255).astype(np.uint8), lm, age, i % 2
        )
        for i, age in enumerate([8, 15, 30][:n])
    ]


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return make_tiny_weights(tmp_path_factory.mktemp("w"), ("detector", "attr"))


def test_protocol_end_to_end_on_tiny_faces(tiny_weights):
    faces = _faces()
    res = ar.evaluate(faces, FAMILIES, tiny_weights, modes=ar.MODES)
    assert len(res["records"]) == len(faces) * len(FAMILIES) * len(ar.MODES)
    table = res["table"]
    assert set(table) == set(ar.MODES)
    aligned = table["aligned"]
    for name in [*FAMILIES, "in-distribution", "eval-only"]:
        assert set(aligned[name]) == {"all", "under 13", "13-17", "adults"}
        m = aligned[name]["all"]
        assert m["n"] == 3 and m["missed"] == 0 and np.isfinite(m["nme_all"])
        assert 0 <= m["gender_acc"] <= 1 and 0 <= m["over_10"] <= 1
    for mode in ("photo", "second"):  # the detector may miss: counted, never scored
        m = table[mode]["in-distribution"]["all"]
        assert m["n"] == 3 and 0 <= m["missed"] <= 3
    res.update(split="test", per_band=1)
    md = markdown(res)
    assert "**aligned mode**" in md and "| unseen/bandana | adults | 1 | 0 |" in md
    assert worst_family(table, "aligned")[0] == "procedural/surgical"
    json.dumps(res)  # the result is JSON-safe


def test_masks_are_the_same_in_every_mode_and_run(tiny_weights):
    a = ar.evaluate(_faces(1), FAMILIES[1:], tiny_weights, modes=("aligned",), seed=3)
    b = ar.evaluate(_faces(1), FAMILIES[1:], tiny_weights, modes=("aligned",), seed=3)
    assert a["records"] == b["records"]


def test_band_temperatures_fit_each_band():
    recs = [
        {"mode": "photo", "band": b, "missed": False, "female": y, "p_female": p}
        for b in ("adults", "under 13")
        for y, p in [(1, 0.9), (0, 0.2), (1, 0.6), (0, 0.45), (1, 0.3)]
    ]
    t = band_temperatures(recs, 1.0)
    assert set(t["photo"]) == {"adults", "under 13"} and all(v > 0 for v in t["photo"].values())
    table = aggregate(
        [{**r, "family": "unseen/gaiter", "nme_all": 0.05, "nme_visible": 0.04,
          "nme_hidden": 0.06, "key": "k"} for r in recs], 1.0, t
    )  # fmt: skip
    assert "ece_band_t" in table["photo"]["eval-only"]["adults"]


def test_family_names_and_sources(tmp_path):
    names = ar.family_names(None)
    assert "procedural/plain" in names and "unseen/gaiter" in names
    assert not any(n.startswith("template/") for n in names)
    with pytest.raises(ValueError, match="template folder"):
        ar.mask_source("template/gas")
    with pytest.raises(ValueError, match="unknown"):
        ar.mask_source("paint/blue")


def test_cli_reads_utk_names_and_a_teacher_cache(tiny_weights, tmp_path):
    from PIL import Image

    from unmask.cli.main import cli

    folder, cache, found = tmp_path / "utk", tmp_path / "cache.json", {}
    folder.mkdir()
    face = _faces(1)[0]
    k = 0
    for age in (9, 40):
        while split_of(name := f"{age}_{k % 2}_0_2017{k:08d}.jpg") != "test":
            k += 1
        k += 1
        Image.fromarray(face.image).save(folder / name)
        found[name] = face.landmarks.tolist()
    cache.write_text(json.dumps(found))
    out = tmp_path / "res"
    args = ["eval", "attr-robust", "--faces", str(folder), "--weights-dir", str(tiny_weights)]
    args += ["--families", "unseen/sports", "--modes", "aligned", "--cache", str(cache)]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    res = json.loads(out.with_suffix(".json").read_text())
    assert res["faces"] == 2 and res["split"] == "test"
    assert set(res["table"]["aligned"]["unseen/sports"]) == {"all", "under 13", "adults"}
    bad = CliRunner().invoke(cli, [*args[:-4], "--families", "paint/blue"])
    assert bad.exit_code == 2 and "unknown" in bad.output
