"""SAVEE (Surrey audio-visual expressed emotion): ``AudioData/DC/a01.wav``.

Four male talkers (DC, JE, JK, KL); the file prefix is the emotion (a anger, d disgust,
f fear, h happiness, n neutral, sa sadness, su surprise) followed by the sentence number.
Also accepts the flattened ``DC_a01.wav`` naming of redistributed copies. Transcripts are not
part of the audio release, so ``text`` is empty. Haq & Jackson (2009), University of Surrey.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from emovc.data.catalogs.base import Catalog, Probe, ScanLog, iter_audio
from emovc.data.manifest import Utterance

SPEAKERS = ("DC", "JE", "JK", "KL")
EMOTION_CODES = {"a": "angry", "d": "disgust", "f": "fearful", "h": "happy", "n": "neutral",
                 "sa": "sad", "su": "surprised"}
_CODE = r"(sa|su|a|d|f|h|n)(\d{2})\.(?:wav|flac)"
_FLAT = re.compile(r"(DC|JE|JK|KL)_" + _CODE)
_NESTED = re.compile(_CODE)


def _parse(rel: Path) -> tuple[str, str, str] | None:
    """``(speaker, emotion code, number)`` or None."""
    m = _FLAT.fullmatch(rel.name)
    if m:
        return m.group(1), m.group(2), m.group(3)
    m = _NESTED.fullmatch(rel.name)
    if m and rel.parent.name in SPEAKERS:
        return rel.parent.name, m.group(1), m.group(2)
    return None


def detect(probe: Probe) -> float:
    return probe.fraction(lambda p: _parse(p) is not None)


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    for path in iter_audio(root, augment_outputs=False):
        parsed = _parse(path.relative_to(root))
        if parsed is None:
            log.skip("name not in the SAVEE convention", path)
            continue
        speaker, code, num = parsed
        yield Utterance(
            path=str(path), corpus="savee", speaker=speaker, gender="M",
            emotion=EMOTION_CODES[code], language="en",
            utt_id=f"savee/{speaker}/{code}{num}",
        )


CATALOG = Catalog(
    name="savee",
    layout="SAVEE: DC/a01.wav (or DC_a01.wav)",
    detect=detect,
    scan=scan,
)
