"""Atomic outputs: complete files only, usual permissions, nothing left behind on failure."""

import os

import pytest

from emovc.fileio import atomic_output, write_atomic


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
