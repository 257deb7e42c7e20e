"""End to end in a real headless Chromium: the app (with the fake unmasker) runs under uvicorn
on 127.0.0.1 and Selenium drives the system Chromium through the system chromedriver.

Skips when Chromium, chromedriver, selenium or the web extra is missing. Set
``UNMASK_WEB_SCREENSHOT=/some/page.png`` to keep the screenshot (default: pytest's tmp_path).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

import numpy as np
import pytest

log = logging.getLogger(__name__)

CHROMIUM = os.environ.get("UNMASK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("UNMASK_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROME_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
WAIT_S = 60  # generous: CI machines may be busy


def require_browser() -> None:
    """Skip unless everything the browser test needs is installed."""
    needs = {
        "fastapi": "pip install 'unmask[web]'",
        "uvicorn": "pip install 'unmask[web]'",
        "python_multipart": "pip install 'unmask[web]'",
        "selenium": "pip install selenium",
    }
    for module, how in needs.items():
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed ({how})")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.skip(f"{path} not found (apt-get install chromium chromium-driver)")


def start_browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # with both paths given, Selenium Manager stays idle
    for arg in (*CHROME_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(profile.parent / "driver.log"))
    return webdriver.Chrome(options=options, service=service)


def test_upload_and_errors_in_browser(fake_factory, make_photo, live_server, tmp_path):
    require_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from unmask.web.app import create_app

    url = live_server(create_app(fake_factory, max_upload_mb=1))
    driver = None
    try:
        driver = start_browser(tmp_path / "profile")
        wait = WebDriverWait(driver, WAIT_S)
        el = lambda id_: driver.find_element(By.ID, id_)  # noqa: E731
        driver.get(url)
        assert "unmask" in driver.title
        assert "not the real face" in el("note").text

        # Upload a photo: choosing the file starts the request.
        photo = tmp_path / "masked-face.jpg"
        photo.write_bytes(make_photo(480, 400))
        el("file").send_keys(str(photo))
        wait.until(lambda d: el("result").is_displayed() or el("error").is_displayed())
        assert not el("error").is_displayed(), el("error").text
        sizes = {}
        for name in ("img-original", "img-overlay", "img-restored"):
            img = el(name)
            wait.until(lambda d, img=img: d.execute_script("return arguments[0].complete", img))
            sizes[name] = driver.execute_script(
                "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", img
            )
            assert img.is_displayed() and img.size["width"] > 100
        assert sizes == dict.fromkeys(sizes, [480, 400])
        faces = el("faces").text
        assert "female · 83%" in faces and "yes" in faces and "of the face crop" in faces
        assert el("summary").text.startswith("1 face found, 1 masked and rebuilt · 480×400 px")
        link = el("dl-restored")
        assert link.get_attribute("href").startswith("blob:")
        assert link.get_attribute("download") == "masked-face-unmasked.png"

        for _ in range(2):  # grow the window until the whole page fits, for the screenshot
            extra, height = driver.execute_script(
                "return [window.outerHeight - window.innerHeight,"
                " document.documentElement.scrollHeight]"
            )
            driver.set_window_size(1280, int(height) + int(extra))
        shot = Path(os.environ.get("UNMASK_WEB_SCREENSHOT") or tmp_path / "page.png")
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        log.info("screenshot: %s", shot)

        # The gender override re-runs the photo with the chosen gender.
        Select(el("gender")).select_by_value("male")
        wait.until(lambda d: "male · set by you" in el("faces").text)
        assert fake_factory.unmasker.calls == [None, "male"]

        # A file that is not an image: a clear message, no stale result.
        notes = tmp_path / "notes.txt"
        notes.write_text("not a photo\n" * 50)
        el("file").send_keys(str(notes))
        wait.until(lambda d: el("error").is_displayed())
        assert el("error").text == 'Could not process "notes.txt": not an image.'
        assert not el("result").is_displayed()

        # Too large for the 1 MB limit: refused before upload, with the limit in the message.
        huge = tmp_path / "huge.jpg"
        huge.write_bytes(np.random.default_rng(0).bytes(1_300_000))
        el("file").send_keys(str(huge))
        wait.until(lambda d: "limit is 1 MB" in el("error").text)
        assert len(fake_factory.unmasker.calls) == 2
    finally:
        if driver is not None:
            driver.quit()
