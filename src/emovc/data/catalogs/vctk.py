"""CSTR VCTK: read speech of ~110 English speakers, no emotion labels.

Accepted layouts:

* VCTK 0.80: ``wav48/p225/p225_001.wav`` + ``txt/p225/p225_001.txt`` + ``speaker-info.txt``,
* VCTK 0.92: ``wav48_silence_trimmed/p225/p225_001_mic1.flac`` (mic2 copies are left out),
* the compact copy used by emovc's dev data: ``p225/p225_003.flac`` + ``transcripts.tsv``
  (speaker, utt_id, path, text) + ``speakers.tsv`` (speaker, age, gender, ...).

Equal sentence ids mean the same words. The utterance numbers 001-024 (the elicitation
paragraph and rainbow passage every speaker reads) are the ids of those prompts, with or
without a transcript, so a speaker without transcripts (p315 in VCTK 0.92) shares them with
the others. After _024 the prompts differ per speaker (``p225_030`` and ``p226_030`` are
different sentences): there the id is derived from the transcript's words
(:func:`~emovc.data.catalogs.base.text_sentence_id`), and a clip without one gets none.
Yamagishi et al. (2019), CC BY 4.0.
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
    match_fraction,
    read_text,
    read_tsv,
    speaker_genders,
    text_sentence_id,
)
from emovc.data.manifest import Utterance

SHARED_PROMPTS = 24  # p*_001-024: the paragraphs read by every speaker; later prompts differ
_RX = re.compile(r"((?:p\d{3})|s5)_(\d{3})(?:_(mic[12]))?\.(?:wav|flac)", re.IGNORECASE)


def detect(probe: Probe) -> float:
    return match_fraction(probe, _RX.pattern, re.IGNORECASE)


def _speaker_info_row(line: str) -> tuple[str, str] | None:
    """``ID AGE GENDER ACCENT ...`` line of VCTK's ``speaker-info.txt`` (IDs with or without
    the ``p``; the header line has no gender code and maps to "?")."""
    cols = line.split()
    if len(cols) < 3 or cols[0] == "ID":
        return None
    return (cols[0] if cols[0].startswith(("p", "s")) else f"p{cols[0]}"), cols[2]


def _speaker_info(root: Path) -> dict[str, str]:
    """Genders from ``speakers.tsv`` or VCTK's whitespace-separated ``speaker-info.txt``."""
    return speaker_genders(root, "speaker-info.txt", _speaker_info_row)


def _transcripts(root: Path) -> tuple[dict[str, str], Path | None]:
    """``({utt_id: text}, txt_dir)`` from ``transcripts.tsv`` and/or a ``txt/`` folder."""
    tsv = find_upwards(root, ["transcripts.tsv"])
    texts = {r["utt_id"]: r.get("text", "") for r in read_tsv(tsv)} if tsv else {}
    txt_dir = next((d / "txt" for d in (root, *list(root.parents)[:2])
                    if (d / "txt").is_dir()), None)
    return texts, txt_dir


def scan(root: Path, log: ScanLog) -> Iterator[Utterance]:
    genders = _speaker_info(root)
    texts, txt_dir = _transcripts(root)
    for path in iter_audio(root, augment_outputs=False):
        m = _RX.fullmatch(path.name)
        if m is None:
            log.skip("name not in the VCTK convention", path)
            continue
        speaker, number, mic = m.group(1).lower(), m.group(2), (m.group(3) or "").lower()
        if mic == "mic2":
            log.skip("second microphone copy (mic2)", path)
            continue
        stem = f"{speaker}_{number}"
        text = texts.get(stem, "")
        if not text and txt_dir is not None and (txt_dir / speaker / f"{stem}.txt").is_file():
            text = read_text(txt_dir / speaker / f"{stem}.txt").strip()
        yield Utterance(
            path=str(path), corpus="vctk", speaker=speaker, gender=genders.get(speaker, "?"),
            text=text, sentence=_sentence(number, text), language="en",
            utt_id=f"vctk/{speaker}/{stem}",
        )


def _sentence(number: str, text: str) -> str:
    """Sentence id: the number of a shared prompt, else from the transcript's words, else
    ``""`` (see the module docstring)."""
    if int(number) <= SHARED_PROMPTS:
        return number
    return text_sentence_id(text) if text else ""


CATALOG = Catalog(
    name="vctk",
    layout="VCTK: wav48*/p225/p225_001[_mic1].wav|flac + txt/ (or p225/*.flac + transcripts.tsv)",
    detect=detect,
    scan=scan,
)
