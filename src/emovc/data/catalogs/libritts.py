"""LibriTTS: LibriSpeech re-segmented for synthesis, with normalised text; no emotion labels.

Layout of the release: ``[subset/]<spk>/<chapter>/<spk>_<chapter>_<par>_<seg>.wav`` with
``<stem>.normalized.txt`` (the text, numbers and abbreviations spelled out) and
``<stem>.original.txt`` beside each clip, and ``SPEAKERS.txt`` (``READER | GENDER | SUBSET |
NAME``) in the folder or up to two parents (LibriTTS-R has the same layout). The normalised
text is preferred; the sentence id is ``<chapter>_<par>_<seg>`` (unique text).
Zen et al. (2019), CC BY 4.0.
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
from emovc.data.catalogs.librispeech import speakers_txt_row
from emovc.data.manifest import Utterance

_RX = re.compile(r"(\d+)_(\d+)_(\d+)_(\d+)\.(?:wav|flac)", re.IGNORECASE)


def detect(probe: Probe) -> float:
    return match_fraction(probe, _RX.pattern, re.IGNORECASE)


def _text(audio: Path) -> str:
    """The clip's normalised text, else its original text, else ``""``."""
    for suffix in (".normalized.txt", ".original.txt"):
        path = audio.with_name(audio.stem + suffix)
        if path.is_file():
            return " ".join(read_text(path).split())
    return ""


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    # SPEAKERS.txt: READER | GENDER | SUBSET | NAME, the first two columns as LibriSpeech's
    genders = speaker_genders(root, "SPEAKERS.txt", speakers_txt_row)
    for path in iter_audio(root, augment_outputs=False):
        m = _RX.fullmatch(path.name)
        if m is None:
            log.skip("name not in the LibriTTS convention", path)
            continue
        speaker, chapter, par, seg = m.groups()
        yield Utterance(
            path=str(path), corpus="libritts", speaker=speaker,
            gender=genders.get(speaker, "?"), text=_text(path),
            sentence=f"{chapter}_{par}_{seg}", language="en",
            utt_id=f"libritts/{speaker}/{path.stem}",
        )


CATALOG = Catalog(
    name="libritts",
    layout="LibriTTS: <spk>/<chapter>/<spk>_<chapter>_<par>_<seg>.wav + .normalized.txt",
    detect=detect,
    scan=scan,
)
