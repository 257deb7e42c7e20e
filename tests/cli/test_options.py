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


def test_the_destripe_centre_reaches_the_pipeline_and_rejects_non_positive_values():
    from click.testing import CliRunner

    seen = {}

    @click.command()
    @pipeline_options
    def cmd(pipeline):
        seen.update(pipeline)

    runner = CliRunner()
    assert runner.invoke(cmd, ["--destripe-centre", "4"]).exit_code == 0
    assert seen["destripe_centre"] == 4.0 and seen["destripe"] is True
    bad = runner.invoke(cmd, ["--destripe-centre", "0"])
    assert bad.exit_code == 2 and "destripe-centre" in bad.output
