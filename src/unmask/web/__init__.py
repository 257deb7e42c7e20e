"""The web front end behind ``unmask serve``: one self-contained page and a REST endpoint.

:func:`unmask.web.app.create_app` builds the FastAPI application (needs the ``web`` extra:
``pip install 'unmask[web]'``); :mod:`unmask.web.page` holds the page (inline CSS and JS, no
network). Nothing is imported here, so importing :mod:`unmask.web` never needs FastAPI.
"""
