"""LJSpeech-style single-speaker corpus: ``wavs/<id>.wav`` + ``metadata.csv``; no emotion labels.

The layout of LJSpeech 1.1 (Ito & Johnson, 2017, public domain) and of most single-voice
TTS fine-tuning sets: ``metadata.csv`` in the root, LJSpeech-style lines ``id|text|normalized
text`` (:mod:`~emovc.data.catalogs.transcripts`; the normalized text preferred), the clips in
``wavs/`` or beside ``metadata.csv``, named ``<id>.wav``. The ``id`` may be written as the
clip's name (``x``), with its extension (``x.wav``) or with its folder (``wavs/x.wav``, as
several TTS tools write it): all three name ``wavs/x.wav``. The speaker is the corpus folder's
name (``LJSpeech-1.1``); an optional ``speakers.tsv`` (``speaker<TAB>gender``) in the root
gives its gender. A clip without a line is catalogued without text; a line whose clip is
missing is listed among the files left out. Sentence ids come from the transcript's words.

Auto-detection: the share of sampled clips, in the root or in ``wavs/``, whose name is an id
of the root's ``metadata.csv`` (in any of the spellings above).
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
    text_sentence_id,
)
from emovc.data.catalogs.transcripts import METADATA, id_key, read_metadata
from emovc.data.manifest import Utterance

WAVS = "wavs"


def _in_place(rel: Path) -> bool:
    """Whether a clip (path relative to the root) lies where this layout keeps clips."""
    return len(rel.parts) == 1 or (len(rel.parts) == 2 and rel.parts[0] == WAVS)


def read_texts(root: Path) -> dict[str, str]:
    """``{clip name: text}`` of the root's ``metadata.csv``, the ids ``x``, ``x.wav`` and
    ``wavs/x.wav`` all read as ``x`` (the name of ``wavs/x.wav`` or ``x.wav``)."""
    return {key.removeprefix(f"{WAVS}/"): text
            for key, text in read_metadata(root / METADATA).items()}


def detect(probe: Probe) -> float:
    if METADATA not in probe.entries:
        return 0.0
    ids = read_texts(probe.root)
    return probe.fraction(lambda rel: _in_place(rel) and id_key(rel.stem) in ids)


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    texts = read_texts(root)
    speaker = unicodedata.normalize("NFC", root.name)
    gender = read_speaker_genders(root / "speakers.tsv").get(speaker, "?")
    seen: set[str] = set()
    for path in iter_audio(root, augment_outputs=False):
        rel = path.relative_to(root)
        if not _in_place(rel):
            log.skip(f"not in {WAVS}/ or beside {METADATA}", path)
            continue
        seen.add(id_key(path.stem))
        text = texts.get(id_key(path.stem), "")
        yield Utterance(
            path=str(path), corpus="ljspeech", speaker=speaker, gender=gender, text=text,
            sentence=text_sentence_id(text) if text else "",
            utt_id=f"ljspeech/{speaker}/{path.stem}",
        )
    folder = root / WAVS if (root / WAVS).is_dir() else root
    for key in sorted(set(texts) - seen):
        log.skip(f"listed in {METADATA} but no audio file", folder / f"{key}.wav")


CATALOG = Catalog(
    name="ljspeech",
    layout="LJSpeech: wavs/<id>.wav + metadata.csv (id|text|normalized text)",
    detect=detect,
    scan=scan,
)
