"""The ``unmask`` command group. Exit codes: 0 success, 1 failure (or a skip with --strict),
2 usage error."""

from __future__ import annotations

import logging
import os
import sys

import click

from unmask import __version__
from unmask.cli.bench import bench
from unmask.cli.cluster import cluster
from unmask.cli.data import data
from unmask.cli.demo import demo
from unmask.cli.eval_photos import eval_photos
from unmask.cli.evaluate import evaluate
from unmask.cli.export import export
from unmask.cli.run import merge, run
from unmask.cli.serve import serve
from unmask.cli.train import train
from unmask.cli.video import video


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="unmask")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """unmask: rebuild the face hidden under a face mask (plausible synthesis, not identity)."""
    # Spinning OpenMP threads collapse when cores are shared (measured here): wait passively.
    # Set before any command imports torch.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


cli.add_command(data)
cli.add_command(train)
evaluate.add_command(eval_photos)
cli.add_command(evaluate)
cli.add_command(run)
cli.add_command(merge)
cli.add_command(serve)
cli.add_command(export)
cli.add_command(demo)
cli.add_command(bench)
cli.add_command(cluster)
cli.add_command(video)


def main() -> None:
    """Console-script entry point: turn expected errors into one-line messages."""
    try:
        rv = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # python -m unmask.cli.main (e.g. under torchrun -m)
    main()
