"""Fixtures of the large-batch tests: a few small photos and the uninterrupted run on them."""

import pytest

from support import masked_photos, run_cli


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Four masked photos, ``sub/p0.png`` (a stem taken twice) and a non-image: 6 inputs."""
    return masked_photos(tmp_path_factory.mktemp("in") / "photos", n=4)


@pytest.fixture(scope="module")
def reference(photos, tmp_path_factory):
    """The output folder of one uninterrupted ``unmask run`` over ``photos`` and ``sub/``."""
    out = tmp_path_factory.mktemp("ref") / "out"
    run_cli(photos, out)
    return out
