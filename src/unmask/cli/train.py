"""``unmask train <stage>`` and ``unmask train promote`` (needs ``pip install 'unmask[train]'``).

Every stage takes ``--dataset DIR`` plus ``--set key=value`` overrides of its typed config
(unknown keys are rejected), ``--config FILE.json`` (the recipes in the repository's
``configs/``; repeatable, later files win, ``--set`` wins over all), and ``--resume RUN_FOLDER``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from unmask import registry
from unmask.cli.options import parse_sets


def _config_option(what: str):
    """``--config FILE`` (repeatable): JSON objects of ``what``, later files winning."""
    return click.option(
        "--config",
        "config_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help=f"JSON file of {what} (repeatable; later files win).",
    )


def _read_configs(paths: tuple[str, ...]) -> dict:
    """The keys of the JSON objects in ``paths``, later files winning."""
    data: dict = {}
    for path in paths:
        one = json.loads(Path(path).read_text())
        if not isinstance(one, dict):
            raise click.BadParameter(f"{path}: expected a JSON object", param_hint="--config")
        data.update(one)
    return data


@click.group()
def train() -> None:
    """Train a stage on a built dataset (run folders under ./runs, resumable)."""


@train.command("run")
@click.argument("stage", type=click.Choice(sorted(registry.trainable())))
@click.option("--dataset", type=click.Path(file_okay=False), help="Built dataset folder.")
@_config_option("config keys, e.g. a recipe from configs/")
@click.option("--set", "sets", multiple=True, help="Config override key=value (JSON value).")
@click.option("--resume", type=click.Path(file_okay=False), help="Run folder to continue.")
@click.option("--arch", help="segmenter: unet (default) or maskrcnn.")
@click.option(
    "--real",
    type=click.Path(file_okay=False),
    help="segmenter: aligned real-label folder from `unmask data realseg`.",
)
def run_stage(stage, dataset, config_files, sets, resume, arch, real):
    """Train STAGE (also reachable as `unmask train STAGE`)."""
    import importlib

    from unmask.config import from_dict
    from unmask.training.runs import Run

    mod = importlib.import_module(registry.STAGES[stage].trainer)
    cls = registry.train_config(stage)
    run = None
    data: dict = {}
    # under torchrun only rank 0 holds the folder and writes its config; the others follow it
    rank0 = os.environ.get("RANK", "0") == "0"
    if resume:
        run = Run(resume).claim() if rank0 else Run(resume)
        data = run.config()
    data.update(_read_configs(config_files))
    if dataset:
        data["dataset"] = dataset
    if arch:
        data["arch"] = arch
    if real:
        data["real"] = real
    data.update(parse_sets(sets))
    if "dataset" not in data:
        raise click.UsageError("--dataset is required")
    cfg = from_dict(cls, data)
    if run is not None and rank0:
        for key, (old, new) in run.update_config(cfg).items():
            click.echo(f"resume: {key} {old!r} -> {new!r}")
    run = mod.train(cfg, run)
    click.echo(f"run folder: {run.folder}")


#: Other names users look for: one network (``attr``) predicts both gender and landmarks.
ALIASES = {"gender": "attr", "landmarks": "attr"}


def _stage_command(stage: str, name: str | None = None) -> click.Command:
    note = f" `{name}` is an alias: one network predicts gender and landmarks." if name else ""

    @click.command(
        name or stage,
        help=f"Train the {stage} stage (see `unmask train run --help`).{note}",
        context_settings={"ignore_unknown_options": True},
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def cmd(ctx, args):
        return run_stage.main([stage, *args], standalone_mode=False, parent=ctx)

    return cmd


for _stage in registry.trainable():
    train.add_command(_stage_command(_stage))
for _alias, _stage in ALIASES.items():
    train.add_command(_stage_command(_stage, _alias))


@train.command()
@click.argument("run_folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Weights folder to write <stage>.safetensors/.json into.",
)
@click.option("--checkpoint", default="best", show_default=True, help="best or last.")
@click.option("--fp16/--fp32", default=False, show_default=True)
@click.option(
    "--int8",
    is_flag=True,
    help="Store conv/linear weights as int8 per channel (a quarter of fp32).",
)
@click.option(
    "--name",
    help="attr runs only: weights name, e.g. gender_judge for a run trained on unmasked faces.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    help="Promotion-time config override key=value (JSON value), e.g. flip_tta=true.",
)
@_config_option("promotion-time overrides, e.g. configs/detector/promote.json")
def promote(run_folder, out, checkpoint, fp16, int8, name, sets, config_files):
    """Export a run's EMA weights (+ calibration) to a weights folder."""
    import importlib

    from unmask.runtime import weights
    from unmask.training.runs import Run

    run = Run(run_folder)
    stage = run.folder.name.split("-")[1]
    if name and stage != "attr":
        raise click.UsageError(f"--name applies to attr runs only, not {stage}")
    mod = importlib.import_module(registry.STAGES[stage].trainer)
    extra = {"name": name} if name else {}
    overrides = {**_read_configs(config_files), **parse_sets(sets)}
    path = mod.promote(run, Path(out), checkpoint, fp16, overrides=overrides, **extra)
    if int8:
        info = weights.find(path.stem, path.parent)
        module = weights.load_module(info)
        path = weights.save(
            path.parent, path.stem, module, info.arch, info.args, info.meta, int8=True
        )
    click.echo(f"wrote {path}")


@train.command()
@click.argument("members", nargs=-1, required=True)
@click.option(
    "--stage",
    type=click.Choice(["attr", "segmenter"]),
    default="attr",
    show_default=True,
    help="What the members are.",
)
@click.option("--dataset", required=True, type=click.Path(file_okay=False), help="Built dataset.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Weights folder.")
@click.option(
    "--real",
    type=click.Path(file_okay=False),
    help="Segmenter: real pixel labels (`data realseg`), also used to choose post-processing.",
)
@click.option("--exclude-kind", "exclude", multiple=True, help="Mask kind the members never saw.")
@click.option("--fp16/--fp32", default=False, show_default=True)
@click.option("--int8", is_flag=True, help="attr: store conv/linear weights as int8.")
@click.option(
    "--landmarks-from",
    "lm_from",
    multiple=True,
    type=int,
    help="attr: index of a member whose landmarks are averaged (repeatable; default all).",
)
def ensemble(members, stage, dataset, out, real, exclude, fp16, int8, lm_from):
    """Average the networks in MEMBERS into one weights file.

    attr: MEMBERS are weights folders, or FOLDER#K for member K of an ensemble; the gender
    temperature is fitted on the validation split of --dataset. segmenter: MEMBERS are weights
    folders; their probabilities are averaged and the post-processing is chosen on the
    validation splits of --dataset and --real."""
    from unmask.training import ensemble as ens

    if stage == "segmenter":
        extra = [
            o
            for o, v in (
                ("--exclude-kind", exclude),
                ("--int8", int8),
                ("--landmarks-from", lm_from),
            )
            if v
        ]
        if extra:
            raise click.UsageError(f"{', '.join(extra)} apply to attr ensembles only")
        path = ens.promote_segmenter(list(members), dataset, out, real, fp16=fp16)
    elif real:
        raise click.UsageError("--real applies to segmenter ensembles only")
    else:
        lm = list(lm_from) or None
        path = ens.promote(list(members), dataset, out, tuple(exclude), fp16, int8, lm)
    click.echo(f"wrote {path}")


@train.command("adult-head")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", required=True, type=click.Path(file_okay=False), help="Built dataset.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Weights folder.")
@click.option("--exclude-kind", "exclude", multiple=True, help="Mask kind the members never saw.")
@click.option("--limit", type=int, default=4000, show_default=True, help="Training crops read.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which crops are read.")
def adult_head(folder, dataset, out, exclude, limit, seed):
    """Give the attr ensemble in FOLDER an adult-or-not head and a gender calibration per age
    band, written to --out (the rest of the network unchanged; run `unmask export` after).

    The head is fitted on masked training crops of --dataset, the calibration on its
    validation crops; the figures on those are printed and kept in the weights' metadata."""
    from unmask.training.adult_head import add_adult_head

    try:
        path, report = add_adult_head(folder, dataset, out, tuple(exclude), limit, seed)
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps(report, indent=2))
    click.echo(f"wrote {path}")
