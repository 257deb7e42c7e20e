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
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write OUT.json and OUT.md.")
def eval_attr(dataset, weights_dir, split, held_out, baseline_limit, out):
    """Gender accuracy/ECE and landmark NME (gender + landmarks network)."""
    from unmask.evaluation.attr import evaluate as run
    from unmask.evaluation.attr import markdown

    kinds = tuple(k for k in held_out.split(",") if k)
    res = run(dataset, weights_dir, split, kinds, baseline_limit or 0)
    _write(res, markdown(res), out)
