"""Streaming decode/encode with PyAV: containers, frame rate, frame count, audio, skips."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from unmask.video.io import INSTALL_HINT, VideoError, probe, read_frames, write_video  # noqa: E402
from unmask.video.synth import write_clip  # noqa: E402


def frames(n: int = 12, size: tuple[int, int] = (64, 48)):
    w, h = size
    for k in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, : 4 * k + 4] = (200, 80, 40)
        yield img


def audio_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as c:
        return sum(f.samples / f.sample_rate for f in c.decode(c.streams.audio[0]))


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".webm", ".avi", ".mkv", ".gif"])
def test_every_container_round_trips_with_rate_count_size_and_audio(suffix, tmp_path) -> None:
    src = tmp_path / f"clip{suffix}"
    write_clip(src, frames(), fps=12.5)
    dst = tmp_path / "out.mp4"
    done = write_video((255 - f for f in read_frames(src)), dst, src)
    out, info = probe(dst), probe(src)
    assert done["frames"] == 12 == sum(1 for _ in read_frames(dst))
    assert (out.width, out.height, out.fps) == (64, 48, info.fps) == (64, 48, 12.5)
    if suffix == ".gif":
        assert done["audio"] == "none" and out.audio is None
    else:
        assert done["audio"] in ("copied", "aac") and out.audio is not None
        assert abs(audio_seconds(dst) - audio_seconds(src)) < 0.05
    first = next(read_frames(dst))
    assert abs(int(first[:, 40:].mean()) - 255) < 12  # the frames were inverted: ours were kept
    assert not (tmp_path / "out.video.mp4").exists()


def test_odd_sizes_keep_their_resolution(tmp_path) -> None:
    src = tmp_path / "odd.gif"
    write_clip(src, frames(3, (63, 47)))
    dst = tmp_path / "odd.mp4"
    write_video(read_frames(src), dst, src)
    assert (probe(dst).width, probe(dst).height) == (63, 47)
    assert next(read_frames(dst)).shape == (47, 63, 3)


def test_unreadable_truncated_and_videoless_files_say_why(tmp_path) -> None:
    import av

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(VideoError, match="not a readable video"):
        probe(bad)
    good = tmp_path / "good.mp4"
    write_clip(good, frames())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(VideoError):
        list(read_frames(cut))
    sound = tmp_path / "sound.mp4"
    with av.open(str(sound), "w") as out:
        s = out.add_stream("aac", rate=48000)
        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), "flt", "mono")
        af.sample_rate = 48000
        out.mux(s.encode(af))
        out.mux(s.encode(None))
    with pytest.raises(VideoError, match="no video stream"):
        probe(sound)


def test_missing_pyav_gives_install_advice(monkeypatch) -> None:
    from unmask.video.io import require_av

    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(RuntimeError, match=r"unmask\[video\]"):
        require_av()
    assert "pip install" in INSTALL_HINT
