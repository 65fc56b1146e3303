"""Utterance records and manifests: the common currency of every corpus catalog.

A :class:`Manifest` is an immutable, list-like collection of :class:`Utterance` rows with
unique ``utt_id``. It round-trips through CSV (one row per utterance, columns =
:data:`COLUMNS`) so that a catalogued corpus can be inspected, edited and reloaded.

>>> m = Manifest([Utterance("/a.wav", "demo", "s1", "F", "sad", utt_id="demo/s1/a")])
>>> m.speakers(), m.emotions()
(['s1'], ['sad'])
"""

from __future__ import annotations

import codecs
import csv
import io
import locale
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import overload

from emovc.data.emotions import EMOTIONS, normalize_emotion
from emovc.errors import ConfigError, EmovcError, EmovcWarning, output_exists
from emovc.fileio import atomic_output, refuse_input_overwrite

GENDERS = ("M", "F", "?")
INTENSITIES = ("normal", "strong", "")


@dataclass(frozen=True)
class Utterance:
    """One audio file of a corpus and what is known about it.

    Attributes:
        path: absolute path of the audio file.
        corpus: catalog name (``"ravdess"``, ``"vctk"``, ...).
        speaker: speaker id as the corpus spells it (``"01"``, ``"p225"``).
        gender: ``"M"``, ``"F"`` or ``"?"`` when unknown.
        emotion: canonical emotion (:data:`emovc.data.emotions.EMOTIONS`), ``""`` if unlabeled.
        intensity: ``"normal"``, ``"strong"`` or ``""`` when the corpus does not say.
        text: orthographic transcript, ``""`` if unknown.
        duration: length in seconds, read from the file header.
        utt_id: stable unique id ``corpus/speaker/stem``; derived from the other fields
            when left empty.
        sentence: corpus sentence id (RAVDESS statement ``"01"``; VCTK: the number of a
            prompt every speaker reads, later ones derived from the transcript), ``""`` if
            none; two utterances with the same sentence id say the
            same words.
        repetition: take number for repeated recordings (RAVDESS 1 or 2), ``None`` if none.
        language: ISO 639-1 code when known (``"en"``, ``"zh"``), else ``""``.
    """

    path: str
    corpus: str
    speaker: str
    gender: str = "?"
    emotion: str = ""
    intensity: str = ""
    text: str = ""
    duration: float = 0.0
    utt_id: str = ""
    sentence: str = ""
    repetition: int | None = None
    language: str = ""

    def __post_init__(self) -> None:
        if not self.utt_id:
            default_id = f"{self.corpus}/{self.speaker}/{Path(self.path).stem}"
            object.__setattr__(self, "utt_id", default_id)
        if self.gender not in GENDERS:
            raise EmovcError(f"bad gender {self.gender!r} for {self.utt_id}; use one of M, F, ?")
        if self.emotion and self.emotion not in EMOTIONS:
            raise EmovcError(f"non-canonical emotion {self.emotion!r} for {self.utt_id}; "
                             f"valid: {', '.join(EMOTIONS)} or empty")
        if self.intensity not in INTENSITIES:
            raise EmovcError(f"bad intensity {self.intensity!r} for {self.utt_id}; "
                             "use normal, strong or empty")

    def to_row(self) -> dict[str, str]:
        """CSV row (all values as strings; ``None`` → ``""``)."""
        row = asdict(self)
        row["repetition"] = "" if self.repetition is None else str(self.repetition)
        row["duration"] = f"{self.duration:.4f}"
        return {k: str(v) for k, v in row.items()}

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Utterance:
        """Inverse of :meth:`to_row`; missing optional columns take their defaults."""
        kw: dict[str, object] = {k: row[k] for k in COLUMNS if k in row and row[k] is not None}
        kw["duration"] = float(kw.get("duration") or 0.0)
        rep = kw.get("repetition")
        kw["repetition"] = int(rep) if rep not in (None, "") else None
        return cls(**kw)  # type: ignore[arg-type]


COLUMNS: tuple[str, ...] = (
    "utt_id", "path", "corpus", "speaker", "gender", "emotion", "intensity", "text",
    "duration", "sentence", "repetition", "language",
)
_REQUIRED = ("path", "corpus", "speaker")
assert set(COLUMNS) == {f.name for f in fields(Utterance)}


def _values(value: str | Iterable[str], what: str) -> set[str]:
    """One value or several as a set (a bare string is one value, not its characters).

    Raises:
        ConfigError: a value that is not text (ids are spelled as the corpus spells them:
            RAVDESS's speaker 1 is ``"01"``, so the number 1 would match nothing).
    """
    items = [value] if isinstance(value, str) else value
    try:
        items = list(items)
    except TypeError:
        items = [value]
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise ConfigError(f"{what} must be given as text, as the corpus spells them (e.g. "
                          f"'01'), got {bad[0]!r}")
    return set(items)


class Manifest(Sequence[Utterance]):
    """An ordered, immutable collection of utterances with unique ``utt_id``.

    Supports ``len``, indexing, slicing (returns a Manifest), iteration, ``+`` and lookup by
    id (``m.get(utt_id)``). Filtering methods return new manifests.
    """

    def __init__(self, utterances: Iterable[Utterance] = ()) -> None:
        self._items: tuple[Utterance, ...] = tuple(utterances)
        self._index = {u.utt_id: i for i, u in enumerate(self._items)}
        if len(self._index) != len(self._items):
            seen: set[str] = set()
            for u in self._items:
                if u.utt_id in seen:
                    raise EmovcError(f"duplicate utterance id {u.utt_id!r} in manifest")
                seen.add(u.utt_id)

    # --- sequence protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> Utterance: ...
    @overload
    def __getitem__(self, i: slice) -> Manifest: ...

    def __getitem__(self, i: int | slice) -> Utterance | Manifest:
        if isinstance(i, slice):
            return Manifest(self._items[i])
        return self._items[i]

    def __iter__(self) -> Iterator[Utterance]:
        return iter(self._items)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._index
        return isinstance(item, Utterance) and self._index.get(item.utt_id) is not None

    def __add__(self, other: Iterable[Utterance]) -> Manifest:
        return Manifest((*self._items, *other))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifest) and self._items == other._items

    def __repr__(self) -> str:
        return (f"Manifest({len(self)} utterances, {len(self.speakers())} speakers, "
                f"{self.total_duration() / 3600:.2f} h)")

    def get(self, utt_id: str) -> Utterance:
        """The utterance with id ``utt_id``; raises EmovcError if absent."""
        try:
            return self._items[self._index[utt_id]]
        except KeyError:
            raise EmovcError(f"unknown utterance id {utt_id!r}") from None

    # --- queries -----------------------------------------------------------------------
    def speakers(self) -> list[str]:
        """Sorted distinct speaker ids."""
        return sorted({u.speaker for u in self._items})

    def emotions(self) -> list[str]:
        """Distinct emotions in canonical order (unlabeled ``""`` excluded)."""
        present = {u.emotion for u in self._items}
        return [e for e in EMOTIONS if e in present]

    def corpora(self) -> list[str]:
        return sorted({u.corpus for u in self._items})

    def total_duration(self) -> float:
        """Sum of durations in seconds."""
        return float(sum(u.duration for u in self._items))

    def filter(self, speakers: Iterable[str] | None = None, emotions: Iterable[str] | None = None,
               corpus: str | Iterable[str] | None = None,
               where: Callable[[Utterance], bool] | None = None) -> Manifest:
        """Utterances matching every given criterion (``None`` = no constraint).

        ``speakers``, ``emotions`` and ``corpus`` take one value or several. Emotions may be
        spelled as the corpora do ("Anger" is ``angry``; an unknown name is a
        :class:`~emovc.errors.ConfigError` listing the valid ones); ``""`` selects unlabeled
        utterances.
        """
        spk = None if speakers is None else _values(speakers, "speakers")
        emo = (None if emotions is None
               else {e and normalize_emotion(e) for e in _values(emotions, "emotions")})
        corp = None if corpus is None else {c.lower() for c in _values(corpus, "corpus")}
        return Manifest(u for u in self._items
                        if (spk is None or u.speaker in spk)
                        and (emo is None or u.emotion in emo)
                        and (corp is None or u.corpus.lower() in corp)
                        and (where is None or where(u)))

    def exclude_speakers(self, speakers: Iterable[str]) -> Manifest:
        drop = _values(speakers, "speakers")
        return Manifest(u for u in self._items if u.speaker not in drop)

    def group_by(self, *keys: str) -> dict[object, Manifest]:
        """Split into sub-manifests by one or more :data:`COLUMNS`.

        With one key the dict keys are the values (``{"01": Manifest, ...}``); with several
        they are tuples. Groups keep the manifest order and are sorted by key.
        """
        if not keys:
            raise EmovcError("group_by needs at least one column")
        bad = [k for k in keys if k not in COLUMNS]
        if bad:
            raise EmovcError(f"unknown manifest column {bad[0]!r}; valid: {', '.join(COLUMNS)}")
        groups: dict[object, list[Utterance]] = {}
        for u in self._items:
            k = tuple(getattr(u, c) for c in keys)
            groups.setdefault(k[0] if len(keys) == 1 else k, []).append(u)
        return {k: Manifest(v) for k, v in sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))}

    def counts(self, *keys: str) -> dict[object, int]:
        """Number of utterances per value of ``keys`` (see :meth:`group_by`)."""
        return {k: len(v) for k, v in self.group_by(*keys).items()}

    def describe(self, max_speakers: int = 40) -> str:
        """Human-readable summary: totals, then utterances per speaker × emotion."""
        genders = {u.speaker: u.gender for u in self._items}
        g = {k: sum(1 for v in genders.values() if v == k) for k in GENDERS}
        lines = [f"{', '.join(self.corpora())}: {len(self)} utterances, {len(genders)} speakers "
                 f"({g['F']} F, {g['M']} M, {g['?']} ?), {self.total_duration() / 3600:.2f} h"]
        emos = self.emotions() + ([""] if any(not u.emotion for u in self._items) else [])
        cols = [e or "(none)" for e in emos]
        by = self.counts("speaker", "emotion")
        width = max([7, *(len(s) for s in genders)])
        lines.append(f"{'speaker':<{width}} {' '.join(f'{c:>9}' for c in cols)} {'total':>7}")
        for spk in self.speakers()[:max_speakers]:
            row = [by.get((spk, e), 0) for e in emos]
            lines.append(f"{spk:<{width}} {' '.join(f'{n:>9}' for n in row)} {sum(row):>7}")
        if len(genders) > max_speakers:
            lines.append(f"... {len(genders) - max_speakers} more speakers")
        totals = [sum(1 for u in self._items if u.emotion == e) for e in emos]
        lines.append(f"{'total':<{width}} {' '.join(f'{n:>9}' for n in totals)} {len(self):>7}")
        return "\n".join(lines)

    def replace_paths(self, fn: Callable[[str], str]) -> Manifest:
        """Copy with every path mapped through ``fn`` (e.g. moving a corpus)."""
        return Manifest(replace(u, path=fn(u.path)) for u in self._items)

    # --- CSV ---------------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write the manifest as UTF-8 CSV atomically (tmp file + rename); returns the path.

        Args:
            path: the CSV file to write.
            force: overwrite ``path`` if it exists (like ``save_audio``, off by default).

        Raises:
            ConfigError: ``path`` is the audio file of one of its utterances (even with
                ``force``).
            OutputExistsError: ``force`` is false and ``path`` exists.
        """
        p = Path(path)
        refuse_input_overwrite(p, (u.path for u in self._items),
                               "the input (the audio file of an utterance of this manifest)")
        if p.exists() and not force:
            raise output_exists(p)
        with atomic_output(p, suffix=".tmp") as tmp, open(tmp, "w", newline="",
                                                           encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(u.to_row() for u in self._items)
        return p

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> Manifest:
        """Read a CSV written by :meth:`to_csv` (extra columns are ignored; UTF-8, else the
        system's encoding: :func:`decode_table`); a relative ``path`` is relative to the CSV's
        folder (``emovc augment`` stores its converted clips so, :func:`resolve_path`).

        A relative path missing there but present relative to the current directory (how
        hand-written manifests were read before) is taken from there, with one warning per
        manifest; relative paths missing in both places are named in one warning that says
        where they were looked up (reading those clips fails later)."""
        p = Path(path)
        if not p.is_file():
            raise EmovcError(f"manifest not found: {p}")
        try:
            text = decode_table(p)
        except UnicodeDecodeError as exc:
            raise EmovcError(f"{p} {not_decoded(exc)}: save it as UTF-8 (an `emovc augment` "
                             "manifest: emovc augment resumed into its folder writes it "
                             "anew)") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise EmovcError(f"not an emovc manifest: {p} (missing column {missing[0]!r})")
        rows = list(reader)
        fallback: list[str] = []
        missing: list[str] = []

        def where(rel: str) -> str:
            full = resolve_path(rel, p.parent)
            if full == rel or os.path.exists(full):
                return full
            here = os.path.abspath(rel)
            if os.path.exists(here):
                fallback.append(rel)
                return here
            missing.append(rel)
            return full

        manifest = cls(Utterance.from_row({**row, "path": where(row["path"])}) for row in rows)
        folder = p.parent.resolve()
        if fallback:
            warnings.warn(
                f"{p}: {len(fallback)} relative path(s) are missing relative to the manifest's "
                f"folder {folder} but exist relative to the current directory, e.g. "
                f"{fallback[0]}; using those. Relative paths in a manifest are read from its "
                "folder: write them relative to it (or absolute)", EmovcWarning, stacklevel=2)
        if missing:
            warnings.warn(
                f"{p}: {len(missing)} relative path(s) exist neither relative to the "
                f"manifest's folder {folder} (where relative paths are read from) nor the "
                f"current directory, e.g. {missing[0]}", EmovcWarning, stacklevel=2)
        return manifest


def decode_table(path: Path) -> str:
    """The text of a CSV table emovc reads back (a manifest): UTF-8, with or without the
    byte-order mark a spreadsheet writes (which made the first column's name unreadable),
    else the system's encoding (cp1252 on most Windows systems), in which an earlier emovc
    wrote its tables and spreadsheets save them.

    A UTF-16 or UTF-32 file (a spreadsheet's "Unicode text"; a byte-order mark, or NUL bytes
    without one), which the system's encoding would decode into a table without the columns,
    is refused as such (:func:`not_decoded` says so).

    Raises:
        UnicodeDecodeError: the file is in neither encoding.
        OSError: it cannot be read.
    """
    raw = Path(path).read_bytes()
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            raise UnicodeDecodeError(WIDE, raw, 0, len(bom), f"is {name} text (its byte-order "
                                                           "mark), not UTF-8")
    if b"\x00" in raw:
        raise UnicodeDecodeError(WIDE, raw, raw.index(b"\x00"), raw.index(b"\x00") + 1,
                                 "holds NUL bytes (UTF-16 or UTF-32 text?), not UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        legacy = locale.getpreferredencoding(False)
        if codecs.lookup(legacy).name == "utf-8":
            raise
        return raw.decode(legacy)


WIDE = "utf-16/utf-32"  # the encoding decode_table names in the errors of such a file
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def not_decoded(exc: UnicodeDecodeError) -> str:
    """What :func:`decode_table`'s error says of the file, after its name: ``"is UTF-16 text
    (its byte-order mark), not UTF-8"``, or ``"is not UTF-8 nor in this system's encoding"``."""
    return exc.reason if exc.encoding == WIDE else "is not UTF-8 nor in this system's encoding"


def resolve_path(path: str, base: Path) -> str:
    """``path`` as written when it is absolute (or empty), else made absolute from the folder
    ``base`` of the table that lists it."""
    if not path or Path(path).is_absolute():
        return path
    return os.path.abspath(base.resolve() / path)


def _sort_key(key: object) -> tuple:
    items = key if isinstance(key, tuple) else (key,)
    return tuple((x is None, str(x)) for x in items)
