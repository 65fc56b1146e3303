"""Transcripts of your own recordings: LJSpeech-style ``metadata.csv`` files and ``.txt``
files beside the clips (read by the ``speakers`` and ``ljspeech`` catalogs).

``metadata.csv`` is LJSpeech's format: no header, one line per clip, fields separated by
``|``: ``id|text`` or ``id|text|normalized text`` (numbers and abbreviations spelled out).
Quotes are part of the text, not CSV quoting. The normalized text is preferred when the line
has one. The ``id`` names the clip without its extension (``LJ001-0001``; ``alice/x`` for a
clip under a subfolder); an id given with an audio extension (``x.wav``) is read without it.
Ids are compared in composed Unicode (NFC): a folder or file name that macOS wrote decomposed
(``José`` as ``e`` + combining accent) matches the same name typed in ``metadata.csv``
(:func:`id_key`).
A first line whose id is ``id``, ``file``, ``filename``, ``file_name`` or ``name`` is taken for a
header and skipped.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from emovc.audio import SUPPORTED_EXTENSIONS
from emovc.data.catalogs.base import read_text

METADATA = "metadata.csv"
HEADER_IDS = ("id", "file", "filename", "file_name", "name")
TEXT_SUFFIXES = (".txt", ".lab")  # a transcript beside a clip (.lab: Montreal Forced Aligner)


def id_key(value: str) -> str:
    """A clip's id (``alice/x``) or path part as metadata ids are compared: in composed
    Unicode (NFC), the form tables are typed in, whatever form the file system stores."""
    return unicodedata.normalize("NFC", value)


def clip_id(value: str) -> str:
    """A metadata id as clips are looked up: ``/``-separated, without an audio extension,
    in NFC (:func:`id_key`)."""
    value = id_key(value.strip().replace("\\", "/"))
    stem, ext = os.path.splitext(value)
    return stem if ext.lower() in SUPPORTED_EXTENSIONS else value


def read_metadata(path: Path) -> dict[str, str]:
    """``{id: text}`` of an LJSpeech-style ``metadata.csv`` (see the module docstring; the
    normalized text when a line has one, else the text; lines without ``|`` are ignored).
    ``{}`` when there is no such file."""
    if not path.is_file():
        return {}
    rows: dict[str, str] = {}
    for n, line in enumerate(read_text(path).splitlines()):
        if "|" not in line:
            continue
        key, *texts = line.split("|")
        if n == 0 and key.strip().lower() in HEADER_IDS:
            continue
        text = next((t for t in reversed(texts[:2]) if t.strip()), "")
        rows[clip_id(key)] = " ".join(text.split())
    return rows


def text_beside(audio: Path) -> str:
    """The transcript in ``<stem>.txt`` (else ``<stem>.lab``) beside ``audio``, whitespace
    collapsed; ``""`` when there is none."""
    for suffix in TEXT_SUFFIXES:
        path = audio.with_suffix(suffix)
        if path.is_file():
            return " ".join(read_text(path).split())
    return ""
