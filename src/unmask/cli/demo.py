"""``unmask demo``: rebuild the built-in masked example (the astronaut photo, public domain)."""

from __future__ import annotations

from pathlib import Path

import click

from unmask.cli.options import pipeline_options


@click.command("demo")
@click.option(
    "-o",
    "--out",
    default="unmask_demo.png",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Sheet to write; an existing file is kept and -2, -3... is appended instead.",
)
@click.option("--seed", default=3, show_default=True, help="Seed of the drawn mask.")
@click.option(
    "--masked",
    type=click.Path(dir_okay=False),
    help="Also write the masked example photo here (an input to try `unmask run` on); an "
    "existing file is kept and -2, -3... is appended instead.",
)
@pipeline_options
def demo(out: str, seed: int, masked: str | None, pipeline: dict) -> None:
    """Mask the astronaut photo with the synthetic mask engine, rebuild it, and write a sheet:
    ground truth | masked input | detected mask and landmarks | result.

    No input files are needed. The rebuilt face is a plausible synthesis, not the real face.
    """
    from unmask.api import Unmasker
    from unmask.demo import demo_sheet, example_photo
    from unmask.io import save_image

    if masked:
        path = _free(Path(masked))
        save_image(path, example_photo(seed), overwrite=False)
        click.echo(f"wrote {path}")
    target = _free(Path(out))
    sheet, result = demo_sheet(Unmasker(**pipeline), seed)
    save_image(target, sheet, overwrite=False)
    if not result.faces:
        click.echo("no face found in the masked example", err=True)
    for f in result.faces:
        ms = sum(f.timings_ms.values())
        click.echo(
            f"face at {[round(v) for v in f.box]}: masked={f.masked} "
            f"coverage={f.mask_coverage:.2f} gender={f.gender} ({f.gender_score:.2f}), "
            f"{ms:.0f} ms after detection"
        )
    click.echo(f"wrote {target}")


def _free(target: Path) -> Path:
    """``target``, or the first free ``<stem>-2``, ``-3``... beside it: a file is never replaced."""
    from unmask.io import unique_stem

    if not target.exists():
        return target
    taken = {p.stem.casefold() for p in target.parent.glob(f"*{target.suffix}")}
    return target.with_name(unique_stem(target.stem, taken) + target.suffix)
