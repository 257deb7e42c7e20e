"""``unmask eval <stage>``: metrics of a stage on held-out data, printed and saved."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("eval")
def evaluate() -> None:
    """Evaluate trained stages on held-out data."""


def _write(res: dict, md: str, out: str | None) -> None:
    click.echo(md)
    if out:
        from unmask.io import save_json

        base = Path(out)
        save_json(base.with_suffix(".json"), res)
        base.with_suffix(".md").write_text(md)
        click.echo(f"wrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")


@evaluate.command("attr")
@click.option("--dataset", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--weights-dir", type=click.Path(file_okay=False), help="Folder with attr.*")
@click.option("--split", default="test", show_default=True)
@click.option("--held-out", "held_out", default="", help="Comma-separated unseen mask kinds.")
@click.option(
    "--baseline-limit",
    default=600,
    show_default=True,
    help="Samples for the dlib baseline (0 = skip).",
)
@click.option("--name", default="attr", show_default=True, help="Weights name, e.g. gender_judge.")
@click.option(
    "--inputs",
    type=click.Choice(["masked", "clean"]),
    default="masked",
    show_default=True,
    help="Score the masked crops or their unmasked originals.",
)
@click.option(
    "--backend",
    type=click.Choice(["torch", "onnx"]),
    default="torch",
    show_default=True,
    help="Score the .safetensors network or the .onnx file the pipeline runs (int8 where "
    "exported so).",
)
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_attr(dataset, weights_dir, split, held_out, baseline_limit, name, inputs, backend, out):
    """Gender accuracy/ECE and landmark NME (gender + landmarks network)."""
    from unmask.evaluation.attr import evaluate as run
    from unmask.evaluation.attr import markdown

    kinds = tuple(k for k in held_out.split(",") if k)
    res = run(
        dataset,
        weights_dir,
        split,
        kinds,
        baseline_limit or 0,
        name=name,
        inputs=inputs,
        backend=backend,
    )
    _write(res, markdown(res), out)


@evaluate.command("segmenter")
@click.option("--weights-dir", type=click.Path(file_okay=False))
@click.option(
    "--segmenter",
    "arch",
    type=click.Choice(["unet", "maskrcnn"]),
    default="unet",
    show_default=True,
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="LABEL=DIR:SPLIT[:dark|:clean]",
    help="Repeatable; default: data/utk256:test, the same darkened (:dark: black masks "
    "against dark surroundings), its unmasked originals (:clean: every mark is false) and "
    "data/realseg256:test.",
)
@click.option("--limit", type=int, help="At most N images per set.")
@click.option(
    "--preview",
    type=click.Path(dir_okay=False),
    help="Also write a sheet of predicted masks on real photos.",
)
@click.option("--preview-dir", default="../shared/data/masked-real-dev", show_default=True)
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_segmenter(weights_dir, arch, sets, limit, preview, preview_dir, out):
    """IoU/Dice/boundary F (raw), leftover/extra area (post-processed), CPU ms per face."""
    from unmask.evaluation.segmenter import VARIANTS, markdown, preview_real
    from unmask.evaluation.segmenter import evaluate as run
    from unmask.stages.segment import STAGE_NAMES

    name, datasets = STAGE_NAMES[arch], None
    if sets:
        datasets = {}
        for item in sets:
            label, _, rest = item.partition("=")
            variant = ()
            head, _, last = rest.rpartition(":")
            if last in VARIANTS:
                rest, variant = head, (last,)
            folder, sep, split = rest.rpartition(":")
            datasets[label] = ((folder, split) if sep else (rest, "test")) + variant
    res = run(weights_dir, name, datasets, limit=limit)
    _write(res, markdown(res), out)
    if preview:
        from unmask.io import save_image

        sheet, missing = preview_real(weights_dir, name, preview_dir)
        save_image(preview, sheet)
        click.echo(f"wrote {preview}; no face found in {len(missing)}: {', '.join(missing)}")


@evaluate.command("detector")
@click.option("--dataset", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--weights-dir", type=click.Path(file_okay=False))
@click.option("--dev", default="../shared/data/masked-real-dev", show_default=True)
@click.option("--synthetic", default=300, show_default=True, help="Held-out synthetic scenes.")
@click.option("--negatives", default=200, show_default=True, help="Face-free pictures.")
@click.option("--baselines", default="hog,cnn", show_default=True)
@click.option("--baseline-images", default=100, show_default=True)
@click.option("--threshold", type=float)
@click.option("--sheet", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_detector(
    dataset,
    weights_dir,
    dev,
    synthetic,
    negatives,
    baselines,
    baseline_images,
    threshold,
    sheet,
    out,
):
    """Recall / false faces / real-photo found share of the face detector, beside dlib."""
    from unmask.evaluation.detector import evaluate as run
    from unmask.evaluation.detector_report import markdown

    res = run(
        dataset,
        weights_dir,
        threshold,
        tuple(k for k in baselines.split(",") if k),
        baseline_images,
        sheet_path=sheet,
        dev=dev or None,
        synthetic=synthetic,
        negatives=negatives,
    )
    _write(res, markdown(res), out)


@evaluate.command("inpainter")
@click.option("--dataset", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--weights-dir", type=click.Path(file_okay=False), help="Folder with inpainter.*")
@click.option(
    "--label",
    default="shipped (guided)",
    show_default=True,
    help="Row label of the --weights-dir model.",
)
@click.option("--l1-dir", type=click.Path(file_okay=False), help="L1-only baseline inpainter.*")
@click.option(
    "--ablation-dir",
    "ablation_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Unguided ablation inpainter.* (repeat per seed).",
)
@click.option(
    "--also",
    "others",
    multiple=True,
    metavar="LABEL=DIR",
    help="A further inpainter.* folder to put beside them, as row LABEL (repeatable).",
)
@click.option("--judge-dir", type=click.Path(file_okay=False), help="Folder with gender_judge.*")
@click.option("--attr-dir", type=click.Path(file_okay=False), help="Folder with attr.*")
@click.option("--split", default="test", show_default=True)
@click.option("--limit", type=int, default=None, help="Evaluate the first N samples only.")
@click.option(
    "--identity-limit",
    default=500,
    show_default=True,
    help="Samples with dlib identity embeddings (0 = all).",
)
@click.option(
    "--onnx",
    "onnx_rows",
    is_flag=True,
    help="Also score each model's .onnx file (what the pipeline runs) as a row of its own.",
)
@click.option(
    "--destripe",
    "destripe_rows",
    is_flag=True,
    help="Also score each model with its output destriped (Unmasker(destripe=True)) as a row.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="Write OUT.json, OUT.md and the comparison sheet OUT.png.",
)
def eval_inpainter(
    dataset,
    weights_dir,
    label,
    l1_dir,
    ablation_dirs,
    others,
    judge_dir,
    attr_dir,
    split,
    limit,
    identity_limit,
    onnx_rows,
    destripe_rows,
    out,
):
    """Inpainter vs. L1-only, unguided ablation, Telea and NS (one run, one table)."""
    from unmask.evaluation.inpainter import evaluate as run
    from unmask.evaluation.inpainter_report import markdown

    pairs = []
    for item in others:
        name, sep, folder = item.partition("=")
        if not sep or not name.strip() or not folder:
            raise click.BadParameter(f"expected LABEL=DIR, got {item!r}", param_hint="--also")
        pairs.append((name.strip(), folder))
    if not label.strip():
        raise click.BadParameter("must not be empty", param_hint="--label")

    res = run(
        dataset,
        weights_dir,
        label=label.strip(),
        l1_dir=l1_dir,
        ablation_dirs=tuple(ablation_dirs),
        others=tuple(pairs),
        judge_dir=judge_dir,
        attr_dir=attr_dir,
        split=split,
        limit=limit,
        identity_limit=identity_limit or None,
        sheet_path=str(Path(out).with_suffix(".png")) if out else None,
        onnx_rows=onnx_rows,
        destripe_rows=destripe_rows,
    )
    _write(res, markdown(res), out)


from unmask.cli.eval_robust import eval_attr_robust, eval_identity_look  # noqa: E402

evaluate.add_command(eval_attr_robust)
evaluate.add_command(eval_identity_look)
