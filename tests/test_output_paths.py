"""Outputs that cannot be written: one-line EmovcErrors naming the path the caller gave."""

import os

import numpy as np
import pytest

from emovc import EmovcError, save_audio
from emovc.errors import OutputPathError
from emovc.fileio import atomic_output, check_writable

X = np.zeros(1600, np.float32)


def test_a_file_where_a_folder_should_be_is_named(tmp_path):
    (tmp_path / "in.wav").write_bytes(b"x")  # FileExistsError: 'in.wav' from mkdir before
    target = tmp_path / "in.wav" / "sub" / "out.wav"
    for call in (lambda: save_audio(target, X), lambda: check_writable(target)):
        with pytest.raises(OutputPathError, match=r"^cannot write .*out\.wav: .*in\.wav is a "
                                                  r"file, not a folder$") as exc:
            call()
        assert isinstance(exc.value, EmovcError) and isinstance(exc.value, OSError)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a /proc file system")
def test_a_folder_that_takes_no_files_is_named_not_the_temporary():
    # FileNotFoundError naming '/proc/.x.wav.1mw8um3u.wav' before
    with pytest.raises(OutputPathError, match=r"^cannot write /proc/x\.wav: cannot create a "
                                              r"file in /proc \(") as exc:
        save_audio("/proc/x.wav", X)
    assert ".x.wav." not in str(exc.value)


def test_a_folder_at_the_output_path_is_named(tmp_path, monkeypatch):
    real_replace = os.replace

    def folder_appears(tmp, final):  # a folder of the output's name, made while writing
        os.mkdir(final)
        real_replace(tmp, final)

    monkeypatch.setattr(os, "replace", folder_appears)
    with pytest.raises(OutputPathError, match=r"out\.bin: it is a folder$"):
        with atomic_output(tmp_path / "out.bin") as tmp:
            tmp.write_bytes(b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # the folder; no temporary
