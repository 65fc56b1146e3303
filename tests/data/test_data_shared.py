"""Catalogs on the real dev corpora in ../shared/data (opt-in: ``pytest -m benchmark``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emovc.data.catalogs import detect_corpus, scan_corpus
from emovc.data.splits import ravdess_split

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = [pytest.mark.benchmark,
              pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data not available")]


def test_ravdess16k():
    m, log = scan_corpus(DATA / "ravdess16k")
    assert detect_corpus(DATA / "ravdess16k") == "ravdess"
    assert len(m) == 1200 and not log.skipped and len(m.speakers()) == 20
    counts = m.counts("emotion")
    assert counts["neutral"] == 80 and all(counts[e] == 160 for e in m.emotions()
                                           if e != "neutral")
    assert m.counts("gender") == {"F": 600, "M": 600}
    assert {u.text for u in m} == {"Kids are talking by the door", "Dogs are sitting by the door"}
    split = ravdess_split(m)
    assert (len(split.train), len(split.val), len(split.test)) == (960, 240, 0)


def test_vctk4():
    m, _ = scan_corpus(DATA / "vctk4")
    assert m.corpora() == ["vctk"] and len(m) == 40
    assert {s: m.filter(speakers=[s])[0].gender for s in m.speakers()} == {
        "p225": "F", "p226": "M", "p227": "M", "p228": "F"}
    assert all(u.text for u in m)


def test_librispeech_clips():
    m, _ = scan_corpus(DATA / "librispeech-clips")
    assert m.corpora() == ["librispeech"] and len(m) == 251 and len(m.speakers()) == 251
    assert m.counts("gender") == {"F": 125, "M": 126}
