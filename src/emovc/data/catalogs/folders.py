"""Generic folder-per-emotion layout for your own recordings.

``<root>/<emotion>/*.wav`` (speaker ``"unknown"``) or ``<root>/<speaker>/<emotion>/*.wav``.
Folder names are emotion labels or aliases (``angry``, ``Anger``, ``happiness``, ...; see
:func:`emovc.data.emotions.normalize_emotion`); files in folders with other names are
counted as skipped. An optional ``speakers.tsv`` (``speaker<TAB>gender``) in the root
supplies genders. Utterance ids keep the relative path (``folders/<speaker>/<emotion>/<stem>``)
so equal file names in different folders stay distinct.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

from emovc.data.catalogs.base import (
    Catalog,
    Probe,
    ScanLog,
    iter_audio,
    read_speaker_genders,
    try_emotion,
)
from emovc.data.manifest import Utterance

UNKNOWN_SPEAKER = "unknown"
DETECT_WEIGHT = 0.9  # named corpora whose folders are also emotion names win ties


def _parse(rel: Path) -> tuple[str, str] | None:
    """``(speaker, emotion folder name)`` for ``emo/x.wav`` or ``spk/emo/x.wav``, else None."""
    parts = rel.parts
    if len(parts) == 2:
        return UNKNOWN_SPEAKER, parts[0]
    if len(parts) == 3:
        return parts[0], parts[1]
    return None


def detect(probe: Probe) -> float:
    def fits(rel: Path) -> bool:
        parsed = _parse(rel)
        return parsed is not None and try_emotion(parsed[1]) is not None

    return DETECT_WEIGHT * probe.fraction(fits)


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    genders = read_speaker_genders(root / "speakers.tsv")
    for path in iter_audio(root, augment_outputs=False):
        rel = path.relative_to(root)
        parsed = _parse(rel)
        if parsed is None:
            log.skip("not <emotion>/<file> or <speaker>/<emotion>/<file>", path)
            continue
        speaker, folder = parsed
        # one spelling of a name: macOS writes folder names decomposed (NFD), tables and
        # other systems composed (NFC); "José" twice would be two speakers in a split
        speaker = unicodedata.normalize("NFC", speaker)
        emotion = try_emotion(folder)
        if emotion is None:
            log.skip(f"unknown emotion folder {folder!r}", path)
            continue
        rel_id = f"{speaker}/{folder}/{path.stem}"
        yield Utterance(
            path=str(path), corpus="folders", speaker=speaker,
            gender=genders.get(speaker, "?"), emotion=emotion, utt_id=f"folders/{rel_id}",
        )


CATALOG = Catalog(
    name="folders",
    layout="folders: <emotion>/*.wav or <speaker>/<emotion>/*.wav",
    detect=detect,
    scan=scan,
)
