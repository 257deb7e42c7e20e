"""``unmask cluster run``: the batch of ``unmask run`` on Ray Data (``unmask[cluster]``)."""

from __future__ import annotations

import importlib.util

import click

from unmask.cli.options import pipeline_options, run_with_progress, save_option


@click.group("cluster")
def cluster() -> None:
    """Run batches on a Ray cluster (pip install 'unmask[cluster]')."""


@cluster.command("run")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--out", required=True, help="Output folder, on storage every worker sees.")
@save_option
@click.option("--recursive", is_flag=True, help="Descend into subfolders of folder inputs.")
@click.option("--aligned", is_flag=True, help="Inputs are canonical aligned crops (no detection).")
@click.option("--gender", type=click.Choice(["female", "male"]), help="Force the gender.")
@click.option("--resume", is_flag=True, help="Keep the complete outputs already in OUT.")
@click.option("--actors", default=1, type=click.IntRange(1), help="Actors in the pool [1].")
@click.option("--cpus-per-actor", default=1.0, type=click.FloatRange(0), help="CPUs per actor [1].")
@click.option(
    "--gpus-per-actor",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="GPU actors when > 0 (runs the pipeline on cuda: needs unmask[train]).",
)
@click.option("--batch-size", default=4, type=click.IntRange(1), help="Images per call [4].")
@pipeline_options
def run_cluster_command(inputs, out, save, recursive, aligned, gender, resume, pipeline, **pool):
    """Rebuild every masked face in INPUTS (files, folders, globs or URIs Ray reads, e.g.
    s3://bucket/photos/) with a pool of Ray actors; same outputs and report as `unmask run`.
    Connects to the cluster named by RAY_ADDRESS, else starts Ray on this machine."""
    if importlib.util.find_spec("ray") is None:
        raise click.ClickException("Ray is not installed: pip install 'unmask[cluster]'")
    from unmask.cluster import run_cluster

    if aligned:
        pipeline["detector"] = "aligned"
    if pool["gpus_per_actor"] and pipeline["device"] == "auto":
        pipeline["device"] = "cuda"
    args = (inputs, out, save, recursive, gender, pipeline)
    run_with_progress(run_cluster, out, *args, resume=resume, **pool)
