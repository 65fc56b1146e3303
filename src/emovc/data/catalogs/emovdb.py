"""EmoV-DB: ``bea_Amused/amused_1-15_0001.wav`` (speaker_Emotion folders).

Four speakers (bea F, jenie F, josh M, sam M) read CMU Arctic prompts in five styles.
Label mapping, chosen conservatively:

* Amused → ``happy`` (positive valence, high arousal; note the takes contain laughter),
* Angry → ``angry``, Disgusted → ``disgust``, Neutral → ``neutral``,
* Sleepy is **left out**: sleepiness is a physiological state (yawning, slurring), not the
  acted low-arousal emotion that RAVDESS calls "calm"; mapping it there would teach models
  that calm speech is yawned. Left-out files are counted in the scan log.

The trailing number is the CMU Arctic ``a`` prompt; texts come from ``cmuarctic.data`` when
that file is in the folder or one of its two parents. Adigwe et al. (2018), arXiv:1806.09514.
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
    iter_audio,
    read_text,
    try_emotion,
)
from emovc.data.manifest import Utterance

GENDERS = {"bea": "F", "jenie": "F", "josh": "M", "sam": "M"}
EXCLUDED = {"sleepy", "sleepiness"}
_DIR = re.compile(r"([a-z]+)_([a-z]+)", re.IGNORECASE)
_FILE = re.compile(r"([a-z]+)_(\d+-\d+)_(\d{4})\.(?:wav|flac)", re.IGNORECASE)
_PROMPT = re.compile(r'\(\s*arctic_(\w+)\s+"(.*)"\s*\)')


def _parse(rel: Path) -> tuple[str, str, str] | None:
    """``(speaker, label, number)`` from ``spk_Label/label_1-15_0001.wav`` or None."""
    d, f = _DIR.fullmatch(rel.parent.name), _FILE.fullmatch(rel.name)
    if d is None or f is None:
        return None
    return d.group(1).lower(), d.group(2).lower(), f.group(3)


def detect(probe: Probe) -> float:
    return probe.fraction(lambda p: _parse(p) is not None)


def _prompts(root: Path) -> dict[str, str]:
    path = find_upwards(root, ["cmuarctic.data"])
    if path is None:
        return {}
    return {m.group(1): m.group(2) for m in _PROMPT.finditer(read_text(path))}


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    prompts = _prompts(root)
    for path in iter_audio(root, augment_outputs=False):
        parsed = _parse(path.relative_to(root))
        if parsed is None:
            log.skip("not <speaker>_<Emotion>/<emotion>_<range>_<nnnn>.wav", path)
            continue
        speaker, label, number = parsed
        emotion = None if label in EXCLUDED else try_emotion(label)
        if emotion is None:
            log.skip(f"emotion {label!r} not mapped", path)
            continue
        sentence = f"a{number}"
        yield Utterance(
            path=str(path), corpus="emovdb", speaker=speaker,
            gender=GENDERS.get(speaker, "?"), emotion=emotion,
            text=prompts.get(sentence, ""), sentence=sentence, language="en",
            utt_id=f"emovdb/{speaker}/{path.stem}",
        )


CATALOG = Catalog(
    name="emovdb",
    layout="EmoV-DB: bea_Amused/amused_1-15_0001.wav",
    detect=detect,
    scan=scan,
)
