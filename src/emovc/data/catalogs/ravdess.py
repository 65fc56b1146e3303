"""RAVDESS speech: ``Actor_AA/03-01-EE-II-SS-RR-AA.wav`` (original 48 kHz wav or a FLAC copy).

Fields of the file name: modality (03 audio-only), vocal channel (01 speech, 02 song), emotion
EE, intensity II (01 normal, 02 strong), statement SS, repetition RR, actor AA (odd = male).
Song files (vocal channel 02) are left out: emovc models speech.
Livingstone & Russo (2018), PLoS ONE 13(5): e0196391; CC BY-NC-SA 4.0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from emovc.data.catalogs.base import Catalog, Probe, ScanLog, iter_audio, match_fraction
from emovc.data.manifest import Utterance

EMOTION_CODES = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
INTENSITY_CODES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
TRAIN_ACTORS = tuple(f"{i:02d}" for i in range(1, 17))
VALIDATION_ACTORS = ("17", "18", "19", "20")
TEST_ACTORS = ("21", "22", "23", "24")  # held out: never tune on them

_NAME = r"(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})"
_RX = re.compile(_NAME + r"\.(?:wav|flac|ogg|mp3)", re.IGNORECASE)
_STEM = re.compile(_NAME)
_CODE_OF = {name: code for code, name in EMOTION_CODES.items()}


def detect(probe: Probe) -> float:
    return match_fraction(probe, _RX.pattern, re.IGNORECASE)


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    for path in iter_audio(root, augment_outputs=False):
        take, why = read_take_name(path)
        if take is None:
            log.skip(why, path)
            continue
        yield Utterance(
            path=str(path), corpus="ravdess", speaker=take.actor,
            gender="M" if int(take.actor) % 2 else "F",
            emotion=take.emotion, intensity=INTENSITY_CODES[take.intensity],
            text=STATEMENTS[take.statement], sentence=take.statement,
            repetition=int(take.repetition), language="en",
            utt_id=f"ravdess/{take.actor}/{path.stem}",
        )


@dataclass(frozen=True)
class TakeName:
    """The fields of a RAVDESS speech take's file name (codes as in the name)."""

    emotion: str  # canonical name, e.g. "angry"
    intensity: str  # "01" normal, "02" strong (:data:`INTENSITY_CODES`)
    statement: str  # "01" or "02" (:data:`STATEMENTS`)
    repetition: str
    actor: str


def read_take_name(path: str | Path) -> tuple[TakeName | None, str]:
    """The fields of a RAVDESS speech take's name (``03-01-EE-II-SS-RR-AA.wav``, any
    supported extension), the one reading of the convention that :func:`scan`,
    :func:`take_name` and the evaluation's notes share.

    Returns:
        ``(take, "")``, or ``(None, why)`` for another name, a song (vocal channel 02) or an
        emotion, intensity or statement code RAVDESS does not have, ``why`` saying which
        (as :func:`scan` lists the file among the skipped ones).
    """
    m = _RX.fullmatch(Path(path).name)
    if m is None:
        return None, "name not in the RAVDESS convention"
    _, channel, emo, inten, stmt, rep, actor = m.groups()
    if channel != "01":
        return None, "song, not speech (vocal channel 02)"
    if emo not in EMOTION_CODES or inten not in INTENSITY_CODES or stmt not in STATEMENTS:
        return None, "unknown RAVDESS code"
    return TakeName(EMOTION_CODES[emo], inten, stmt, rep, actor), ""


def take_name(path: str | Path) -> TakeName | None:
    """The fields of a RAVDESS speech take's name (:func:`read_take_name`); ``None`` for
    another name, a song or an unknown code."""
    return read_take_name(path)[0]


def ravdess_reference(path: Path, target: str) -> tuple[str, str]:
    """The real take of ``target`` matching a RAVDESS-named file, and what it says.

    Args:
        path: an audio file; a name outside the RAVDESS convention gives ``("", "")``.
        target: canonical emotion name.

    Returns:
        ``(reference, text)``: the path of the same actor's take of the same statement,
        intensity and repetition in ``target``, when it exists next to ``path`` (else
        ``""``; RAVDESS has no strong neutral take), and the statement's words (``""`` for
        an unknown statement code).
    """
    m = _STEM.fullmatch(path.stem)
    if m is None:
        return "", ""
    parts = list(m.groups())
    text = STATEMENTS.get(parts[4], "")
    if target not in _CODE_OF or (target == "neutral" and parts[3] == "02"):
        return "", text
    parts[2] = _CODE_OF[target]
    ref = path.with_name("-".join(parts) + path.suffix)
    return (str(ref) if ref.exists() else ""), text


CATALOG = Catalog(
    name="ravdess",
    layout="RAVDESS: Actor_AA/03-01-EE-II-SS-RR-AA.wav|flac",
    detect=detect,
    scan=scan,
)
