"""The note on items that are RAVDESS takes of the judge's training actors."""

from __future__ import annotations

from types import SimpleNamespace

from emovc.evaluation.emotion import training_overlap_notes
from emovc.evaluation.manifest import EvalItem


def test_only_names_the_ravdess_catalog_reads_count_as_training_takes():
    """The note counts a file as a training take by the same reading of its name as the
    catalog the judge was trained from: a name with an emotion, intensity or statement code
    RAVDESS does not have, or a song, is not one of its takes (the scan skips them)."""
    judge = SimpleNamespace(model=SimpleNamespace(info={"corpus": "ravdess",
                                                        "train_speakers": ["01", "02"]}))

    def counted(name: str) -> bool:
        return bool(training_overlap_notes([EvalItem("0", f"/d/{name}", "/o/c.wav", "angry")],
                                           judge))

    assert counted("03-01-05-02-01-02-01.wav") and counted("03-01-01-01-02-01-02.FLAC")
    assert not counted("03-01-05-02-01-02-17.wav")  # another actor
    for name in ("03-01-09-01-01-01-01.wav", "03-01-05-03-01-01-01.wav",
                 "03-01-05-01-03-01-01.wav", "03-02-05-01-01-01-01.wav", "speech.wav"):
        assert not counted(name), name
