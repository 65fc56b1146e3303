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


def test_a_folder_with_an_audio_file_name_as_output_is_refused(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    (tmp_path / "in").mkdir()
    save_audio(tmp_path / "in" / "a.wav", calm)
    with pytest.raises(EmovcError, match="must be a folder too; .*y.wav names an audio file"):
        convert_paths(conv, tmp_path / "in", tmp_path / "y.wav", "sad", source="calm")
    assert not (tmp_path / "y.wav").exists()


def test_a_detected_source_says_so(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    save_audio(tmp_path / "in.wav", calm)
    said = []
    convert_paths(conv, tmp_path / "in.wav", tmp_path / "a.wav", "sad", progress=said.append)
    convert_paths(conv, tmp_path / "in.wav", tmp_path / "b.wav", "sad", source="calm",
                  progress=said.append)
    assert "(detected " in said[0] and "(calm -> sad)" in said[1], said


def test_the_same_emotion_on_both_sides_is_refused(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    save_audio(tmp_path / "in.wav", calm)
    with pytest.raises(EmovcError, match="--from and --to are both sad: nothing to convert"):
        convert_paths(conv, tmp_path / "in.wav", tmp_path / "o.wav", "SAD", source="sad")
