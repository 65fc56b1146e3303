"""The conversion feature cache keeps corpora apart and never serves stale features."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import EmovcError, EmovcWarning
from emovc.features.world import WorldConfig

from .conftest import CODES


def tiny_corpus(root: Path, actors: tuple[str, ...], formant: float = 1.0, seed: int = 0,
                emotions: tuple[str, ...] = ("calm", "angry")) -> Path:
    """RAVDESS-named corpus: one 1 s take per actor and emotion."""
    for a, actor in enumerate(actors):
        for emo in emotions:
            voice = EMOTION_VOICES[emo].with_(formant_scale=formant + 0.05 * a)
            wav = synthesize(voice, duration=1.0, seed=seed + int(actor))
            save_audio(root / f"Actor_{actor}" / f"03-01-{CODES[emo]}-01-01-01-{actor}.wav",
                       wav, 16000)
    return root


def _prepare(corpus: Path, cache: Path):
    from emovc.training.common import prepare_features
    from emovc.training.datamodule import ConversionData

    folder, train, val = prepare_features(str(corpus), str(cache), WorldConfig().to_dict(),
                                          None, None, 1)
    return train, ConversionData(folder, ["calm", "angry"], train, val)


def test_a_second_corpus_uses_only_its_own_speakers_and_features(tmp_path):
    """Corpus B prepared after corpus A in the same cache trains on B alone; a corpus with
    A's file names but other audio gets its own features (they used to be shared)."""
    cache = tmp_path / "cache"
    a = tiny_corpus(tmp_path / "a", ("01", "02"))
    b = tiny_corpus(tmp_path / "b", ("03", "04"), seed=50)
    same_names = tiny_corpus(tmp_path / "c", ("01", "02"), formant=1.15, seed=90)
    spk_a, data_a = _prepare(a, cache)
    spk_b, data_b = _prepare(b, cache)
    assert spk_a == ["01", "02"] and spk_b == ["03", "04"]
    assert {Path(u.row.path).parent.parent for u in data_b.train} == {b.resolve()}
    _, data_c = _prepare(same_names, cache)
    assert {Path(u.row.path).parent.parent for u in data_c.train} == {same_names.resolve()}
    for ua, uc in zip(data_a.train, data_c.train, strict=True):
        assert Path(ua.row.path).name == Path(uc.row.path).name
        assert not np.array_equal(ua.raw.mcep, uc.raw.mcep)


def test_a_file_changed_in_place_is_analysed_again(tmp_path):
    from emovc.training.feature_cache import build_cache, load_cached, read_index

    corpus = tiny_corpus(tmp_path / "a", ("01",))
    folder = build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    row = next(r for r in read_index(folder) if r.emotion == "calm")
    before = load_cached(folder, row.key)
    other = synthesize(EMOTION_VOICES["sad"], duration=0.9, seed=7)
    save_audio(row.path, other, 16000, force=True)
    os.utime(row.path, ns=(1, 1))  # a different modification time whatever the clock says
    build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    row2 = next(r for r in read_index(folder) if r.path == row.path)
    after = load_cached(folder, row2.key)
    assert after.lf0.shape != before.lf0.shape


def test_world_json_is_replaced_not_rewritten_in_place(tmp_path):
    """world.json is written atomically (a temporary file renamed over it): it was rewritten
    in place, so another run reading the shared cache could see it half-written. A hard link
    to the old file shows whether the file was rewritten or replaced."""
    from emovc.training.feature_cache import build_cache

    corpus = tiny_corpus(tmp_path / "a", ("01",))
    folder = build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    old = tmp_path / "old.json"
    os.link(folder / "world.json", old)
    before = old.read_bytes()
    build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    assert not os.path.samefile(folder / "world.json", old)
    assert old.read_bytes() == before and (folder / "world.json").read_bytes() == before


def test_unusable_files_are_skipped_and_named(tmp_path, capsys):
    """A silent take and a duplicate id are left out with one warning each naming the file
    (they were printed on stderr, where a Python caller could neither catch nor silence
    them); the progress line stays on stderr; the run goes on with the rest, and fails only
    when nothing is left."""
    from emovc.training.feature_cache import build_cache, read_index

    corpus = tiny_corpus(tmp_path / "a", ("01", "02"))
    silent = corpus / "Actor_02" / "03-01-02-01-02-01-02.wav"
    save_audio(silent, np.zeros(16000 * 3, np.float32), 16000)
    dup = corpus / "Actor_01" / "03-01-05-01-01-01-01.flac"
    save_audio(dup, synthesize(EMOTION_VOICES["angry"], duration=0.6, seed=3), 16000)
    with pytest.warns(EmovcWarning) as caught:
        folder = build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    notes = "\n".join(str(w.message) for w in caught)
    assert f"skipped {silent}: no voiced frames" in notes
    assert "skipped 1 of 5 file(s)" in notes
    assert "1 × duplicate utterance id" in notes and dup.stem in notes
    err = capsys.readouterr().err
    assert "computing the features of 5 of 5 file(s)" in err and "no voiced frames" not in err
    assert len(read_index(folder)) == 4
    only_silent = tmp_path / "b" / "Actor_01"
    save_audio(only_silent / "03-01-02-01-01-01-01.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(EmovcError, match="no usable utterances"), pytest.warns(EmovcWarning):
        build_cache(tmp_path / "b", tmp_path / "cache", WorldConfig(), workers=1)


def test_an_index_that_cannot_be_read_is_written_anew_with_one_warning(tmp_path):
    """index.csv was written in the locale's encoding before it was UTF-8: an earlier index
    holding a non-ASCII path in cp1252 (Windows) ended the next build in a UnicodeDecodeError
    traceback. An index that cannot be read (not UTF-8, columns missing) is now rebuilt from
    the cached features as a missing one is, with one warning naming it."""
    import warnings

    from emovc.training.feature_cache import build_cache, read_index

    corpus = tiny_corpus(tmp_path / "\u00c9milie", ("01",))
    folder = build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    index = folder / "index.csv"
    good = index.read_text(encoding="utf-8")
    assert "\u00c9milie" in good
    for broken in (good.encode("cp1252"), b"key,path\r\nk1,x.wav\r\n"):
        index.write_bytes(broken)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1) == folder
        assert [type(w.message) for w in caught] == [EmovcWarning]
        assert f"the feature index {index} could not be read" in str(caught[0].message)
        assert index.read_text(encoding="utf-8") == good
        assert len(read_index(folder)) == 2


def test_reading_an_index_that_is_not_utf8_is_a_one_line_error(tmp_path):
    """read_index on such an index ended in a UnicodeDecodeError traceback."""
    from emovc.training.feature_cache import INDEX_COLUMNS, read_index

    row = ["k1", "C:/data/\u00c9milie/x.wav", "\u00c9milie", "angry", "", "", "", "10", "-20.0"]
    (tmp_path / "index.csv").write_bytes(
        (",".join(INDEX_COLUMNS) + "\r\n" + ",".join(row) + "\r\n").encode("cp1252"))
    with pytest.raises(EmovcError, match=r"index\.csv is not UTF-8 .*build_cache"):
        read_index(tmp_path)
