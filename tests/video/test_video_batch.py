"""``unmask run`` on a folder mixing photos and clips."""

from __future__ import annotations

import json

import pytest

from unmask.video.synth import ClipSpec, example_still, generate, write_clip

pytestmark = pytest.mark.slow


def test_run_writes_a_clip_beside_the_photos_and_resume_keeps_it(tmp_path) -> None:
    pytest.importorskip("av")
    from click.testing import CliRunner

    from unmask.cli.main import cli
    from unmask.io import save_image
    from unmask.video.io import probe

    still = example_still()
    src = tmp_path / "in"
    src.mkdir()
    write_clip(src / "clip.webm", (f.masked for f in generate(ClipSpec(frames=8), [still])))
    save_image(src / "photo.png", still.masked)
    (src / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    by_name = {e["input"].split("/")[-1]: e for e in report["images"]}
    clip = by_name["clip.webm"]
    assert clip["status"] == "ok" and clip["kind"] == "video"
    assert clip["outputs"] == {"restored": "restored/clip.mp4"}
    assert clip["video"]["frames"] == 8 and clip["video"]["masked_frames"] == 8
    assert probe(out / "restored" / "clip.mp4").frames == 8
    assert by_name["photo.png"]["status"] == "ok"
    assert by_name["broken.mp4"]["status"] == "skipped" and by_name["broken.mp4"]["reason"]
    assert not list((out / "restored").glob(".*"))  # no partial clip left
    before = (out / "restored" / "clip.mp4").stat().st_mtime_ns
    res = CliRunner().invoke(cli, ["run", str(src), "-o", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    assert (out / "restored" / "clip.mp4").stat().st_mtime_ns == before  # not redone


def test_a_single_frame_gif_is_a_photo_and_an_animated_one_a_clip(tmp_path) -> None:
    from PIL import Image

    from unmask.video.io import is_clip

    frames = [Image.new("RGB", (16, 16), (i * 40, 0, 0)) for i in range(3)]
    frames[0].save(tmp_path / "still.gif")
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "junk.gif").write_bytes(b"GIF89a broken")
    assert is_clip(tmp_path / "moving.gif") and is_clip(tmp_path / "x.mkv")
    assert not is_clip(tmp_path / "still.gif") and not is_clip(tmp_path / "junk.gif")
    assert not is_clip(tmp_path / "photo.png")
