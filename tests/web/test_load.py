"""Load test: the real ``unmask serve`` (tiny random weights, 2 workers) in a subprocess on
127.0.0.1 takes 50 concurrent uploads of a 12-megapixel JPEG.

Every upload must end in 200 or in 503 with ``Retry-After`` (no other 5xx), the server's peak
resident memory (``VmHWM``) must stay under 1.5 GB and ``/api/health`` must answer within 1 s
throughout. The figures are printed (``pytest -s``) and quoted in docs/serve.md.
"""

from __future__ import annotations

import http.client
import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import unmask
from support import make_tiny_weights

UPLOADS = 50
WORKERS = 2
QUEUE = 4
PEAK_RSS_LIMIT_MB = 1536
HEALTH_LIMIT_S = 1.0
SIDE = (4000, 3000)  # 12 megapixels

pytestmark = pytest.mark.slow


def require() -> None:
    for module in ("fastapi", "uvicorn", "python_multipart", "torch"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'unmask[web,train]')")
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the server's memory from /proc (Linux)")


def noisy_photo(drawing: bytes, seed: int = 0) -> bytes:
    """The cartoon face ``drawing`` (JPEG) with sensor-like noise: at 12 MP a JPEG the size of
    a real photo (about 2.5 MB) rather than a flat 0.2 MB drawing."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(drawing))).astype(np.int16)
    noise = np.random.default_rng(seed).normal(0, 6, image.shape)
    noisy = np.clip(image + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_kb(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` memory field (``VmHWM``, ``VmRSS``) in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def request(port: int, method: str, path: str, body: bytes = b"", headers=None, timeout=180):
    """(status, headers, body) of one HTTP request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def multipart(photo: bytes) -> tuple[bytes, dict]:
    boundary = "l0adtest"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body = head + photo + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def server(tmp_path):
    """The ``unmask serve`` subprocess: yields (pid, port)."""
    require()
    weights = make_tiny_weights(tmp_path / "weights")
    port = free_port()
    src = str(Path(unmask.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "unmask.cli.main", "serve", "--port", str(port)]
    cmd += ["--weights-dir", str(weights), "--backend", "torch", "--detector", "unmask"]
    cmd += ["--workers", str(WORKERS), "--queue", str(QUEUE), "--timeout", "120"]
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {(tmp_path / 'server.log').read_text()}")
            try:
                if request(port, "GET", "/api/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /api/health within 60 s")
            time.sleep(0.2)
        yield proc.pid, port
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_fifty_concurrent_12mp_uploads(server, make_photo):
    pid, port = server
    photo = noisy_photo(make_photo(*SIDE))
    body, headers = multipart(photo)
    idle_mb = vm_kb(pid, "VmRSS") / 1024
    answers: list[tuple[int, http.client.HTTPMessage, bytes]] = []
    failures: list[str] = []
    health_s: list[float] = []
    done = threading.Event()

    def upload() -> None:
        try:
            answers.append(request(port, "POST", "/api/unmask?format=json", body, headers))
        except OSError as exc:  # connection reset, timeout...: a failure, not an answer
            failures.append(repr(exc))

    def poll_health() -> None:
        while not done.is_set():
            t = time.perf_counter()
            try:
                status = request(port, "GET", "/api/health", timeout=10)[0]
            except OSError as exc:
                failures.append(f"health: {exc!r}")
                status = None
            health_s.append(time.perf_counter() - t if status == 200 else float("inf"))
            time.sleep(0.1)

    poller = threading.Thread(target=poll_health)
    poller.start()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=upload) for _ in range(UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    wall = time.perf_counter() - t0
    done.set()
    poller.join(30)
    peak_mb = vm_kb(pid, "VmHWM") / 1024
    after_mb = vm_kb(pid, "VmRSS") / 1024

    codes = [status for status, _, _ in answers]
    ok = codes.count(200)
    busy = [h for status, h, _ in answers if status == 503]
    print(
        f"\n{UPLOADS} uploads of a {SIDE[0]}x{SIDE[1]} JPEG ({len(photo) / 2**20:.1f} MB), "
        f"{WORKERS} workers, queue {QUEUE}: {ok} x 200, {len(busy)} x 503, "
        f"other {sorted(set(codes) - {200, 503})}, failures {len(failures)}; "
        f"peak RSS {peak_mb:.0f} MB (idle {idle_mb:.0f} MB, after {after_mb:.0f} MB); "
        f"/api/health max {1000 * max(health_s):.0f} ms over {len(health_s)} polls; "
        f"wall {wall:.1f} s"
    )
    assert not failures, failures[:3]
    assert len(answers) == UPLOADS
    assert set(codes) <= {200, 503}, [(s, b[:200]) for s, _, b in answers if s not in (200, 503)]
    assert ok >= WORKERS  # the first uploads get a worker
    for h in busy:
        assert int(h["Retry-After"]) >= 1
    for status, _, raw in answers:
        if status == 200:
            d = json.loads(raw)
            assert d["size"] == list(SIDE) and "restored" in d["images"]
    assert peak_mb <= PEAK_RSS_LIMIT_MB
    assert health_s and max(health_s) <= HEALTH_LIMIT_S
