"""Options shared by the commands that run the pipeline (``run``, ``demo``, ``serve``) and the
``key=value`` parser of ``train --set`` and ``eval photos --finish-set``."""

from __future__ import annotations

import functools
import json

import click

BACKEND_HELP = "auto: ONNX Runtime on the CPU where .onnx weights exist, else PyTorch."


def parse_sets(items: tuple[str, ...], hint: str = "--set") -> dict:
    """``key=value`` items as a dict; each value is read as JSON where it parses, else kept as
    the string. Raises ``click.BadParameter`` (naming ``hint``) on an item without ``=``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint=hint)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def pipeline_options(func):
    """Add ``--weights-dir``, ``--device``, ``--backend``, ``--detector``, ``--segmenter``,
    ``--finish``, ``--seam``, ``--soft-edge``, ``--refine``, ``--second-look``,
    ``--hole-margin``, ``--destripe`` and ``--destripe-centre``; the command receives them as
    one ``pipeline`` dict of :class:`~unmask.api.Unmasker` keyword arguments."""
    options = [
        click.option(
            "--weights-dir", type=click.Path(file_okay=False), help="Weights folder to use first."
        ),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default="auto",
            show_default=True,
        ),
        click.option(
            "--backend",
            type=click.Choice(["auto", "onnx", "torch"]),
            default="auto",
            show_default=True,
            help=BACKEND_HELP,
        ),
        click.option(
            "--detector",
            default="auto",
            show_default=True,
            help="auto (the trained detector, else dlib cnn), unmask, cnn or hog.",
        ),
        click.option(
            "--segmenter",
            type=click.Choice(["default", "maskrcnn"]),
            default="default",
            show_default=True,
        ),
        click.option(
            "--finish/--no-finish",
            default=True,
            show_default=True,
            help="Give each rebuilt face the grain of the visible skin at the photo's resolution.",
        ),
        click.option(
            "--seam",
            type=click.Choice(["inside", "fill", "edge", "outside"]),
            default="inside",
            show_default=True,
            help="Fade the rebuilt face in inside the hole (nothing outside it changes; fill: "
            "from the visible face's colour, not the mask's rim) or out beyond it (edge, outside).",
        ),
        click.option(
            "--soft-edge",
            type=click.FloatRange(0, 1),
            default=0.05,
            show_default=True,
            help="Pixels next to the segmented mask whose mask probability exceeds this join "
            "the hole (the mask's soft edge and loops); 1 turns it off.",
        ),
        click.option(
            "--refine/--no-refine",
            default=None,
            help="Redraw each hole at the photo's resolution with the edge refiner and paste "
            "over it alone (default: when its weights are found).",
        ),
        click.option(
            "--detail/--no-detail",
            default=None,
            help="Restore fine detail in each rebuilt region where the face is enlarged from "
            "the model grid, with the detail network (default: when its weights are found).",
        ),
        click.option(
            "--second-look/--no-second-look",
            default=None,
            help="Re-align each face on its first landmarks and predict again (default: as "
            "the attr weights say).",
        ),
        click.option(
            "--hole-margin",
            type=click.FloatRange(0, 0.1),
            default=0.0,
            show_default=True,
            help="Grow the segmented mask by this share of the aligned crop's side.",
        ),
        click.option(
            "--destripe/--no-destripe",
            default=True,
            show_default=True,
            help="Filter the inpainter's output along rows against the fine vertical streaks "
            "it draws.",
        ),
        click.option(
            "--destripe-centre",
            type=click.FloatRange(0, min_open=True),
            default=2.0,
            show_default=True,
            help="The row filter's centre weight c in [1, c, 1] / (c + 2); larger is weaker.",
        ),
    ]
    keys = (
        "weights_dir",
        "device",
        "backend",
        "detector",
        "segmenter",
        "finish",
        "seam",
        "soft_edge",
        "refine",
        "detail",
        "second_look",
        "hole_margin",
        "destripe",
        "destripe_centre",
    )

    @functools.wraps(func)  # keeps options declared below this decorator
    def wrapper(**kwargs):
        kwargs["pipeline"] = {k: kwargs.pop(k) for k in keys}
        return func(**kwargs)

    for opt in reversed(options):
        wrapper = opt(wrapper)
    return wrapper


def save_kinds(ctx, param, value: str) -> tuple[str, ...]:
    """Click callback of ``--save``: the validated tuple of output kinds."""
    from unmask.batch import parse_save

    try:
        return parse_save(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--save") from None


def run_with_progress(runner, out, *args, **kwargs) -> dict:
    """Call ``runner(*args, progress=..., **kwargs)`` (a batch runner returning the report
    summary) with a progress bar; print each skipped input and the summary line."""
    from tqdm import tqdm

    bar = tqdm(desc="photos", unit="photo", leave=False)

    def progress(job, entry):
        bar.update(1)
        if entry["status"] == "skipped":
            tqdm.write(f"skipped {entry['input']}: {entry['reason']}")

    try:
        s = runner(*args, progress=progress, **kwargs)
    finally:
        bar.close()
    click.echo(
        f"{s['inputs']} inputs: {s['ok']} ok, {s['skipped']} skipped; {s['faces']} faces, "
        f"{s['masked_faces']} masked and rebuilt -> {out}"
    )
    return s


def save_option(func):
    """``--save``: comma list of output kinds, validated into a tuple."""
    from unmask.batch import SAVE_KINDS

    return click.option(
        "--save",
        default="restored,masks",
        show_default=True,
        callback=save_kinds,
        help=f"Comma list of outputs: {', '.join(SAVE_KINDS)}.",
    )(func)
