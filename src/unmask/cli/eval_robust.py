"""``unmask eval attr-robust``: the attr stage on every mask family, photo and aligned mode."""

from __future__ import annotations

import click


@click.command("attr-robust")
@click.option(
    "--faces",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="UTKFace-format folder of unmasked photos (AGE_GENDER_RACE_DATE.jpg).",
)
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False),
    help="MaskTheFace template folder (adds the template families).",
)
@click.option("--weights-dir", type=click.Path(file_okay=False), help="Folder with attr.*")
@click.option("--split", default="test", show_default=True)
@click.option("--per-band", default=50, show_default=True, help="Faces per age band at most.")
@click.option(
    "--families",
    default="all",
    show_default=True,
    help="Comma-separated source/kind names, or all, in (procedural + template) or unseen.",
)
@click.option(
    "--modes",
    default="photo,second,aligned",
    show_default=True,
    help="photo (detector -> align -> attr), second (photo plus a second look), aligned.",
)
@click.option("--seed", default=0, show_default=True, help="Mask seed.")
@click.option(
    "--band-t-from",
    type=click.Path(exists=True, dir_okay=False),
    help="Result JSON of a validation run: per-band gender temperatures fitted on it.",
)
@click.option("--cache", type=click.Path(dir_okay=False), help="JSON cache of teacher points.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_attr_robust(
    faces, templates, weights_dir, split, per_band, families, modes, seed, band_t_from, cache, out
):
    """Landmark NME and gender per mask family, age band and mode (issue #35 protocol)."""
    from unmask.cli.evaluate import _write
    from unmask.evaluation import attr_robust as ar
    from unmask.evaluation.robust_report import markdown

    names = ar.family_names(templates)
    groups = {
        "all": names,
        "in": [n for n in names if not n.startswith("unseen/")],
        "unseen": [n for n in names if n.startswith("unseen/")],
    }
    chosen = groups.get(families) or [f for f in families.split(",") if f]
    bad = sorted(set(chosen) - set(names))
    if bad:
        raise click.BadParameter(
            f"unknown {bad}; known: {', '.join(names)}", param_hint="--families"
        )
    mode_list = tuple(m for m in modes.split(",") if m)
    if not mode_list or set(mode_list) - set(ar.MODES):
        raise click.BadParameter(f"use some of {', '.join(ar.MODES)}", param_hint="--modes")
    held = ar.held_out_faces(faces, split, per_band, cache)
    res = ar.evaluate(held, chosen, weights_dir, templates, mode_list, seed, band_t_from)
    res.update(split=split, per_band=per_band)
    _write(res, markdown(res), out)
