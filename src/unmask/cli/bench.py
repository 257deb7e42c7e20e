"""``unmask bench``: speed of every stage with PyTorch and ONNX Runtime, side by side."""

from __future__ import annotations

import click

from unmask.runtime.backend import have


@click.command("bench")
@click.option(
    "--weights-dir", type=click.Path(file_okay=False), help="Weights folder to use first."
)
@click.option(
    "--backends",
    default="torch,onnx",
    show_default=True,
    help="Comma list of backends to compare (torch, onnx); missing ones are left out.",
)
@click.option("--repeats", default=30, show_default=True, type=click.IntRange(3, 10000))
@click.option("--batch", default=8, show_default=True, type=click.IntRange(2, 256))
@click.option("-o", "--out", default="reports/bench", show_default=True, type=click.Path())
def bench(weights_dir, backends, repeats, batch, out):
    """Per-stage and end-to-end milliseconds (p50/p95), faces per second with batching, peak
    memory, parameters and file sizes; writes OUT/bench.md and OUT/bench.json."""
    from unmask import bench as b

    wanted = [x.strip() for x in backends.split(",") if x.strip()]
    bad = [x for x in wanted if x not in ("torch", "onnx")]
    if bad or not wanted:
        raise click.BadParameter(f"unknown backend(s) {bad}", param_hint="--backends")
    usable = [x for x in wanted if have({"torch": "torch", "onnx": "onnxruntime"}[x])]
    for x in sorted(set(wanted) - set(usable)):
        click.echo(f"skipping {x}: not installed", err=True)
    if not usable:
        raise click.ClickException("no usable backend")
    report = b.run(weights_dir, tuple(usable), repeats, batch)
    js, md = b.write(report, out)
    click.echo(md.read_text())
    click.echo(f"wrote {js} and {md}")
