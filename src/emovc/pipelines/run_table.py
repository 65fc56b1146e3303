"""The table of conversions, ``conversions.csv``: one reader, one writer, one merge.

``emovc convert`` writes it into a folder of conversions, ``emovc evaluate`` and ``emovc
listen`` read it (as a manifest, :mod:`emovc.evaluation.manifest`), the app writes it for a
session's conversions and reads an uploaded one. A CSV with a header and the columns

===============  ========  ==============================================================
column           required  meaning
===============  ========  ==============================================================
source           yes       the unconverted input audio
converted        yes       the system's output for it
target_emotion   yes       the intended emotion
source_emotion   no        emotion of the source take
reference        no        a real take of the same speaker/text in the target emotion
text             no        what is said (enables word error rates)
===============  ========  ==============================================================

Relative paths are relative to the table's folder. Read as UTF-8 with or without a BOM (a
spreadsheet's "CSV UTF-8"), else in the system's encoding (cp1252 on most Windows systems: a
table an earlier emovc wrote so, or a spreadsheet's plain "CSV"), as every table emovc reads
back (:func:`~emovc.data.manifest.decode_table`); column names are stripped (a hand-edited
``" converted"``); other columns are ignored. Written atomically, UTF-8, the columns in
:data:`COLUMNS` order.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from emovc.data.manifest import decode_table, not_decoded
from emovc.errors import ConfigError
from emovc.fileio import atomic_output

TABLE = "conversions.csv"
REQUIRED = ("source", "converted", "target_emotion")
OPTIONAL = ("reference", "text", "source_emotion")
COLUMNS = ("source", "converted", "target_emotion", "source_emotion", "reference", "text")


class NotATableError(ConfigError):
    """A file read as a table of conversions is not one (empty, not text in UTF-8 nor the
    system's encoding, not CSV, or without the required columns)."""


def read_table(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a table of conversions, each with every column of :data:`COLUMNS`
    (``""`` where the file has none).

    Raises:
        NotATableError: an empty file, text in neither UTF-8 nor the system's encoding (a
            UTF-16 or UTF-32 file is named so), malformed CSV, or missing required columns
            (a header separated by ';' or tabs is told so).
        OSError: the file cannot be opened.
    """
    path = Path(path)
    try:
        text = decode_table(path)
    except UnicodeDecodeError as exc:  # a spreadsheet's "Unicode text" is UTF-16: say so
        raise NotATableError(f"{path} is not a CSV manifest: it {not_decoded(exc)}; give a "
                             f"run folder or its {TABLE}, saved as UTF-8") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames is None:  # no line at all (a 0-byte or blank file)
            raise NotATableError(
                f"{path} is empty; a manifest needs a header line with the columns "
                f"{', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)}) and one row per "
                "conversion")
        reader.fieldnames = [str(c).strip() for c in reader.fieldnames]
        _check_columns(path, reader.fieldnames)
        return [{c: row.get(c) or "" for c in COLUMNS} for row in reader]
    except csv.Error as exc:
        raise NotATableError(f"{path} is not a readable CSV ({exc})") from None


def _check_columns(path: Path, cols: list[str]) -> None:
    """Raise :class:`NotATableError` naming the required columns ``cols`` lacks."""
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise NotATableError(f"{path}: missing column(s) {', '.join(missing)}; required: "
                             f"{', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)}"
                             + _delimiter_hint(cols))


def _delimiter_hint(cols: list[str]) -> str:
    """A hint when the header holds the columns separated by something else than commas (a
    ';' of Excel in many locales, or tabs); '' otherwise."""
    for sep, name in ((";", "';'"), ("\t", "tabs")):
        if any(sep in col and set(REQUIRED) & {x.strip() for x in col.split(sep)}
               for col in cols):
            return (f" (its header is separated by {name}, not commas: save it as "
                    "comma-separated CSV)")
    return ""


def write_table(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Atomically write ``rows`` as a table of conversions; returns the path.

    Args:
        path: the file to write (usually ``<folder>/conversions.csv``).
        rows: mappings with the :data:`COLUMNS` keys (a missing one is written empty, other
            keys are left out).
    """
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, restval="", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def append_rows(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Append ``rows`` to a table of conversions that :func:`write_table` wrote (not
    atomically: each row is one short write, flushed; a long run's table grows by a line per
    file instead of being rewritten); returns the path."""
    path = Path(path)
    with open(path, "a", newline="", encoding="utf-8") as fh:
        csv.DictWriter(fh, fieldnames=COLUMNS, restval="", extrasaction="ignore").writerows(rows)
    return path


def merge_rows(folder: Path, earlier: list[dict] | None, ours: list[dict], rebuilt: int = 0
               ) -> tuple[list[dict], str]:
    """Merge this run's rows into the earlier rows of ``folder``'s table.

    Args:
        folder: the table's folder (relative ``converted`` paths are relative to it).
        earlier: the rows it held (:func:`read_table`), ``None`` without a table.
        ours: this run's rows.
        rebuilt: how many of ``ours`` (the first ones) are rows rebuilt for earlier outputs
            the table lacked, not conversions of this run (the note counts them apart).

    Returns:
        ``(rows, note)``: the earlier rows whose converted file still exists and is not one
        of ``ours``, in their order, then ``ours``; ``note`` says what became of the earlier
        rows (``""`` without an earlier table).
    """
    if earlier is None:
        return ours, ""
    written = {row_path(folder, r) for r in ours}
    kept, replaced, gone = [], 0, []
    for row in earlier:
        if not row["converted"].strip():
            gone.append(row)
        elif row_path(folder, row) in written:
            replaced += 1
        elif Path(row_path(folder, row)).is_file():
            kept.append(row)
        else:
            gone.append(row)
    parts = [f"{len(ours) - rebuilt} row(s) of this run"]
    if rebuilt:
        parts.append(f"{rebuilt} row(s) rebuilt for earlier outputs it lacked (from their "
                     "provenance tags)")
    if kept:
        parts.append(f"{len(kept)} earlier row(s) kept (their files are still there)")
    if replaced:
        parts.append(f"{replaced} earlier row(s) replaced (this run rewrote their files)")
    if gone:
        eg = gone[0]["converted"] or "an empty 'converted' cell"
        parts.append(f"{len(gone)} earlier row(s) dropped (their converted files are gone, "
                     f"e.g. {eg})")
    return kept + ours, f"{folder / TABLE}: " + "; ".join(parts)


def row_path(folder: Path, row: dict, column: str = "converted") -> str:
    """The normalised absolute path in a row's ``column`` (relative: to ``folder``, the
    table's)."""
    path = Path(row[column].strip())
    return os.path.normpath(path if path.is_absolute() else folder.absolute() / path)
