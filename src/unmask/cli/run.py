"""``unmask run``: rebuild masked faces in files, folders and globs."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from unmask.cli.options import pipeline_options, run_with_progress, save_option


@click.command("run")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o", "--out", required=True, type=click.Path(file_okay=False), help="Output folder (created)."
)
@save_option
@click.option(
    "--report",
    "report_copy",
    type=click.Path(dir_okay=False),
    help="Also write the report JSON here.",
)
@click.option("--recursive", is_flag=True, help="Descend into subfolders of folder inputs.")
@click.option("--aligned", is_flag=True, help="Inputs are canonical aligned crops (no detection).")
@click.option("--gender", type=click.Choice(["female", "male"]), help="Force the gender.")
@pipeline_options
@click.option("--strict", is_flag=True, help="Exit 1 when any input is skipped.")
@click.option(
    "--resume", is_flag=True, help="Keep the complete outputs and report entries already in OUT."
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Process shard I of N (0 <= I < N), a stable 1/N of the inputs; `unmask merge OUT` "
    "joins the N shard reports.",
)
def run(
    inputs,
    out,
    save,
    report_copy,
    recursive,
    aligned,
    gender,
    strict,
    resume,
    shard,
    pipeline,
):
    """Rebuild every masked face in INPUTS (files, folders or glob patterns).

    Each input's report entry is logged to OUT/report.jsonl once its outputs are written:
    an interrupted run continues with --resume. Exit codes: 0 done (skipped inputs are listed in
    the report), 1 a skipped input with --strict or a fatal error (e.g. missing weights), 2 bad
    usage.
    """
    from unmask.api import Unmasker
    from unmask.batch import run_batch
    from unmask.plan import parse_shard
    from unmask.report import log_name

    try:
        part = parse_shard(shard)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    if aligned:
        pipeline["detector"] = "aligned"
    unmasker = Unmasker(**pipeline)
    args = (unmasker, inputs, out, save, recursive, gender)
    s = run_with_progress(run_batch, out, *args, resume=resume, shard=part)
    if report_copy:
        shutil.copyfile(Path(out, log_name(part)).with_suffix(".json"), report_copy)
    if strict and s["skipped"]:
        click.get_current_context().exit(1)


@click.command("merge")
@click.argument("out", type=click.Path(file_okay=False, exists=True))
def merge(out):
    """Join the reports of the N shards of `unmask run --shard I/N -o OUT` into OUT/report.json
    (every shard must be there)."""
    from unmask.report import merge_shards

    s = merge_shards(out)
    click.echo(f"{s['inputs']} inputs: {s['ok']} ok, {s['skipped']} skipped -> {out}/report.json")
