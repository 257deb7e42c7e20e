"""``unmask eval attr-robust``: the attr stage on every mask family, photo and aligned mode."""

from __future__ import annotations

import click


def _families(text: str, templates) -> list[str]:
    from unmask.evaluation.attr_robust import family_names

    names = family_names(templates)
    groups = {
        "all": names,
        "in": [n for n in names if not n.startswith("unseen/")],
        "unseen": [n for n in names if n.startswith("unseen/")],
    }
    chosen = groups.get(text) or [f for f in text.split(",") if f]
    bad = sorted(set(chosen) - set(names))
    if bad:
        raise click.BadParameter(
            f"unknown {bad}; known: {', '.join(names)}", param_hint="--families"
        )
    return chosen


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
    """Landmark NME and gender per mask family, age band and mode (docs/robustness.md)."""
    from unmask.cli.evaluate import _write
    from unmask.evaluation import attr_robust as ar
    from unmask.evaluation.robust_report import markdown

    chosen = _families(families, templates)
    mode_list = tuple(m for m in modes.split(",") if m)
    if not mode_list or set(mode_list) - set(ar.MODES):
        raise click.BadParameter(f"use some of {', '.join(ar.MODES)}", param_hint="--modes")
    held = ar.held_out_faces(faces, split, per_band, cache)
    res = ar.evaluate(held, chosen, weights_dir, templates, mode_list, seed, band_t_from)
    res.update(split=split, per_band=per_band)
    _write(res, markdown(res), out)


@click.command("identity-look")
@click.option("--faces", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--templates", type=click.Path(exists=True, file_okay=False))
@click.option("--weights-dir", type=click.Path(file_okay=False))
@click.option("--split", default="test", show_default=True)
@click.option("--per-band", default=20, show_default=True, help="Faces per age band at most.")
@click.option("--families", default="all", show_default=True, help="As for attr-robust.")
@click.option("--seed", default=0, show_default=True, help="Mask seed.")
@click.option("--cache", type=click.Path(dir_okay=False), help="JSON cache of teacher points.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_identity_look(faces, templates, weights_dir, split, per_band, families, seed, cache, out):
    """The inpainter's identity on rebuilt photos: shipped guidance against the second look."""
    from unmask.cli.evaluate import _write
    from unmask.evaluation.attr_robust import held_out_faces
    from unmask.evaluation.identity_look import identity_read

    held = held_out_faces(faces, split, per_band, cache)
    res = identity_read(held, _families(families, templates), templates, weights_dir, seed)
    head = "| family | n | id cos first | id cos second | gain (SE) | match first | match second "
    head += "| NME hidden first | NME hidden second |\n" + "|---" * 9 + "|\n"
    rows = [
        f"| {k} | {m['n']} | {m['first_identity']:.4f} | {m['second_identity']:.4f} | "
        f"{m['identity_gain']:+.4f} ({m['identity_gain_se']:.4f}) | "
        f"{100 * m['first_identity_match']:.1f} | {100 * m['second_identity_match']:.1f} | "
        f"{100 * m['first_nme_hidden']:.2f} | {100 * m['second_nme_hidden']:.2f} |\n"
        for k, m in res.items()
        if m["n"]
    ]
    _write(
        {"split": split, "per_band": per_band, "seed": seed, "table": res},
        head + "".join(rows),
        out,
    )
