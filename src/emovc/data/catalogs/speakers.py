"""Plain speaker folders for your own recordings: ``<speaker>/*.wav``, no emotion labels.

Each folder of the root is a speaker; the clips in it (also in its subfolders:
``alice/day1/x.wav`` is alice's) are that speaker's. Transcripts are optional (a clip without
one is catalogued with no text; the synthesizer trains on the transcribed ones), from the
first of:

* ``<stem>.txt`` (or ``<stem>.lab``) beside the clip;
* a ``metadata.csv`` in the speaker's folder, LJSpeech-style lines ``id|text[|normalized
  text]`` (:mod:`~emovc.data.catalogs.transcripts`), ``id`` the clip's path in that folder
  without extension (``x``, ``day1/x``) or its bare stem (``x``), so ``alice/wavs/*.wav`` +
  ``alice/metadata.csv`` — one LJSpeech corpus per speaker — reads too;
* a ``metadata.csv`` in the root, ``id`` the clip's path below the root (``alice/x``).

Ids match names in either Unicode form (a folder ``José/`` that macOS wrote decomposed is the
``José/`` typed in ``metadata.csv``); so do speaker names, which are stored composed (NFC).

An optional ``speakers.tsv`` (``speaker<TAB>gender``) in the root supplies genders. Sentence
ids come from the transcript's words (equal ids = same words). Utterance ids keep the path
inside the speaker's folder (``speakers/alice/day1/x``). It has no emotion labels: emotion
folders whose names emovc does not know read as speaker folders, and
:func:`emotion_lookalikes` finds those that look like misspelt emotions.

Auto-detection counts a clip as this layout's when it lies in a folder of the root and no
folder on its way is an emotion name (``alice/angry/x.wav`` is the ``folders`` layout), and
scores it below the named corpora (:data:`DETECT_WEIGHT`), whose folders are speaker folders
too (VCTK ``p225/``, RAVDESS ``Actor_01/``): their file names decide for them.
"""

from __future__ import annotations

import os
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
    try_emotion,
)
from emovc.data.catalogs.transcripts import METADATA, id_key, read_metadata, text_beside
from emovc.data.emotions import misspelt_emotion
from emovc.data.manifest import Utterance

# below the named corpora (1.0 for a full match) and the emotion folders (0.9): a corpus of
# speaker folders whose file names follow a known convention is that corpus, also when a
# third of its files do not (0.6 x 1.0 < 0.65); and at least 5 of 6 files must fit for the
# detection threshold (0.5)
DETECT_WEIGHT = 0.6


def detect(probe: Probe) -> float:
    def fits(rel: Path) -> bool:
        folders = rel.parts[:-1]
        return bool(folders) and all(try_emotion(f) is None for f in folders)

    return DETECT_WEIGHT * probe.fraction(fits)


def emotion_lookalikes(probe: Probe) -> dict[str, str]:
    """The folders of the root and of its folders (``x/``, ``x/y/``: :func:`level_folders`)
    whose names look like misspelt emotions (:func:`~emovc.data.emotions.misspelt_emotion`),
    each with that emotion, sorted by name: ``{"hapy": "happy", "saad": "sad"}``; empty
    unless, among the folder names of one level, they look like 2 emotions or more (one such
    name, "Angie", is a speaker's) and make up at least half of that level's names (a corpus
    of many speakers has an "Angel" and a "Calum" among them: review 41 L6). The names are
    all the level's, listed, not those of the probe's sample: the first 3000 clips of 8
    speakers of 1600 clips are all Angel's and Calum's (review 42 L3); only folders that hold
    audio count (review 42b M1), looked into only when the names alone could warn (a corpus
    of speakers named as people costs no walk)."""
    found: dict[str, str] = {}
    for level in (0, 1):
        folders = level_folders(probe, level)
        if len({e for f in folders if (e := misspelt_emotion(f.name)) is not None}) < 2:
            continue  # fewer would not warn even if every one of them held audio
        names = {f.name for f in folders if _holds_audio(f)}
        like = {n: e for n in names if (e := misspelt_emotion(n)) is not None}
        if len(set(like.values())) >= 2 and 2 * len(like) >= len(names):
            found.update(like)
    return dict(sorted(found.items()))


def level_folders(probe: Probe, level: int) -> list[Path]:
    """The folders of the probe's root (``level`` 0, less those it left out) or of those
    folders (1), hidden ones left out; an unreadable folder adds none. Whether they hold
    audio is :func:`emotion_lookalikes`' to ask (a ``docs/`` or ``transcripts/`` beside the
    emotion folders is no name of the corpus; review 42b M1)."""
    tops = [probe.root / n for n in probe.entries if (probe.root / n).is_dir()]
    if level == 0:
        return tops
    subs: list[Path] = []
    for top in tops:
        try:
            with os.scandir(top) as entries:
                subs += [Path(e.path) for e in entries
                         if not e.name.startswith(".") and e.is_dir()]
        except OSError:
            continue
    return subs


def _holds_audio(folder: Path) -> bool:
    """Whether ``folder`` (or a folder in it) holds an audio file, ``emovc augment`` outputs
    below it not looked into."""
    return bool(iter_audio(folder, limit=1, augment_outputs=False))


class _Texts:
    """Transcripts of the clips under one root, each ``metadata.csv`` read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.top = read_metadata(root / METADATA)
        self.per_speaker: dict[str, dict[str, str]] = {}

    def get(self, path: Path, speaker_dir: str) -> str:
        text = text_beside(path)
        if text:
            return text
        if speaker_dir not in self.per_speaker:
            self.per_speaker[speaker_dir] = read_metadata(self.root / speaker_dir / METADATA)
        # the ids in NFC (id_key), whatever form the file system wrote the names in
        rel = path.relative_to(self.root).with_suffix("")
        inside = id_key(Path(*rel.parts[1:]).as_posix())
        own = self.per_speaker[speaker_dir]
        return (own.get(inside) or own.get(id_key(path.stem))
                or self.top.get(id_key(rel.as_posix()), ""))


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    genders = read_speaker_genders(root / "speakers.tsv")
    texts = _Texts(root)
    for path in iter_audio(root, augment_outputs=False):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            log.skip("not inside a speaker folder (<speaker>/<file>)", path)
            continue
        # one spelling of a name: macOS writes folder names decomposed (NFD), tables and
        # other systems composed (NFC); "José" twice would be two speakers in a split
        speaker = unicodedata.normalize("NFC", rel.parts[0])
        text = texts.get(path, rel.parts[0])
        inside = Path(*rel.parts[1:]).with_suffix("").as_posix()
        yield Utterance(
            path=str(path), corpus="speakers", speaker=speaker,
            gender=genders.get(speaker, "?"), text=text,
            sentence=text_sentence_id(text) if text else "",
            utt_id=f"speakers/{speaker}/{inside}",
        )


CATALOG = Catalog(
    name="speakers",
    layout="speakers: <speaker>/*.wav (+ <stem>.txt or metadata.csv transcripts)",
    detect=detect,
    scan=scan,
)
