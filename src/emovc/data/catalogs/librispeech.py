"""LibriSpeech: read audiobooks, no emotion labels.

Accepted layouts:

* the release: ``[subset/]<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` with
  ``<spk>-<chapter>.trans.txt`` beside the audio and ``SPEAKERS.TXT`` (``ID | SEX | SUBSET |
  MINUTES | NAME``) in the folder or up to two parents;
* a flat folder of ``<spk>-<chapter>-<utt>.flac`` clips with ``speakers.tsv`` (file, speaker,
  gender, ...), like emovc's ``librispeech-clips`` dev data.

The sentence id is ``<chapter>-<utt>`` (unique text). Panayotov et al. (2015), CC BY 4.0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from emovc.data.catalogs.base import (
    Catalog,
    Probe,
    ScanLog,
    iter_audio,
    match_fraction,
    read_text,
    speaker_genders,
)
from emovc.data.manifest import Utterance

_RX = re.compile(r"(\d+)-(\d+)-(\d+)\.(?:flac|wav)", re.IGNORECASE)


def detect(probe: Probe) -> float:
    return match_fraction(probe, _RX.pattern, re.IGNORECASE)


def speakers_txt_row(line: str) -> tuple[str, str] | None:
    """``ID | SEX | SUBSET | MINUTES | NAME`` line of ``SPEAKERS.TXT`` (``;`` = comment)."""
    cols = [c.strip() for c in line.split("|")]
    return (cols[0], cols[1]) if not line.startswith(";") and len(cols) >= 2 else None


def _genders(root: Path) -> dict[str, str]:
    return speaker_genders(root, "SPEAKERS.TXT", speakers_txt_row)


def _chapter_texts(folder: Path, cache: dict[Path, dict[str, str]]) -> dict[str, str]:
    if folder not in cache:
        texts: dict[str, str] = {}
        for trans in folder.glob("*.trans.txt"):
            for line in read_text(trans).splitlines():
                utt, _, text = line.strip().partition(" ")
                texts[utt] = text.strip()
        cache[folder] = texts
    return cache[folder]


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    genders = _genders(root)
    text_cache: dict[Path, dict[str, str]] = {}
    for path in iter_audio(root, augment_outputs=False):
        m = _RX.fullmatch(path.name)
        if m is None:
            log.skip("name not in the LibriSpeech convention", path)
            continue
        speaker, chapter, utt = m.groups()
        yield Utterance(
            path=str(path), corpus="librispeech", speaker=speaker,
            gender=genders.get(speaker, "?"),
            text=_chapter_texts(path.parent, text_cache).get(path.stem, ""),
            sentence=f"{chapter}-{utt}", language="en",
            utt_id=f"librispeech/{speaker}/{path.stem}",
        )


CATALOG = Catalog(
    name="librispeech",
    layout="LibriSpeech: <spk>/<chapter>/<spk>-<chapter>-<utt>.flac (or flat + speakers.tsv)",
    detect=detect,
    scan=scan,
)
