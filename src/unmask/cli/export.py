"""``unmask export``: write ONNX files next to a folder's PyTorch weights, parity-checked."""

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
def export(folder: str, stages: tuple[str, ...], fp32: bool, tolerance: float | None) -> None:
    """Export every stage in FOLDER (``<stage>.safetensors`` + ``.json``) to ``<stage>.onnx``.

    Each file is checked against PyTorch on the same inputs; the largest absolute difference
    per output is printed. Needs the ``train`` extra (torch, onnx).
    """
    from unmask.runtime.export import TOLERANCE, export_stage, exportable

    names = list(stages) or exportable(folder)
    if not names:
        raise click.ClickException(f"no exportable weights in {folder}")
    for name in names:
        rep = export_stage(name, folder, fp16=not fp32, tolerance=tolerance or TOLERANCE)
        click.echo(json.dumps(rep.to_dict()))
