"""Output paths are checked before any conversion work."""

import pytest

from emovc.audio import save_audio
from emovc.errors import EmovcError
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.conversion_batch import convert_paths


def test_an_unwritable_format_fails_before_converting(stargan_run, calm, tmp_path,
                                                      monkeypatch):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    save_audio(tmp_path / "in.wav", calm)

    def never(*a, **k):
        raise AssertionError("converted before the output was checked")

    monkeypatch.setattr(conv, "convert_file", never)
    with pytest.raises(EmovcError, match=r"cannot write the converted audio as '\.mp3'.*"
                                         r"\.wav, \.flac, \.ogg"):
        convert_paths(conv, tmp_path / "in.wav", tmp_path / "out.mp3", "sad", source="calm")
