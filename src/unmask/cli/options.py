"""Options shared by the commands that run the pipeline (``run``, ``demo``, ``serve``)."""

from __future__ import annotations

import functools

import click

BACKEND_HELP = "auto: ONNX Runtime on the CPU where .onnx weights exist, else PyTorch."


def pipeline_options(func):
    """Add ``--weights-dir``, ``--device``, ``--backend``, ``--detector``, ``--segmenter``,
    ``--finish``, ``--seam`` and ``--hole-margin``; the command receives them as one
    ``pipeline`` dict of :class:`~unmask.api.Unmasker` keyword arguments."""
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
            type=click.Choice(["inside", "outside"]),
            default="inside",
            show_default=True,
            help="Fade the rebuilt face in inside the hole (nothing outside it changes) or "
            "out beyond it.",
        ),
        click.option(
            "--hole-margin",
            type=click.FloatRange(0, 0.1),
            default=0.0,
            show_default=True,
            help="Grow the segmented mask by this share of the aligned crop's side.",
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
        "hole_margin",
    )

    @functools.wraps(func)  # keeps options declared below this decorator
    def wrapper(**kwargs):
        kwargs["pipeline"] = {k: kwargs.pop(k) for k in keys}
        return func(**kwargs)

    for opt in reversed(options):
        wrapper = opt(wrapper)
    return wrapper
