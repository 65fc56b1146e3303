"""Atomic outputs: complete files only, usual permissions, nothing left behind on failure."""

import os

import pytest

from emovc.errors import ConfigError
from emovc.fileio import atomic_output, refuse_input_overwrite, write_atomic


def test_written_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_atomic(tmp_path / "sub" / "a.txt", "hello")
    finally:
        os.umask(old)
    assert p.read_text() == "hello"
    assert (p.stat().st_mode & 0o777) == 0o644  # not mkstemp's 0600


def test_failure_leaves_target_untouched_and_no_temporaries(tmp_path):
    target = tmp_path / "b.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin"]


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    """SIGKILL skips the cleanup; the next write of the same output removes the leftover once
    it is over an hour old, and leaves young temporaries and other outputs' ones alone."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "out.wav"
    code = ("import os, signal; from emovc.fileio import atomic_output\n"
            f"with atomic_output({str(target)!r}, suffix='.wav') as t:\n"
            "    t.write_bytes(b'half'); os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".out.wav.") and left.suffix == ".wav"
    young = tmp_path / ".out.wav.abcdefgh.wav"
    other = tmp_path / ".other.wav.abcdefgh.wav"
    users = tmp_path / ".out.wav.backup-1.wav"  # the right length, not mkstemp's letters
    for p in (young, other, users):
        p.write_bytes(b"")
    for p in (left, other, users):
        os.utime(p, (0, 0))
    with atomic_output(target, suffix=".wav") as tmp:
        tmp.write_bytes(b"done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [young.name, other.name, users.name, "out.wav"])


def test_the_package_surface(tmp_path):
    """What `help(emovc)` promises: the pipeline classes (lazy, and listed by dir()), the
    audio helpers and the error classes, importable from `emovc` itself."""
    import numpy as np

    import emovc

    for name in emovc.__all__:
        assert getattr(emovc, name) is not None and name in dir(emovc)
    assert issubclass(emovc.OutputExistsError, emovc.EmovcError)
    target = tmp_path / "a.wav"
    target.write_bytes(b"mine")
    with pytest.raises(emovc.OutputExistsError, match="output exists: "):
        emovc.save_audio(target, np.zeros(10, np.float32))  # every writer: the one class


def test_load_audio_checks_its_rate_and_save_audio_says_when_it_clips(tmp_path):
    import numpy as np

    import emovc

    wav = 0.5 * np.sin(np.linspace(0, 600, 16000)).astype(np.float32)
    path = emovc.save_audio(tmp_path / "a.wav", wav)
    for bad in (0, -16000, "16000", 16000.5):
        with pytest.raises(emovc.AudioError, match="sr must be a positive integer"):
            emovc.load_audio(path, sr=bad)
    assert emovc.load_audio(path, sr=8000.0).shape == (8000,)
    with pytest.warns(UserWarning, match=r"3 sample\(s\) beyond full scale were clipped"):
        emovc.save_audio(tmp_path / "b.wav", np.array([0.1, 2.0, -3.0, 1.5], np.float32))


def test_an_output_that_is_an_input_is_refused_by_any_name(tmp_path):
    """One check for every writer that must never overwrite its input, even with force: the
    same file through a relative path or a link counts; a folder of inputs (a corpus)
    covers the files inside it."""
    src = tmp_path / "corpus" / "a.wav"
    src.parent.mkdir()
    src.write_bytes(b"RIFF")
    (tmp_path / "link").symlink_to(src.parent)
    refuse_input_overwrite(tmp_path / "out.wav", [src])  # another file: fine
    for same in (tmp_path / "link" / "a.wav", tmp_path / "corpus" / ".." / "corpus" / "a.wav"):
        with pytest.raises(ConfigError, match=r"^output would overwrite the input file: "):
            refuse_input_overwrite(same, [src])
    with pytest.raises(ConfigError, match=r"would overwrite a corpus file: .*a\.wav; use \.csv$"):
        refuse_input_overwrite(tmp_path / "link" / "a.wav", what="a corpus file",
                               within=tmp_path / "corpus", hint="use .csv")
    refuse_input_overwrite(tmp_path / "m.csv", within=tmp_path / "corpus")
