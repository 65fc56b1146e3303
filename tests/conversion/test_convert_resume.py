"""A folder conversion resumes: a rerun converts only the missing outputs, keeps the others
(when their provenance tag shows this run's settings) and their conversions.csv rows."""

from __future__ import annotations

from emovc.audio import save_audio
from emovc.audio.io import read_comment
from emovc.pipelines.conversion import EmotionConverter


def test_the_provenance_tag_records_a_kept_input_level(stargan_run, calm, tmp_path):
    """--keep-level was not in the tag, so a rerun could not tell its outputs from those of
    the default level change."""
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    save_audio(tmp_path / "in.wav", calm)
    for keep in (False, True):
        out, used = conv.convert_file(tmp_path / "in.wav", tmp_path / f"{keep}.wav", "sad",
                                      source="calm", keep_level=keep)
        tag = read_comment(out)
        assert tag == conv.provenance_tag(used, "sad", keep_level=keep)
        assert tag.endswith(", input level kept)") == keep
