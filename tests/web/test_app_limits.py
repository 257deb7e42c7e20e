"""The web app's work limits (busy 503, timeouts) and bearer token, with fake unmaskers, and
the ``unmask serve`` options that set them."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'unmask[web]'")
if importlib.util.find_spec("httpx2") is None and importlib.util.find_spec("httpx") is None:
    pytest.skip("FastAPI's TestClient needs httpx2 (or httpx)", allow_module_level=True)
pytest.importorskip("python_multipart", reason="needs python-multipart")

from click.testing import CliRunner  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from unmask.io import ImageError  # noqa: E402
from unmask.web.app import create_app  # noqa: E402

URL = "/api/unmask"


def post(client, data: bytes, headers=None):
    return client.post(URL, files={"image": ("face.jpg", data)}, headers=headers)


class Gate:
    """An unmasker that blocks until released: ``started`` counts the photos it began."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, source, gender=None):
        self.started.release()
        assert self.release.wait(20)
        raise ImageError("released")


def upload(url: str, photo: bytes, answers: list, headers=None) -> None:
    """POST ``photo`` to ``url``api/unmask; appends (status, headers, JSON body)."""
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})}
    request = urllib.request.Request(url + "api/unmask", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            answers.append((r.status, r.headers, json.loads(r.read())))
    except urllib.error.HTTPError as exc:
        answers.append((exc.code, exc.headers, json.loads(exc.read())))


def test_busy_server_answers_503_with_retry_after(live_server, make_photo):
    gate = Gate()
    url = live_server(create_app(lambda: gate, workers=1, queue=1))
    photo, answers = make_photo(), []
    threads = [threading.Thread(target=upload, args=(url, photo, answers)) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        assert gate.started.acquire(timeout=20)  # one photo running, the other queued
        deadline = time.monotonic() + 20
        while True:  # the second upload reaches the server when its thread gets the CPU
            with urllib.request.urlopen(url + "api/health", timeout=5) as r:
                work = json.loads(r.read())["work"]
            if work["admitted"] == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert work["running"] == 1 and work["admitted"] == 2
        assert work["workers"] == 1 and work["queue"] == 1
        refused: list = []
        upload(url, photo, refused)
        status, headers, body = refused[0]
        assert status == 503 and int(headers["Retry-After"]) >= 1
        assert body["retry_after_s"] == int(headers["Retry-After"])
        assert body["detail"].startswith("server busy")
    finally:
        gate.release.set()
        for t in threads:
            t.join(30)
    assert [a[0] for a in answers] == [400, 400]  # both were processed in turn


def test_timeouts_504_when_processing_503_when_queued(live_server, make_photo):
    gate = Gate()
    url = live_server(create_app(lambda: gate, workers=1, queue=1, timeout_s=0.5))
    photo, answers = make_photo(), []
    try:
        first = threading.Thread(target=upload, args=(url, photo, answers))
        first.start()
        assert gate.started.acquire(timeout=20)
        upload(url, photo, answers)  # queued behind the first, never reaches the worker
        first.join(30)
        by_status = {status: (headers, body) for status, headers, body in answers}
        assert set(by_status) == {503, 504}
        assert by_status[504][1] == {"detail": "processing took longer than 0.5 s"}
        headers, body = by_status[503]
        assert int(headers["Retry-After"]) >= 1 and "waited 0.5 s" in body["detail"]
        # the timed-out photo still holds its worker: one place is left, in the queue
        with urllib.request.urlopen(url + "api/health", timeout=5) as r:
            work = json.loads(r.read())["work"]
        assert work["running"] == 1 and work["admitted"] == 1
    finally:
        gate.release.set()


def test_token_required_on_api_routes(fake_factory, make_photo):
    client = TestClient(create_app(fake_factory, token="s3cret"))
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["token_required"] is True
    r = post(client, make_photo())
    assert r.status_code == 401 and r.json()["detail"].startswith("missing bearer token")
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = post(client, make_photo(), headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["detail"].startswith("wrong bearer token")
    assert client.get("/api/other").status_code == 401  # every /api/ route, not only unmask
    assert fake_factory.created == 0
    r = post(client, make_photo(), headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.json()["summary"]["faces"] == 1
    page = client.get("/")
    assert page.status_code == 200 and "NEEDS_TOKEN = true" in page.text


def test_no_token_by_default(fake_factory, make_photo):
    client = TestClient(create_app(fake_factory))
    assert client.get("/api/health").json()["token_required"] is False
    assert post(client, make_photo()).status_code == 200
    assert "NEEDS_TOKEN = false" in client.get("/").text


def test_bad_work_limits_rejected(fake_factory):
    with pytest.raises(ValueError):
        create_app(fake_factory, workers=0)
    with pytest.raises(ValueError):
        create_app(fake_factory, timeout_s=0)


@pytest.fixture
def fake_uvicorn(monkeypatch):
    uvicorn = pytest.importorskip("uvicorn")
    calls: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    monkeypatch.delenv("UNMASK_TOKEN", raising=False)
    return calls


def test_serve_refuses_other_hosts_without_token(fake_uvicorn):
    from unmask.cli.serve import serve

    r = CliRunner().invoke(serve, ["--host", "0.0.0.0"])
    assert r.exit_code == 2 and "not loopback" in r.output and "UNMASK_TOKEN" in r.output
    assert not fake_uvicorn


def test_serve_token_from_env_and_work_options(fake_uvicorn, make_photo):
    from unmask.cli.serve import serve

    args = ["--host", "0.0.0.0", "--workers", "3", "--queue", "5", "--timeout", "9"]
    r = CliRunner().invoke(serve, args, env={"UNMASK_TOKEN": "t0k"})
    assert r.exit_code == 0, r.output
    assert "bearer token required" in r.output and "3 workers, queue 5, timeout 9 s" in r.output
    client = TestClient(fake_uvicorn["app"])
    work = client.get("/api/health").json()["work"]
    assert (work["workers"], work["queue"], work["timeout_s"]) == (3, 5, 9)
    assert post(client, make_photo()).status_code == 401


def test_serve_loopback_says_no_token(fake_uvicorn):
    from unmask.cli.serve import serve

    r = CliRunner().invoke(serve, [])
    assert r.exit_code == 0, r.output
    assert "no token required" in r.output


@pytest.mark.parametrize("token_required", [False, True])
def test_page_script_parses(tmp_path, token_required):
    """The page's inline script is valid JavaScript with and without the token field (the
    browser test runs it; this needs only Node.js)."""
    import re
    import shutil
    import subprocess

    from unmask.web import page

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    html = page.render(15, 25, "0", token_required=token_required)
    script = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    (tmp_path / "page.js").write_text(script)
    r = subprocess.run([node, "--check", str(tmp_path / "page.js")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ('id="token"' in html) and ("NEEDS_TOKEN = " + str(token_required).lower() in html)
