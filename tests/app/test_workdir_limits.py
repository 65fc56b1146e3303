"""Work-dir sandboxing and upload limits (no gradio needed)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.app.limits import UploadLimits, check_upload, load_upload
from emovc.app.workdir import PathOutsideWorkDir, WorkDir, safe_stem
from emovc.errors import AudioError, ConfigError

LIMITS = UploadLimits(max_upload_mb=2.0, max_duration_s=10.0)


def test_inside_accepts_own_files_and_refuses_escapes(work: WorkDir, tmp_path: Path) -> None:
    inner = work.subdir("uploads") / "a.wav"
    inner.write_bytes(b"x")
    assert work.inside(inner) == inner.resolve()
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"x")
    for bad in (outside, work.root / ".." / "secret.wav", "/etc/passwd"):
        with pytest.raises(PathOutsideWorkDir, match="outside the app's work directory"):
            work.inside(bad)
    link = work.subdir("uploads") / "link.wav"
    os.symlink(outside, link)
    with pytest.raises(PathOutsideWorkDir):
        work.inside(link)


def test_subdir_names_and_fresh_files(work: WorkDir) -> None:
    with pytest.raises(PathOutsideWorkDir):
        work.subdir("..")
    with pytest.raises(PathOutsideWorkDir):
        work.subdir("a/b")
    a, b = work.new_file("outputs", "../../evil name"), work.new_file("outputs", "x")
    assert a.parent == b.parent == work.root / "outputs" and a != b
    assert a.name.startswith("evil_name-") and a.suffix == ".wav"
    assert safe_stem("") == "audio"


def test_cleanup_and_purge(tmp_path: Path) -> None:
    owned = WorkDir()
    owned.subdir("x")
    owned.cleanup()
    assert not owned.root.exists()
    kept = WorkDir(tmp_path / "mine")
    old, new = kept.subdir("outputs") / "old.wav", kept.subdir("outputs") / "new.wav"
    stranger = kept.root / "user-file.txt"  # not in a folder the app made: never purged
    for f in (old, new, stranger):
        f.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(stranger, (past, past))
    assert kept.purge(3600) == 1
    assert not old.exists() and new.exists() and stranger.exists()
    kept.cleanup()
    assert kept.root.exists()  # a user-given folder is kept


def test_limits_validate() -> None:
    with pytest.raises(ConfigError):
        UploadLimits(max_upload_mb=0)
    with pytest.raises(ConfigError):
        UploadLimits(max_duration_s=0.1)
    assert UploadLimits(max_upload_mb=1.5).max_bytes == 1.5 * 2**20


def test_the_size_limit_is_in_the_browsers_megabytes() -> None:
    """gradio refuses a larger upload itself, counting in 2^20 bytes ("exceed the maximum
    allowed size of 19.1 Mb" for the 20 MB limit when it was 20e6 bytes): the limit is
    20 of those, as the page header says."""
    assert UploadLimits(max_upload_mb=20).max_bytes == 20 * 1024 * 1024


def test_missing_and_outside_uploads(work: WorkDir, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no audio given"):
        check_upload(None, LIMITS, work)
    with pytest.raises(PathOutsideWorkDir):
        check_upload(tmp_path / "elsewhere.wav", LIMITS, work)


def test_non_audio_upload_gets_a_readable_message(work: WorkDir) -> None:
    notes = work.subdir("uploads") / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(AudioError, match=r"'notes.txt' is not a supported audio file"):
        load_upload(notes, LIMITS, work)
    fake = work.subdir("uploads") / "fake.wav"
    fake.write_text("this is not audio")
    with pytest.raises(AudioError, match=r"'fake.wav' is not a readable audio file") as exc:
        load_upload(fake, LIMITS, work)
    assert str(work.root) not in str(exc.value)  # no server paths in messages


def test_a_bug_reading_the_header_is_not_called_an_unreadable_file(work: WorkDir,
                                                                   monkeypatch) -> None:
    """Any exception from soundfile.info was reported as "not a readable audio file"."""
    import emovc.app.limits as limits

    clip = work.subdir("uploads") / "clip.wav"
    sf.write(clip, np.zeros(16000, np.float32), 16000)

    def broken(path):
        raise TypeError("a bug")

    monkeypatch.setattr(limits.sf, "info", broken)
    with pytest.raises(TypeError, match="a bug"):
        check_upload(clip, LIMITS, work)


def test_twenty_minute_upload_is_refused_before_decoding(work: WorkDir) -> None:
    long = work.subdir("uploads") / "long.flac"
    sf.write(long, np.zeros(20 * 60 * 8000, np.float32), 8000)  # near-silent: compresses small
    assert long.stat().st_size < LIMITS.max_bytes
    with pytest.raises(AudioError, match=r"too long: 20 min 00.0 s \(limit 10 s\)"):
        check_upload(long, LIMITS, work)


def test_too_large_upload(work: WorkDir) -> None:
    big = work.subdir("uploads") / "big.wav"
    sf.write(big, np.random.default_rng(0).uniform(-0.5, 0.5, 36 * 16000), 16000,
             subtype="FLOAT")
    with pytest.raises(AudioError, match=r"too large: 2.2 MB \(limit 2 MB\)"):  # of 2^20 bytes
        check_upload(big, LIMITS, work)


def test_good_upload_is_resampled_to_16k(upload, work: WorkDir) -> None:
    wav = load_upload(upload("c.wav", seconds=1.5, sr=22050), LIMITS, work)
    assert wav.dtype == np.float32 and abs(len(wav) - 24000) <= 2


def test_silent_and_short_uploads(work: WorkDir) -> None:
    silent = work.subdir("uploads") / "silent.wav"
    sf.write(silent, np.zeros(16000, np.float32), 16000)
    with pytest.raises(AudioError, match="'silent.wav' is silent"):
        load_upload(silent, LIMITS, work)
    short = work.subdir("uploads") / "short.wav"
    sf.write(short, np.full(1600, 0.1, np.float32), 16000)
    with pytest.raises(AudioError, match="too short"):
        load_upload(short, LIMITS, work)
