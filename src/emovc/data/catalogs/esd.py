"""ESD (Emotional Speech Dataset): ``0011/Angry/[train|evaluation|test/]0011_000351.wav``.

20 speakers (0001-0010 Mandarin, 0011-0020 English), 5 emotions, 350 parallel sentences
each; transcripts in ``<spk>/<spk>.txt`` (``utt_id<TAB>text<TAB>emotion``). Genders follow
the corpus README. Zhou et al. (2021), ICASSP; research use only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from emovc.data.catalogs.base import Catalog, Probe, ScanLog, iter_audio, read_text, try_emotion
from emovc.data.manifest import Utterance

EMOTION_FOLDERS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")
GENDERS = {
    "0001": "F", "0002": "F", "0003": "F", "0004": "M", "0005": "M",
    "0006": "M", "0007": "F", "0008": "M", "0009": "F", "0010": "M",
    "0011": "M", "0012": "M", "0013": "M", "0014": "M", "0015": "F",
    "0016": "F", "0017": "F", "0018": "F", "0019": "F", "0020": "M",
}
_RX = re.compile(r"(\d{4})_(\d{6})\.(?:wav|flac)", re.IGNORECASE)
_FOLDERS = {f.lower() for f in EMOTION_FOLDERS}


def _emotion_folder(rel: Path) -> str | None:
    return next((p for p in reversed(rel.parts[:-1]) if p.lower() in _FOLDERS), None)


def detect(probe: Probe) -> float:
    return probe.fraction(lambda p: _RX.fullmatch(p.name) is not None
                          and _emotion_folder(p) is not None)


def _transcripts(spk_dir: Path) -> dict[str, str]:
    path = spk_dir / f"{spk_dir.name}.txt"
    if not path.is_file():
        return {}
    out = {}
    for line in read_text(path).splitlines():
        cols = line.strip().split("\t")
        if len(cols) >= 2:
            out[cols[0].strip()] = cols[1].strip()
    return out


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    texts: dict[str, dict[str, str]] = {}
    for path in iter_audio(root, augment_outputs=False):
        rel = path.relative_to(root)
        m = _RX.fullmatch(path.name)
        folder = _emotion_folder(rel)
        if m is None or folder is None:
            log.skip("not <spk>/<Emotion>/<spk>_<n>.wav", path)
            continue
        speaker, number = m.groups()
        spk_dir = next((a for a in path.parents if a.name == speaker), path.parent)
        if speaker not in texts:
            texts[speaker] = _transcripts(spk_dir)
        yield Utterance(
            path=str(path), corpus="esd", speaker=speaker, gender=GENDERS.get(speaker, "?"),
            emotion=try_emotion(folder) or "", text=texts[speaker].get(path.stem, ""),
            # sentence k of each emotion block is the same text: 350 per speaker
            sentence=f"{(int(number) - 1) % 350 + 1:03d}",
            language="zh" if int(speaker) <= 10 else "en",
            utt_id=f"esd/{speaker}/{path.stem}",
        )


CATALOG = Catalog(
    name="esd",
    layout="ESD: 0011/Angry/[train/]0011_000351.wav + 0011/0011.txt",
    detect=detect,
    scan=scan,
)
