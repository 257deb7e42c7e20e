"""``unmask data build``, ``preview``, ``realseg`` and ``pack``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from unmask.data.build import PADDINGS
from unmask.data.formats import FORMATS


@click.group()
def data() -> None:
    """Build and inspect training datasets."""


@data.command()
@click.option(
    "--faces",
    "faces_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder of face photos.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Dataset folder.")
@click.option(
    "--labels",
    type=click.Choice(FORMATS),
    default="none",
    show_default=True,
    help="Label format of the face folder.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="CSV with columns file[,gender,age] (with --labels csv).",
)
@click.option("--size", default=256, show_default=True, help="Aligned crop side in pixels.")
@click.option("--variants", default=2, show_default=True, help="Masked variants per face.")
@click.option(
    "--mix",
    default="template:0.5,procedural:0.5",
    show_default=True,
    help="Mask sources and weights.",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False),
    help="MaskTheFace-format template folder (needed for template masks).",
)
@click.option("--seed", default=0, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option("--limit", type=int, help="Build at most this many faces.")
@click.option(
    "--padding",
    type=click.Choice(PADDINGS),
    default="masked",
    show_default=True,
    help="Out-of-photo padding of masked crops: made from the photo wearing the mask, as the "
    "pipeline does ('masked'), or mirrored from the unmasked photo, which shows the hidden "
    "face below the mask and so leaks the answer into the padding ('clean').",
)
def build(
    faces_dir, out, labels, csv_path, size, variants, mix, templates, seed, workers, limit, padding
):
    """Align faces, compute teacher landmarks, draw synthetic masks, write a manifest."""
    from tqdm import tqdm

    from unmask.data.build import BuildConfig
    from unmask.data.build import build as run_build
    from unmask.masking.compose import parse_mix

    weights = parse_mix(mix)
    if weights.get("template", 0) > 0 and not templates:
        raise click.UsageError("template masks need --templates DIR (or use --mix procedural)")
    cfg = BuildConfig(
        faces=str(faces_dir),
        out=str(out),
        labels=labels,
        csv=csv_path,
        size=size,
        variants=variants,
        mix=mix,
        templates=templates,
        seed=seed,
        workers=workers,
        limit=limit,
        padding=padding,
    )
    with tqdm(desc="faces", unit="face") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        summary = run_build(cfg, progress=progress)
    click.echo(json.dumps(summary, indent=2))
    click.echo(
        f"built {summary['built']} of {summary['faces']} faces "
        f"({summary['samples']} samples), skipped {summary['skipped']}: {summary['skip_reasons']}"
    )


@data.command()
@click.option(
    "--dataset",
    type=click.Path(file_okay=False),
    help="A built dataset (default: the built-in example photo).",
)
@click.option(
    "-o",
    "--out",
    default="preview.png",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="PNG contact sheet to write.",
)
@click.option("-n", "count", default=8, show_default=True, help="Rows in the sheet.")
@click.option(
    "--templates",
    type=click.Path(file_okay=False),
    help="Template folder, to include template masks in the built-in example.",
)
@click.option("--seed", default=0, show_default=True)
def preview(dataset, out, count, templates, seed):
    """Write a contact sheet: masked | mask | landmarks, one row per sample."""
    from unmask.data.preview import preview_dataset, preview_example
    from unmask.io import save_image

    if dataset:
        sheet = preview_dataset(Path(dataset), count, seed)
    else:
        sheet = preview_example(count, templates, seed)
    save_image(Path(out), sheet)
    click.echo(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")


@data.command()
@click.option(
    "--src",
    default="../shared/data/masked-seg-train",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="MaskedFace-Net style folder (CWM/, IWM/ with masks/*_gt.png).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--size", default=256, show_default=True)
@click.option("--workers", default=2, show_default=True)
def realseg(src, out, size, workers):
    """Align the pixel-labelled masked faces into a dataset folder (for segmentation)."""
    from unmask.data.realseg import prepare_realseg

    s = prepare_realseg(src, out, size=size, workers=workers)
    click.echo(json.dumps(s, indent=2))
    click.echo(
        f"aligned {s['built']} of {s['photos']} photos, skipped {s['skipped']}: {s['skip_reasons']}"
    )


@data.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--size", default=128, show_default=True, help="Side of the packed crops.")
@click.option(
    "--splits", default="train,val", show_default=True, help="Comma-separated splits to keep."
)
@click.option("--variants", help="Comma-separated masked variants to keep (default all).")
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["webp", "jpg", "png"]),
    default="webp",
    show_default=True,
)
@click.option("--quality", default=85, show_default=True, help="WebP/JPEG quality.")
def pack(src, out, size, splits, variants, image_format, quality):
    """Write a compact copy of a built dataset SRC into OUT (smaller crops, chosen splits)."""
    from tqdm import tqdm

    from unmask.data.pack import PackConfig, pack_dataset

    try:
        cfg = PackConfig(
            size=size,
            splits=tuple(s.strip() for s in splits.split(",") if s.strip()),
            variants=None if not variants else tuple(int(v) for v in variants.split(",")),
            image_format=image_format,
            quality=quality,
        )
        s = pack_dataset(src, out, cfg, progress=lambda rows: tqdm(rows, unit="row"))
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"packed {s['rows']} rows ({s['faces']} faces) into {out}: {s['bytes'] / 1e6:.1f} MB"
    )


@data.command("detector-points")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option("--splits", default="train,val", show_default=True, help="Comma-separated.")
@click.option("--weights-dir", type=click.Path(file_okay=False), help="Detector weights folder.")
def detector_points(dataset, splits, weights_dir):
    """Run the face detector on every masked sample of DATASET and keep its five keypoints, so
    that training can cut crops as photo mode does (`detector_align` of `train attr`)."""
    from tqdm import tqdm

    from unmask.api import Unmasker
    from unmask.data.detector_points import FILE, build

    detector = Unmasker(weights_dir).detector
    with tqdm(desc="samples", unit="crop") as bar:

        def progress(i, n):
            bar.total = n
            bar.update(1)

        pts = build(dataset, detector, [s for s in splits.split(",") if s], progress)
    found = sum(v is not None for v in pts.values())
    click.echo(f"{found} of {len(pts)} samples with a detection -> {dataset}/{FILE}")
