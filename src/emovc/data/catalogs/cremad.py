"""CREMA-D: ``AudioWAV/1001_DFA_ANG_XX.wav`` (actor_sentence_emotion_level).

Levels LO/MD/HI/XX (low, medium, high, unspecified) map onto emovc intensities as
HI → ``strong``, LO/MD → ``normal``, XX → ``""``. Gender comes from ``VideoDemographics.csv``
(searched in the folder and its two parents) or is ``"?"``.
Cao et al. (2014), IEEE Trans. Affective Computing; ODbL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from emovc.data.catalogs.base import (
    Catalog,
    Probe,
    ScanLog,
    find_upwards,
    gender_code,
    iter_audio,
    match_fraction,
    read_tsv,
)
from emovc.data.manifest import Utterance

SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
EMOTION_CODES = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy",
                 "NEU": "neutral", "SAD": "sad"}
LEVELS = {"LO": "normal", "MD": "normal", "HI": "strong", "XX": "", "X": ""}

_RX = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})\.(?:wav|flac|mp3|ogg)",
                 re.IGNORECASE)


def detect(probe: Probe) -> float:
    return match_fraction(probe, _RX.pattern, re.IGNORECASE)


def _genders(root: Path) -> dict[str, str]:
    table = find_upwards(root, ["VideoDemographics.csv"])
    if table is None:
        return {}
    return {r["ActorID"]: gender_code(r.get("Sex", "")) for r in read_tsv(table)
            if "ActorID" in r}


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    genders = _genders(root)
    for path in iter_audio(root, augment_outputs=False):
        m = _RX.fullmatch(path.name)
        if m is None:
            log.skip("name not in the CREMA-D convention", path)
            continue
        actor, sent, emo, level = (g.upper() for g in m.groups())
        if emo not in EMOTION_CODES or sent not in SENTENCES or level not in LEVELS:
            log.skip("unknown CREMA-D code", path)
            continue
        yield Utterance(
            path=str(path), corpus="cremad", speaker=actor, gender=genders.get(actor, "?"),
            emotion=EMOTION_CODES[emo], intensity=LEVELS[level], text=SENTENCES[sent],
            sentence=sent, language="en", utt_id=f"cremad/{actor}/{path.stem}",
        )


CATALOG = Catalog(
    name="cremad",
    layout="CREMA-D: AudioWAV/1001_DFA_ANG_XX.wav (+ VideoDemographics.csv)",
    detect=detect,
    scan=scan,
)
