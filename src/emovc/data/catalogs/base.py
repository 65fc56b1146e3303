"""Shared machinery of the corpus catalogs: probing a folder, scan logs, small readers.

A catalog is a :class:`Catalog`: a name, a one-line layout description, a ``detect`` function
scoring how well a :class:`Probe` of a folder fits the layout (0..1) and a ``scan`` function
yielding :class:`~emovc.data.manifest.Utterance` rows (duration left at 0; the registry fills
it from the file headers) and recording every file it leaves out in a :class:`ScanLog`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emovc.audio import SUPPORTED_EXTENSIONS
from emovc.data.emotions import normalize_emotion
from emovc.data.manifest import Utterance
from emovc.errors import ConfigError

PROBE_LIMIT = 3000  # audio files sampled by detection (enough for any layout, fast on big trees)
# the file marking an `emovc augment` output folder (emovc.pipelines.augment.SIGNATURE): its
# clips keep their source files' names, so no catalog may read them as corpus clips
AUGMENT_SIGNATURE = "augment.json"
# keys every `emovc augment` signature has held (later versions add more): a file of that name
# written by another tool (a common name for an augmentation config) is not one
AUGMENT_SIGNATURE_KEYS = ("model", "sha256", "intensity")


def is_augment_output(folder: Path) -> bool:
    """Whether ``folder`` is an ``emovc augment`` output: it holds :data:`AUGMENT_SIGNATURE`
    and that file is a JSON object with the keys ``emovc augment`` writes (the name alone is
    not enough: other tools use it for their augmentation settings)."""
    path = Path(folder) / AUGMENT_SIGNATURE
    try:
        if not path.is_file() or path.stat().st_size > 1 << 16:
            return False
        sig = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(sig, dict) and all(k in sig for k in AUGMENT_SIGNATURE_KEYS)


@dataclass
class ScanLog:
    """Files a scan left out, grouped by reason (never dropped silently)."""

    skipped: dict[str, list[str]] = field(default_factory=dict)
    root: str = ""  # the scanned folder: examples are shown relative to it

    def skip(self, reason: str, path: str | os.PathLike) -> None:
        self.skipped.setdefault(reason, []).append(str(path))

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def summary(self, examples: int = 2) -> list[str]:
        """One line per reason: ``"12 × unknown emotion 'sleepy' (e.g. a.wav, b.wav)"``."""
        lines = []
        for reason, paths in sorted(self.skipped.items(), key=lambda kv: -len(kv[1])):
            eg = ", ".join(self._shown(p) for p in paths[:examples])
            lines.append(f"{len(paths)} × {reason} (e.g. {eg})")
        return lines


    def _shown(self, path: str) -> str:
        """``path`` relative to the scanned folder (two files of one name are told apart)."""
        if self.root:
            rel = os.path.relpath(path, self.root)
            if not rel.startswith(".."):
                return rel
        return Path(path).name


@dataclass(frozen=True)
class Probe:
    """A cheap look at a folder used for layout detection.

    Attributes:
        root: the folder (absolute).
        entries: names of its immediate children.
        audio: up to :data:`PROBE_LIMIT` audio files, as paths relative to ``root``.
    """

    root: Path
    entries: tuple[str, ...]
    audio: tuple[Path, ...]

    def fraction(self, pred: Callable[[Path], bool]) -> float:
        """Share of sampled audio files for which ``pred(relative_path)`` is true."""
        if not self.audio:
            return 0.0
        return sum(1 for p in self.audio if pred(p)) / len(self.audio)


@dataclass(frozen=True)
class Catalog:
    """A corpus layout: how to recognise it and how to list its utterances."""

    name: str
    layout: str
    detect: Callable[[Probe], float]
    scan: Callable[[Path, ScanLog], Iterable[Utterance]]


# audio formats emovc does not read: listed as skipped rather than passed over unseen
UNREAD_AUDIO = (".w64", ".m4a", ".mp4", ".aac", ".wma", ".opus",
                ".webm", ".au", ".snd", ".caf", ".amr", ".3gp", ".ac3", ".ape", ".wv", ".sph")


def unread_audio(root: Path, log: ScanLog) -> list[Path]:
    """Add every file under ``root`` in a format of :data:`UNREAD_AUDIO` to ``log``; returns
    the ``emovc augment`` output folders below ``root`` (see :func:`is_augment_output`),
    which are not looked into."""
    augmented = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        if _augment_output_below(root, dirpath, filenames):
            augmented.append(Path(dirpath))
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            ext = os.path.splitext(name)[1].lower()
            if ext in UNREAD_AUDIO and not name.startswith("."):
                log.skip(f"unsupported audio format {ext!r} (convert it to "
                         f"{', '.join(SUPPORTED_EXTENSIONS)})", Path(dirpath) / name)
    return augmented


def _augment_output_below(root: Path, dirpath: str, filenames: list[str]) -> bool:
    """Whether the folder ``dirpath`` of a walk of ``root`` (holding ``filenames``) is an
    ``emovc augment`` output below ``root`` (:func:`is_augment_output`)."""
    return (AUGMENT_SIGNATURE in filenames and Path(dirpath) != Path(root)
            and is_augment_output(Path(dirpath)))


def is_audio(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED_EXTENSIONS


def _walk(root: Path, follow: bool, skip: set[str], augment_outputs: bool):
    """``os.walk(root)`` as :func:`iter_audio` reads it: ``(dirpath, filenames)`` top-down,
    folders sorted, hidden ones, those in ``skip`` and (``augment_outputs`` false) ``emovc
    augment`` outputs below ``root`` left out; symlinked folders followed when ``follow``."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow):
        if not augment_outputs and _augment_output_below(root, dirpath, filenames):
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and os.path.join(dirpath, d) not in skip)
        yield dirpath, dirnames, filenames


def iter_audio(root: Path, limit: int | None = None, exclude: Iterable[Path] = (), *,
               augment_outputs: bool = True) -> list[Path]:
    """Audio files under ``root`` (absolute, sorted per folder, hidden entries and the folders
    in ``exclude`` skipped; with ``augment_outputs`` false, the ``emovc augment`` output
    folders below ``root`` too: the catalogs' scans, whose caller lists their files as left
    out, :func:`emovc.data.catalogs.scan_corpus`).

    Symlinked folders are followed (a corpus assembled from links), but each folder is read
    once: one the walk reaches without a link is read there and not through a link to it (an
    alias such as ``latest -> run_07``: outputs, speakers and ids keep the real path), and a
    folder reached twice otherwise (a link back up the tree, two links to one folder outside
    it) only the first time (os.walk would loop, listing its files once per way in)."""
    out: list[Path] = []
    skip = {str(p) for p in exclude}
    direct: dict[str, str] | None = None  # real path -> the walk's path, links not followed
    seen: set[str] = set()
    for dirpath, dirnames, filenames in _walk(root, True, skip, augment_outputs):
        real = os.path.realpath(dirpath)
        if direct is None and dirpath != str(root) and os.path.islink(dirpath):
            direct = {os.path.realpath(d): d for d, _, _ in _walk(root, False, skip,
                                                                  augment_outputs)}
        if real in seen or (direct is not None and direct.get(real, dirpath) != dirpath):
            dirnames[:] = []
            continue
        seen.add(real)
        for name in sorted(filenames):
            if is_audio(name):
                out.append(Path(dirpath) / name)
                if limit is not None and len(out) >= limit:
                    return out
    return out


def make_probe(root: Path, limit: int = PROBE_LIMIT, exclude: Iterable[Path] = ()) -> Probe:
    """A :class:`Probe` of ``root``, leaving out the folders in ``exclude``."""
    exclude = list(exclude)
    names = {p.name for p in exclude if p.parent == root}
    entries = tuple(sorted(e.name for e in root.iterdir()
                           if not e.name.startswith(".") and e.name not in names))
    audio = tuple(p.relative_to(root) for p in iter_audio(root, limit, exclude))
    return Probe(root, entries, audio)


def match_fraction(probe: Probe, pattern: str, flags: int = 0) -> float:
    """Share of sampled files whose *name* fully matches the regex ``pattern``."""
    rx = re.compile(pattern, flags)
    return probe.fraction(lambda p: rx.fullmatch(p.name) is not None)


def try_emotion(label: str) -> str | None:
    """Canonical emotion for ``label`` or ``None`` when it is not one we model."""
    try:
        return normalize_emotion(label)
    except ConfigError:
        return None


def text_sentence_id(text: str) -> str:
    """A stable short sentence id for a transcript (``""`` for no words): ``"t"`` and 12 hex
    digits of the SHA-1 of its words, case-folded, with punctuation and spacing ignored, so
    two utterances share it exactly when they say the same words.

    >>> text_sentence_id("Please call Stella.") == text_sentence_id("please  call STELLA")
    True
    """
    plain = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    words = re.sub(r"[\W_]+", " ", plain).split()
    return "t" + hashlib.sha1(" ".join(words).encode()).hexdigest()[:12] if words else ""


def read_text(path: Path) -> str:
    """Decode a small text file trying UTF-8, UTF-16 and GB18030 (ESD's Chinese files)."""
    raw = path.read_bytes()
    encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ()
    for enc in (*encodings, "utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a tab- or comma-separated file with a header line."""
    lines = read_text(path).splitlines()
    if not lines:
        return []
    delim = "\t" if "\t" in lines[0] else ","
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(lines, delimiter=delim)]


def gender_code(value: str) -> str:
    """``"M"``/``"F"``/``"?"`` from spellings like ``m``, ``Male``, ``female``."""
    v = value.strip().lower()
    if v in ("m", "male", "man"):
        return "M"
    if v in ("f", "female", "woman"):
        return "F"
    return "?"


def read_speaker_genders(path: Path, id_col: str = "speaker") -> dict[str, str]:
    """``{speaker: "M"|"F"|"?"}`` from a table with ``speaker`` and ``gender`` columns."""
    if not path.is_file():
        return {}
    rows = read_tsv(path)
    key = next((c for c in (id_col, "speaker", "id", "ID") if rows and c in rows[0]), None)
    gcol = next((c for c in ("gender", "sex", "Sex", "Gender") if rows and c in rows[0]), None)
    if key is None or gcol is None:
        return {}
    return {unicodedata.normalize("NFC", r[key]): gender_code(r[gcol]) for r in rows}


def speaker_genders(root: Path, table: str,
                    parse: Callable[[str], tuple[str, str] | None]) -> dict[str, str]:
    """``{speaker: "M"|"F"|"?"}`` from ``speakers.tsv`` (emovc's compact copies) or else the
    corpus's own speaker ``table`` file (found in ``root`` or up to two parents), whose lines
    ``parse`` turns into ``(speaker, gender text)`` (``None`` skips a line)."""
    tsv = find_upwards(root, ["speakers.tsv"])
    if tsv is not None:
        return read_speaker_genders(tsv)
    path = find_upwards(root, [table])
    rows = (parse(line) for line in read_text(path).splitlines()) if path is not None else ()
    return {spk: gender_code(g) for spk, g in (r for r in rows if r is not None)}


def find_upwards(start: Path, names: Iterable[str], levels: int = 2) -> Path | None:
    """First existing file named one of ``names`` in ``start`` or up to ``levels`` parents."""
    names = tuple(names)
    for folder in (start, *list(start.parents)[:levels]):
        for n in names:
            if (folder / n).is_file():
                return folder / n
    return None
