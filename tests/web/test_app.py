"""The web app through FastAPI's TestClient, with a fake unmasker (no models)."""

from __future__ import annotations

import base64
import importlib.util
import io

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'unmask[web]'")
if importlib.util.find_spec("httpx2") is None and importlib.util.find_spec("httpx") is None:
    pytest.skip("FastAPI's TestClient needs httpx2 (or httpx)", allow_module_level=True)
pytest.importorskip("python_multipart", reason="needs python-multipart")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from unmask.io import ImageError  # noqa: E402
from unmask.web.app import create_app  # noqa: E402

URL = "/api/unmask"


def png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.fixture
def client(fake_factory):
    return TestClient(create_app(fake_factory))


def post(client, data: bytes, name: str = "face.jpg", **fields):
    params = {"format": fields.pop("format")} if "format" in fields else None
    return client.post(URL, files={"image": (name, data)}, data=fields, params=params)


def test_page_is_self_contained(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "http://" not in html and "https://" not in html  # nothing fetched from a network
    assert "not the real face" in html and 'type="file"' in html and 'id="gender"' in html
    assert "15 MB" in html and "25" in html
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_factory_is_lazy_and_reused(fake_factory, make_photo):
    client = TestClient(create_app(fake_factory))
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["model_loaded"] is False
    assert health["limits"] == {"max_upload_mb": 15, "max_megapixels": 25}
    assert fake_factory.created == 0
    for _ in range(2):
        assert post(client, make_photo()).status_code == 200
    assert fake_factory.created == 1
    assert client.get("/api/health").json()["model_loaded"] is True


def test_json_response(client, fake_factory, make_photo):
    photo = make_photo(320, 260)
    r = post(client, photo)
    assert r.status_code == 200, r.text
    d = r.json()
    expected = fake_factory.unmasker(photo)
    assert d["size"] == [320, 260]
    assert d["faces"] == [f.to_json() for f in expected.faces]
    face = d["faces"][0]
    assert face["gender"] == "female" and face["gender_forced"] is False
    assert face["masked"] is True and 0 < face["mask_coverage"] < 1 and len(face["landmarks"]) == 68
    assert d["summary"] == {"faces": 1, "masked_faces": 1}
    assert "synthes" in d["note"] and d["timings_ms"]["server"] > 0
    images = {k: png_array(base64.b64decode(v)) for k, v in d["images"].items()}
    np.testing.assert_array_equal(images["restored"], expected.restored)
    assert images["mask"].shape == (260, 320) and set(np.unique(images["mask"])) == {0, 255}
    np.testing.assert_array_equal(images["mask"] > 0, expected.mask > 0)
    assert images["compare"].shape[0] == 384 and images["compare"].shape[1] > 3 * 384
    assert images["original"].shape == images["overlay"].shape == (260, 320, 3)


@pytest.mark.parametrize("where", ["query", "form"])
def test_png_response(client, fake_factory, make_photo, where):
    photo = make_photo()
    if where == "query":
        r = client.post(URL + "?format=png", files={"image": ("my photo.jpg", photo)})
    else:
        r = client.post(URL, files={"image": ("my photo.jpg", photo)}, data={"format": "png"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert 'filename="my_photo-unmasked.png"' in r.headers["content-disposition"]
    assert r.headers["x-unmask-faces"] == "1" and r.headers["x-unmask-masked-faces"] == "1"
    np.testing.assert_array_equal(png_array(r.content), fake_factory.unmasker(photo).restored)


def test_gender_override(client, fake_factory, make_photo):
    face = post(client, make_photo(), gender="male").json()["faces"][0]
    assert face["gender"] == "male" and face["gender_forced"] is True
    assert face["gender_score"] == 1.0
    assert post(client, make_photo(), gender="auto").status_code == 200
    assert fake_factory.unmasker.calls == ["male", None]
    r = post(client, make_photo(), gender="other")
    assert r.status_code == 400 and "gender" in r.json()["detail"]


def test_bad_format(client, make_photo):
    r = post(client, make_photo(), format="gif")
    assert r.status_code == 400 and "format" in r.json()["detail"]


def test_too_large_from_content_length(fake_factory, make_photo):
    client = TestClient(create_app(fake_factory, max_upload_mb=0.05))
    big = np.random.default_rng(0).bytes(200_000)  # refused before it is even parsed
    r = post(client, big, "big.png")
    assert r.status_code == 413
    assert r.json()["detail"].startswith("upload too large") and "0.05 MB" in r.json()["detail"]
    assert fake_factory.created == 0


def test_too_large_enforced_while_reading(fake_factory):
    """A chunked body has no Content-Length: the limit is enforced on the bytes received."""
    client = TestClient(create_app(fake_factory, max_upload_mb=0.05))
    head = b'--b\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\n\r\n'

    def body():
        yield head
        for _ in range(40):
            yield b"\0" * 10_000

    headers = {"content-type": "multipart/form-data; boundary=b"}
    r = client.post(URL, content=body(), headers=headers)
    assert r.status_code == 413 and r.json()["detail"] == "upload too large (limit 0.05 MB)"


def test_file_just_over_limit(fake_factory):
    client = TestClient(create_app(fake_factory, max_upload_mb=0.05))
    r = post(client, b"\0" * (int(0.05 * 2**20) + 10))
    assert r.status_code == 413 and r.json()["detail"] == "file too large (limit 0.05 MB)"


def test_text_file_is_400(client):
    r = post(client, b"just some notes\n" * 20, "notes.txt")
    assert r.status_code == 400 and r.json() == {"detail": "not an image"}


def test_truncated_jpeg_is_400(client, make_photo):
    jpeg = make_photo(320, 260, "JPEG")
    r = post(client, jpeg[: len(jpeg) // 2], "cut.jpg")
    assert r.status_code == 400 and r.json() == {"detail": "truncated or corrupt image"}


def test_empty_file_is_400(client):
    r = post(client, b"", "empty.jpg")
    assert r.status_code == 400 and r.json()["detail"] == "empty file"


def test_too_many_megapixels_is_400(fake_factory, make_photo):
    client = TestClient(create_app(fake_factory, max_megapixels=0.05))
    r = post(client, make_photo(320, 260))
    assert r.status_code == 400
    assert r.json()["detail"] == "image too large: 0.1 megapixels (limit 0.05)"


def test_missing_file_field_is_415(client, make_photo):
    r = client.post(URL, files={"photo": ("face.jpg", make_photo())})
    assert r.status_code == 415 and "'image'" in r.json()["detail"]
    r = client.post(URL, files={"other": ("a.txt", b"x")}, data={"image": "not a file"})
    assert r.status_code == 415
    r = client.post(URL, data={"gender": "male"})  # urlencoded, not multipart
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]


def test_internal_error_is_500_without_details(make_photo):
    def broken(source, gender=None):
        raise RuntimeError("secret detail /home/someone/weights")

    client = TestClient(create_app(lambda: broken))
    r = post(client, make_photo())
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text
    assert "internal error" in r.json()["detail"]


def test_bad_limits_rejected():
    with pytest.raises(ValueError):
        create_app(lambda: None, max_upload_mb=0)


def test_server_stays_responsive_while_unmasking(live_server, make_photo):
    """The unmasker runs in a worker thread: the server answers while a photo is in progress."""
    import threading
    import urllib.error
    import urllib.request

    started, release = threading.Event(), threading.Event()

    def slow(source, gender=None):
        started.set()
        assert release.wait(20)
        raise ImageError("released")

    url = live_server(create_app(lambda: slow))
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + make_photo()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url + "api/unmask",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    answers = []

    def send():
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as exc:
            answers.append((exc.code, exc.read()))

    thread = threading.Thread(target=send)
    thread.start()
    try:
        assert started.wait(20)
        with urllib.request.urlopen(url + "api/health", timeout=5) as r:
            assert r.status == 200
    finally:
        release.set()
        thread.join(30)
    assert answers == [(400, b'{"detail":"released"}')]


def test_serve_command_without_web_extra(monkeypatch):
    from click.testing import CliRunner

    from unmask.cli import serve as serve_module

    monkeypatch.setattr(serve_module, "_missing_web_packages", lambda: ["fastapi", "uvicorn"])
    r = CliRunner().invoke(serve_module.serve, [])
    assert r.exit_code == 1
    assert "needs fastapi, uvicorn: pip install 'unmask[web]'" in r.output


def test_serve_command_runs_uvicorn(monkeypatch):
    uvicorn = pytest.importorskip("uvicorn")
    from click.testing import CliRunner

    from unmask.cli.serve import serve

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    r = CliRunner().invoke(serve, ["--port", "8123", "--max-upload-mb", "3"])
    assert r.exit_code == 0, r.output
    assert "http://127.0.0.1:8123/" in r.output
    assert calls["host"] == "127.0.0.1" and calls["port"] == 8123
    health = TestClient(calls["app"]).get("/api/health").json()
    assert health["limits"] == {"max_upload_mb": 3, "max_megapixels": 25}
