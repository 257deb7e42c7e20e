"""``unmask video``: rebuild masked faces in video clips (the ``video`` extra)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from unmask.cli.options import pipeline_options


@click.command("video")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o", "--out", required=True, type=click.Path(file_okay=False), help="Output folder (created)."
)
@click.option("--gender", type=click.Choice(["female", "male"]), help="Force the gender.")
@click.option(
    "--detect-every", default=3, show_default=True, help="Run the detector every N frames."
)
@click.option(
    "--inpaint-every", default=3, show_default=True, help="Run the inpainter every N frames."
)
@pipeline_options
@click.option("--strict", is_flag=True, help="Exit 1 when any input is skipped.")
def video(inputs, out, gender, detect_every, inpaint_every, pipeline, strict):
    """Rebuild every masked face in the clips INPUTS (files, or folders searched for videos):
    writes OUT/restored/<stem>.mp4 (same frame rate, size and audio) and OUT/report.json.

    Exit codes: 0 done (skipped clips are listed in the report), 1 a skipped clip with
    --strict or a fatal error (e.g. PyAV missing), 2 bad usage.
    """
    from tqdm import tqdm

    from unmask.api import Unmasker
    from unmask.video import is_video, process_video
    from unmask.video.io import VideoError, probe, require_av

    require_av()
    files = []
    for item in map(Path, inputs):
        files += sorted(p for p in item.rglob("*") if is_video(p)) if item.is_dir() else [item]
    dest = Path(out) / "restored"
    dest.mkdir(parents=True, exist_ok=True)
    unmasker = Unmasker(**pipeline)
    entries = []
    for path in files:
        try:
            total = probe(path).frames or None
        except VideoError:
            total = None
        with tqdm(total=total, desc=path.name, unit="frame", leave=False) as bar:
            entry = process_video(
                unmasker,
                path,
                dest / f"{path.stem}.mp4",
                progress=bar.update,
                gender=gender,
                detect_every=detect_every,
                inpaint_every=inpaint_every,
            )
        entries.append(entry)
        if entry["status"] == "skipped":
            click.echo(f"skipped {path}: {entry['reason']}", err=True)
        else:
            click.echo(
                f"{path}: {entry['frames']} frames, {len(entry['tracks'])} tracks, "
                f"{entry['frames_per_s']} frames/s -> {entry['output']}"
            )
    (Path(out) / "report.json").write_text(json.dumps({"videos": entries}, indent=1))
    if strict and any(e["status"] == "skipped" for e in entries):
        click.get_current_context().exit(1)
