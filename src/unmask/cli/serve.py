"""``unmask serve``: the web page and REST endpoint on this computer (needs ``unmask[web]``)."""

from __future__ import annotations

import functools
import importlib.util
import logging

import click

from unmask.cli.options import pipeline_options

log = logging.getLogger(__name__)

_WEB_MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "python_multipart": "python-multipart"}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _missing_web_packages() -> list[str]:
    """Names of the ``web`` extra's packages that cannot be imported."""
    missing = []
    for module, package in _WEB_MODULES.items():
        found = importlib.util.find_spec(module) is not None
        if module == "python_multipart":  # releases before 0.0.13 install only ``multipart``
            found = found or importlib.util.find_spec("multipart") is not None
        if not found:
            missing.append(package)
    return missing


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@pipeline_options
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=15,
    show_default=True,
    help="Largest accepted upload (MB).",
)
@click.option(
    "--max-megapixels",
    type=click.FloatRange(min=0, min_open=True),
    default=25,
    show_default=True,
    help="Largest accepted photo (megapixels).",
)
def serve(host, port, max_upload_mb, max_megapixels, pipeline):
    """Serve the web page (upload a photo, see the mask, landmarks and result, download it)
    and the REST endpoint POST /api/unmask. Stop with Ctrl+C.

    The models load on the first photo. Listens on loopback by default: other computers cannot
    reach the page unless --host says so.
    """
    missing = _missing_web_packages()
    if missing:
        raise click.ClickException(
            f"the web server needs {', '.join(missing)}: pip install 'unmask[web]'"
        )
    import uvicorn

    from unmask.api import Unmasker, resolve_device
    from unmask.web.app import create_app

    if pipeline["device"] != "auto":
        resolve_device(pipeline["device"])  # e.g. cuda without a GPU: fail now, not at upload
    factory = functools.partial(Unmasker, **pipeline)
    app = create_app(factory, max_upload_mb=max_upload_mb, max_megapixels=max_megapixels)
    if host not in _LOOPBACK:
        click.echo(f"warning: listening on {host}: other computers may reach the page", err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"unmask web page: http://{shown}:{port}/  (Ctrl+C to stop)")
    level = logging.getLogger().getEffectiveLevel()
    uvicorn.run(app, host=host, port=port, log_level="info" if level <= logging.INFO else "warning")
