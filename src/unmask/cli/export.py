"""``unmask export``: write ONNX files next to a folder's PyTorch weights, parity-checked, and
optionally give some of them int8 arithmetic calibrated on photos."""

from __future__ import annotations

import json

import click


@click.command("export")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--stage", "stages", multiple=True, help="Stage to export (repeatable; default all).")
@click.option(
    "--fp32", is_flag=True, help="Keep float32 weights (default: fp16 where parity allows)."
)
@click.option("--tolerance", type=float, default=None, help="Largest accepted |onnx - torch|.")
@click.option(
    "--int8",
    "int8_stages",
    multiple=True,
    help="After exporting, give this stage int8 arithmetic (repeatable: attr, inpainter, "
    "detector). Needs --calibration.",
)
@click.option(
    "--calibration",
    type=click.Path(exists=True),
    default=None,
    help="Masked photos for the int8 ranges: a dataset built by `unmask data build` (its train "
    "split) or a folder of images.",
)
@click.option("--calibration-count", type=int, default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Which photos calibrate.")
@click.option(
    "--int8-percentile",
    type=click.FloatRange(50, 100),
    default=None,
    help="Activation ranges at this percentile of the calibration values (e.g. 99.99) "
    "instead of each stage's own recipe.",
)
def export(
    folder: str,
    stages: tuple[str, ...],
    fp32: bool,
    tolerance: float | None,
    int8_stages: tuple[str, ...],
    calibration: str | None,
    calibration_count: int,
    seed: int,
    int8_percentile: float | None,
) -> None:
    """Export every stage in FOLDER (``<stage>.safetensors`` + ``.json``) to ``<stage>.onnx``.

    Each file is checked against PyTorch on the same inputs; the largest absolute difference
    per output is printed. With ``--int8`` the named stages are then quantized to 8-bit
    arithmetic (faster on the CPU; not parity-checked: judge them with ``unmask eval``). Needs
    the ``train`` extra (torch, onnx).
    """
    from unmask.runtime.export import TOLERANCE, export_stage, exportable
    from unmask.training.quantize import INT8_STAGES, calibration_photos, quantize_stage

    bad = [s for s in int8_stages if s not in INT8_STAGES]
    if bad:
        raise click.BadParameter(
            f"{', '.join(bad)}: use {', '.join(INT8_STAGES)}", param_hint="--int8"
        )
    if int8_stages and calibration is None:
        raise click.UsageError("--int8 needs --calibration (masked photos)")
    names = list(stages) or exportable(folder)
    if not names:
        raise click.ClickException(f"no exportable weights in {folder}")
    for name in names:
        rep = export_stage(name, folder, fp16=not fp32, tolerance=tolerance or TOLERANCE)
        click.echo(json.dumps(rep.to_dict()))
    if int8_stages:
        photos = calibration_photos(calibration, calibration_count, seed)
        for name in int8_stages:
            click.echo(json.dumps(quantize_stage(name, folder, photos, int8_percentile)))
