"""TESS (Toronto emotional speech set): ``OAF_angry/OAF_back_angry.wav``.

Two female talkers (OAF, aged 64; YAF, aged 26) say "Say the word <word>" in seven
emotions; "ps" (pleasant surprise) maps to ``surprised``. The sentence id is the target word.
Dupuis & Pichora-Fuller (2010), University of Toronto; CC BY-NC-ND 4.0.
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
    try_emotion,
)
from emovc.data.manifest import Utterance

_RX = re.compile(r"(OAF|YAF)_([A-Za-z']+)_([A-Za-z]+)\.(?:wav|flac|mp3|ogg)", re.IGNORECASE)


def detect(probe: Probe) -> float:
    return match_fraction(probe, _RX.pattern, re.IGNORECASE)


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    for path in iter_audio(root, augment_outputs=False):
        m = _RX.fullmatch(path.name)
        if m is None:
            log.skip("name not in the TESS convention", path)
            continue
        speaker, word, label = m.group(1).upper(), m.group(2).lower(), m.group(3)
        emotion = try_emotion(label)
        if emotion is None:
            log.skip(f"unknown emotion {label.lower()!r}", path)
            continue
        yield Utterance(
            path=str(path), corpus="tess", speaker=speaker, gender="F", emotion=emotion,
            text=f"Say the word {word}", sentence=word, language="en",
            utt_id=f"tess/{speaker}/{path.stem}",
        )


CATALOG = Catalog(
    name="tess",
    layout="TESS: OAF_angry/OAF_back_angry.wav",
    detect=detect,
    scan=scan,
)
