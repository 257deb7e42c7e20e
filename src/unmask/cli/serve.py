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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Photos processed at once [default: half the CPUs, 1 to 4].",
)
@click.option(
    "--queue",
    type=click.IntRange(min=0),
    default=8,
    show_default=True,
    help="Photos that may wait for a worker; beyond that: 503 with Retry-After.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=120,
    show_default=True,
    help="Longest wait for one photo, queue included (s): 503 if queued, 504 if processing.",
)
@click.option(
    "--token",
    envvar="UNMASK_TOKEN",
    default=None,
    help="Require 'Authorization: Bearer TOKEN' on /api/ (not /api/health) [env: UNMASK_TOKEN]; "
    "needed when --host is not loopback.",
)
def serve(host, port, max_upload_mb, max_megapixels, workers, queue, timeout_s, token, pipeline):
    """Serve the web page (upload a photo, see the mask, landmarks and result, download it)
    and the REST endpoint POST /api/unmask. Stop with Ctrl+C.

    The models load on the first photo. Listens on loopback by default: other computers cannot
    reach the page unless --host says so, and then a token is required (--token or
    UNMASK_TOKEN). At most --workers photos are decoded and processed at once, --queue more
    wait, and further uploads get 503 with Retry-After: memory stays bounded by the workers
    times the megapixel limit.
    """
    token = (token or "").strip() or None
    if host not in _LOOPBACK and token is None:
        raise click.UsageError(
            f"--host {host} is not loopback: other computers could use the server, so set an "
            "access token with --token or the UNMASK_TOKEN environment variable"
        )
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
    app = create_app(
        factory,
        max_upload_mb=max_upload_mb,
        max_megapixels=max_megapixels,
        workers=workers,
        queue=queue,
        timeout_s=timeout_s,
        token=token,
    )
    pool = app.state.pool
    if host not in _LOOPBACK:
        click.echo(f"warning: listening on {host}: other computers may reach the page", err=True)
    shown = f"[{host}]" if ":" in host else host
    access = "bearer token required on /api/" if token else "no token required (loopback)"
    click.echo(
        f"unmask web page: http://{shown}:{port}/  ({access}; {pool.workers} workers, queue "
        f"{pool.queue}, timeout {timeout_s:g} s; Ctrl+C to stop)"
    )
    log.info("serving on %s:%d, %s, %d workers, queue %d", host, port, access, pool.workers, queue)
    level = logging.getLogger().getEffectiveLevel()
    uvicorn.run(app, host=host, port=port, log_level="info" if level <= logging.INFO else "warning")
