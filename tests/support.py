"""Helpers shared by tests (import as ``from support import ...``; a plain module, because
several ``conftest`` modules exist and ``from conftest import`` would pick the wrong one)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
#: Start of the skip reason of every test that needs ../shared/data (counted in the summary).
SHARED_SKIP = "shared data not available"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{SHARED_SKIP}: {path}")
    return path


def require_dlib() -> None:
    """Skip unless dlib and the face-recognition-models files are installed."""
    if importlib.util.find_spec("dlib") is None:
        pytest.skip("dlib is not installed (pip install 'unmask[train]')")
    from unmask.faces.teacher import TeacherUnavailable, model_path

    try:
        model_path("shape68")
    except TeacherUnavailable as exc:
        pytest.skip(str(exc))


def mean_face_with_mask(side: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean face's 68 landmarks (pixel xy at ``side``) and a uint8 ``side x side`` box
    mask over its lower face, nose tip to below the chin (1 = mask)."""
    from unmask.faces.align import MEAN_68
    from unmask.faces.landmarks import NOSE_TIP

    lm = (MEAN_68 * side).astype(np.float32)
    mask = np.zeros((side, side), np.uint8)
    mask[int(lm[NOSE_TIP, 1]) : int(lm[8, 1]) + 2, int(lm[3, 0]) : int(lm[13, 0])] = 1
    return lm, mask


def make_tiny_dataset(root: Path, n_faces: int = 12, size: int = 64, seed: int = 0) -> Path:
    """Write a synthetic dataset in the `unmask data build` format (random textures, mean-shape
    landmarks with jitter, a box mask over the lower face, the bottom 15 % of each crop marked
    as padding)."""
    from PIL import Image

    from unmask.data.manifest import split_of, write_lines
    from unmask.faces.align import MEAN_68

    rng = np.random.default_rng(seed)
    for sub in ("faces", "masked", "masks", "inside"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    inside = np.full((size, size), 255, np.uint8)
    inside[int(0.85 * size) :] = 0  # the photo ends above the crop's bottom: padding
    for i in range(n_faces):
        fid = f"{i:012x}"
        clean = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        lm = MEAN_68 * size + rng.normal(0, 0.5, (68, 2))
        mask = np.zeros((size, size), np.uint8)
        mask[int(0.55 * size) : int(0.95 * size), int(0.2 * size) : int(0.8 * size)] = 1
        masked = clean.copy()
        masked[mask > 0] = (200, 200, 255)
        Image.fromarray(clean).save(root / "faces" / f"{fid}.jpg")
        Image.fromarray(masked).save(root / "masked" / f"{fid}_0.jpg")
        Image.fromarray(mask * 255).save(root / "masks" / f"{fid}_0.png")
        Image.fromarray(inside).save(root / "inside" / f"{fid}.png")
        split = ["train", "val", "test"][i % 3] if i < 9 else split_of(fid)
        rows.append(
            {
                "id": f"{fid}_0",
                "face_id": fid,
                "source": f"{fid}.jpg",
                "split": split,
                "gender": ["male", "female"][i % 2],
                "age": 20 + i,
                "size": size,
                "clean": f"faces/{fid}.jpg",
                "image": f"masked/{fid}_0.jpg",
                "mask": f"masks/{fid}_0.png",
                "inside": f"inside/{fid}.png",
                "landmarks": lm.round(2).tolist(),
                "teacher_score": 1.0,
                "mask_source": "procedural",
                "mask_type": ["surgical", "cloth"][i % 2],
                "mask_params": {},
                "nose_covered": True,
                "nose_out": False,
                "mouth_covered": True,
                "coverage": float(mask.mean()),
            }
        )
    write_lines(root / "manifest.jsonl", rows)
    (root / "build.json").write_text(json.dumps({"size": size}))
    return root


TINY_ARCH = {
    "detector": (
        "FaceDetector",
        dict(widths=[4, 8, 8, 8, 8], blocks=1, fpn_channels=8, head_channels=8),
    ),
    "attr": ("FaceAttrNet", dict(image_size=32, widths=[8, 8, 16, 16], blocks=1, head_channels=4)),
    "segmenter": ("MaskSegNet", dict(widths=[4, 8, 8], blocks=1)),
    "inpainter": ("InpaintGenerator", dict(widths=[4, 8, 8, 8], dilations=[1, 2], embed_dim=8)),
}
TINY_META = {
    "detector": {"input_size": 64, "score_threshold": 0.0, "top_k": 2},
    "attr": {"gender_temperature": 1.0, "image_size": 32},
    "segmenter": {"image_size": 32, "postprocess": {"threshold": 0.0, "min_area": 0.0}},
    "inpainter": {"image_size": 32},
}


def make_tiny_weights(folder: Path, stages=tuple(TINY_ARCH), seed: int = 0) -> Path:
    """Random tiny networks for every pipeline stage, saved as a weights folder (the detector
    reports its two best peaks whatever they are; the segmenter marks every pixel)."""
    import torch

    from unmask.runtime import weights

    torch.manual_seed(seed)
    for stage in stages:
        arch, args = TINY_ARCH[stage]
        model = weights.build_module(arch, args).eval()
        weights.save(folder, stage, model, arch, args, dict(TINY_META[stage]))
    return folder


def research(name: str):
    """The research script ``research/<name>.py`` as a module (it is not part of the package;
    its own folder goes on ``sys.path`` so that its sibling imports resolve)."""
    import sys

    folder = REPO / "research"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(f"research_{name}", folder / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def masked_photos(folder: Path, n: int = 4) -> Path:
    """``n`` small distinct masked photos (the built-in example, flipped, shifted and scaled),
    one of them also in ``sub/`` under the same stem, and a non-image ``notes.png``."""
    from PIL import Image

    from unmask.demo import masked_example

    (folder / "sub").mkdir(parents=True)
    _, masked, _ = masked_example()
    im = Image.fromarray(masked)
    for i in range(n):
        v = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if i % 2 else im
        v = v.crop((8 * i, 4 * i, 512 - 4 * i, 512)).resize((320 - 16 * i, 320 - 16 * i))
        v.save(folder / f"p{i}.png")
    im.resize((300, 300)).save(folder / "sub" / "p0.png")
    (folder / "notes.png").write_text("not an image")
    return folder


def run_cli(photos: Path, out: Path, *extra: str, command: tuple[str, ...] = ("run",)) -> None:
    """``unmask run PHOTOS PHOTOS/sub -o OUT EXTRA...`` in-process; fails the test on error."""
    from click.testing import CliRunner

    from unmask.cli.main import cli

    args = [*command, str(photos), str(photos / "sub"), "-o", str(out), *extra]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output


def output_files(out: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every image an output folder holds."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.png"))}


def report_entries(report: Path) -> list[dict]:
    """The entries of a ``report.json``, timings left out (they differ from run to run)."""
    from unmask.report import comparable

    return [comparable(e) for e in json.loads(report.read_text())["images"]]
