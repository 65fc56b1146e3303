"""Utterance/Manifest: validation, queries, grouping and the CSV round trip."""

from __future__ import annotations

import pytest

from emovc.data.manifest import COLUMNS, Manifest, Utterance
from emovc.errors import ConfigError, EmovcError, OutputExistsError


def _m() -> Manifest:
    rows = [
        Utterance("/d/a1.wav", "ravdess", "01", "M", "angry", "strong", "Kids, \"quoted\"", 1.5,
                  sentence="01", repetition=2, language="en"),
        Utterance("/d/a2.wav", "ravdess", "01", "M", "sad", "normal", "", 2.0),
        Utterance("/d/b1.wav", "ravdess", "02", "F", "angry", "normal", "x", 0.5),
        Utterance("/d/c1.wav", "vctk", "p225", "F", "", "", "Six spoons.", 3.0),
    ]
    return Manifest(rows)


def test_default_utt_id_and_validation():
    u = Utterance("/x/y/03-01.wav", "ravdess", "07")
    assert u.utt_id == "ravdess/07/03-01" and u.gender == "?" and u.repetition is None
    with pytest.raises(EmovcError, match="gender"):
        Utterance("/a.wav", "c", "s", gender="male")
    with pytest.raises(EmovcError, match="emotion"):
        Utterance("/a.wav", "c", "s", emotion="anger")  # not canonical
    with pytest.raises(EmovcError, match="intensity"):
        Utterance("/a.wav", "c", "s", intensity="high")


def test_duplicate_ids_rejected():
    u = Utterance("/a.wav", "c", "s")
    with pytest.raises(EmovcError, match="duplicate utterance id 'c/s/a'"):
        Manifest([u, Utterance("/other/a.flac", "c", "s")])


def test_queries_filters_and_groups():
    m = _m()
    assert len(m) == 4 and m.speakers() == ["01", "02", "p225"]
    assert m.emotions() == ["sad", "angry"]  # canonical order, unlabeled excluded
    assert m.total_duration() == pytest.approx(7.0)
    assert [u.path for u in m.filter(emotions=["angry"])] == ["/d/a1.wav", "/d/b1.wav"]
    assert len(m.filter(speakers=["01"], emotions=["sad"])) == 1
    assert m.filter(corpus="vctk").speakers() == ["p225"]
    assert len(m.filter(emotions=[""])) == 1
    # one value as a bare string (not its characters), emotions as corpora spell them
    assert len(m.filter(speakers="01", emotions="Anger")) == 1
    assert m.filter(corpus="VCTK").speakers() == ["p225"]
    assert m.exclude_speakers("01").speakers() == ["02", "p225"]
    for bad in (1, [1], None):  # "01" is not 1: refused, not an empty match
        with pytest.raises(ConfigError, match="speakers must be given as text"):
            m.exclude_speakers(bad)
    with pytest.raises(ConfigError, match=r"got 1\.0"):
        m.filter(speakers=1.0)
    with pytest.raises(ConfigError, match="unknown emotion 'furious'; valid choices"):
        m.filter(emotions=["furious"])
    assert m.filter(where=lambda u: u.duration > 1.6).speakers() == ["01", "p225"]
    assert m.exclude_speakers(["01"]).speakers() == ["02", "p225"]
    groups = m.group_by("speaker")
    assert list(groups) == ["01", "02", "p225"] and len(groups["01"]) == 2
    assert m.counts("speaker", "emotion")[("01", "angry")] == 1
    with pytest.raises(EmovcError, match="unknown manifest column 'mood'"):
        m.group_by("mood")


def test_sequence_protocol():
    m = _m()
    assert isinstance(m[1:3], Manifest) and len(m[1:3]) == 2
    assert m[0].speaker == "01" and "ravdess/01/a2" in m and m[3] in m
    assert m.get("vctk/p225/c1").text == "Six spoons."
    with pytest.raises(EmovcError, match="unknown utterance id"):
        m.get("nope")
    assert len(m[:1] + m[1:]) == 4


def test_csv_round_trip_is_exact(tmp_path):
    m = _m()
    path = m.to_csv(tmp_path / "sub/manifest.csv")
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(COLUMNS)
    back = Manifest.from_csv(path)
    assert back == m  # texts with commas/quotes, None repetition, floats all survive
    assert back[0].repetition == 2 and back[1].repetition is None
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["manifest.csv"]  # no tmp left


def test_csv_refuses_overwrite_without_force_and_bad_files(tmp_path):
    p = _m().to_csv(tmp_path / "m.csv")
    with pytest.raises(OutputExistsError, match="exists"):
        _m().to_csv(p)  # the default, like save_audio's: it overwrote silently
    _m().to_csv(p, force=True)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(EmovcError, match="not an emovc manifest"):
        Manifest.from_csv(tmp_path / "bad.csv")
    with pytest.raises(EmovcError, match="not found"):
        Manifest.from_csv(tmp_path / "missing.csv")


def test_describe_counts_table():
    text = _m().describe()
    lines = text.splitlines()
    assert lines[0].startswith("ravdess, vctk: 4 utterances, 3 speakers (2 F, 1 M, 0 ?)")
    row01 = next(line for line in lines if line.startswith("01 "))
    assert row01.split() == ["01", "1", "1", "0", "2"]  # sad, angry, (none), total


def test_paths_relative_to_the_current_directory_still_work_with_a_warning(tmp_path,
                                                                          monkeypatch):
    """Hand-written manifests with paths relative to the current directory stopped working
    when relative paths became relative to the CSV's folder, and the error was a raw
    `[Errno 2]`: such a path is used with one warning; one missing everywhere is named in a
    warning saying where relative paths are read from."""
    import re
    import warnings

    from emovc.errors import EmovcWarning

    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    for name in ("a.wav", "b.wav"):
        (tmp_path / "corpus" / name).write_bytes(b"")
    (tmp_path / "mf").mkdir()
    (tmp_path / "mf" / "own.wav").write_bytes(b"")
    rows = [Utterance(p, "demo", "s1", "F", "sad", utt_id=f"demo/s1/{i}")
            for i, p in enumerate(["corpus/a.wav", "corpus/b.wav", "own.wav"])]
    csv_path = Manifest(rows).to_csv(tmp_path / "mf" / "rel.csv")
    with pytest.warns(EmovcWarning) as caught:
        m = Manifest.from_csv(csv_path)
    assert [u.path for u in m] == [str(tmp_path / "corpus/a.wav"), str(tmp_path / "corpus/b.wav"),
                                   str(tmp_path / "mf/own.wav")]
    (msg,) = [str(w.message) for w in caught]
    assert "2 relative path(s)" in msg and "read from its folder" in msg
    Manifest(rows[:1] + [Utterance("gone.wav", "demo", "s1", "F", "sad", utt_id="demo/s1/g")]
             ).to_csv(csv_path, force=True)
    with pytest.warns(EmovcWarning) as caught:
        m = Manifest.from_csv(csv_path)
    assert any(re.search(r"1 relative path\(s\) exist neither relative to the manifest's "
                         r"folder .*mf \(where relative", str(w.message)) for w in caught)
    assert m[1].path == str(tmp_path / "mf" / "gone.wav")
    with warnings.catch_warnings():  # paths found beside the CSV: nothing to say
        warnings.simplefilter("error")
        Manifest([rows[2]]).to_csv(csv_path, force=True)
        Manifest.from_csv(csv_path)
