import click

from unmask.api import SEAMS
from unmask.cli.options import pipeline_options


def test_the_seam_option_offers_every_seam_the_api_knows():
    @click.command()
    @pipeline_options
    def cmd(pipeline):
        pass

    seam = next(p for p in cmd.params if p.name == "seam")
    assert list(seam.type.choices) == list(SEAMS)
