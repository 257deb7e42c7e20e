"""``unmask eval photos``: the rebuilt face at the photo's own resolution, against the truth."""

from __future__ import annotations

from pathlib import Path

import click

#: The pipeline without photo-resolution finishing, edge refiner or detail, with the trained hole
#: margin, a seam painted outside the hole and one look at the landmarks: the row every change
#: is measured against.
PLAIN = {
    "finish": False,
    "hole_margin": None,
    "seam": "outside",
    "soft_edge": None,
    "refine": False,
    "detail": False,
    "second_look": False,
    "destripe": False,
}


@click.command("photos")
@click.option(
    "--faces",
    default="../shared/data/faces-utk",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Unmasked face photos; the set is made from their held-out split.",
)
@click.option(
    "--templates",
    default="../shared/data/mask-templates",
    show_default=True,
    help="MaskTheFace templates drawn beside the procedural masks ('' = procedural only).",
)
@click.option(
    "--set-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Where the masked test set is kept (made on first use, reused after).",
)
@click.option("--split", type=click.Choice(["test", "val"]), default="test", show_default=True)
@click.option("--limit", type=int, default=400, show_default=True, help="Photos in the set.")
@click.option("--weights-dir", type=click.Path(file_okay=False), help="Candidate weights folder.")
@click.option(
    "--finish-set",
    "finish_sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A FinishConfig field of the candidate (JSON value, repeatable); without --weights-dir "
    "the candidate runs the shipped weights.",
)
@click.option(
    "--pipeline-set",
    "pipeline_sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="An Unmasker argument of the candidate, e.g. seam=edge or soft_edge=0.2 (JSON value, "
    "else a string; repeatable); without --weights-dir the candidate runs the shipped weights.",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Score the set's photos resized by this factor (a copy kept beside the set, "
    "SET_DIR-xF): faces smaller than the inpainter's 128-px grid, with their truth.",
)
@click.option("--no-identity", is_flag=True, help="Skip dlib's embeddings (faster).")
@click.option(
    "--real",
    type=click.Path(exists=True, file_okay=False),
    help="Real masked photos: no-reference detail and seam figures, and the contact sheet.",
)
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False),
    help="Contact sheet PNG (with --real): the candidate's where there is one, else the shipped "
    "pipeline's.",
)
@click.option("--seed", default=0, show_default=True, help="Which 12 real photos the sheet shows.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_photos(
    faces,
    templates,
    set_dir,
    split,
    limit,
    weights_dir,
    finish_sets,
    pipeline_sets,
    scale,
    no_identity,
    real,
    sheet,
    seed,
    out,
):
    """The pipeline as shipped, without its photo-resolution finishing and tight seam, a
    candidate (weights folder, finishing or pipeline settings) and OpenCV Telea, on held-out
    photos with pasted masks (ear loops included), scored at the photo's own resolution."""
    from tqdm import tqdm

    from unmask.api import Unmasker
    from unmask.cli.evaluate import _write
    from unmask.cli.options import parse_sets
    from unmask.config import from_dict
    from unmask.evaluation import photos, photos_real
    from unmask.stages.finish import FinishConfig

    try:
        finish = from_dict(FinishConfig, parse_sets(finish_sets, "--finish-set"))
    except (TypeError, ValueError) as err:
        raise click.BadParameter(str(err), param_hint="--finish-set") from None
    options = parse_sets(pipeline_sets, "--pipeline-set")
    if {"weights_dir", "finish"} & options.keys():
        raise click.BadParameter(
            "weights_dir and finish have options of their own", param_hint="--pipeline-set"
        )
    try:
        candidate = Unmasker(weights_dir=weights_dir, finish=finish, **options)
    except (TypeError, ValueError) as err:
        raise click.BadParameter(str(err), param_hint="--pipeline-set") from None
    set_dir = Path(set_dir)
    if not (set_dir / "index.json").is_file():
        click.echo(f"building the {split} set in {set_dir} ...")
        photos.build_set(faces, set_dir, split, limit, templates or None)
    if scale:
        set_dir = photos.scaled_set(set_dir, scale)
    shipped = Unmasker()
    plain = Unmasker(**PLAIN)
    variants = {"shipped": shipped, "plain": plain}
    if weights_dir or finish_sets or pipeline_sets:
        variants["candidate"] = candidate
        if candidate.same_stages(shipped):
            candidate._stages = shipped._stages
    variants["telea"] = None
    with tqdm(desc="photos", unit="photo", leave=False) as bar:

        def progress(i, n):
            bar.total = n
            bar.update(1)

        res = photos.evaluate(set_dir, variants, limit, not no_identity, progress)
    md = photos.markdown(res)
    if real:
        res["reference"] = photos_real.reference_detail(set_dir, limit)
        res["real"] = {n: photos_real.real_photos(u, real) for n, u in variants.items() if u}
        md += "\n" + photos_real.real_markdown(res["reference"], res["real"])
        if sheet:
            from unmask.io import iter_inputs, load_image, save_image

            items = iter_inputs([real])
            chosen = photos_real.pick(len(items), 12, seed)
            images = [load_image(items[i].path) for i in chosen]
            shown = variants.get("candidate") or shipped
            save_image(sheet, photos_real.contact_sheet(images, [shown(im) for im in images]))
            names = ", ".join(items[i].path.name for i in chosen)
            md += f"\nContact sheet: {sheet} (photos {names})\n"
    _write(res, md, out)
