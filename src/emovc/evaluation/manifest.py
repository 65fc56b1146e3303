"""Evaluation manifests: which converted file belongs to which source, target and reference.

A manifest is a CSV with a header and the columns

===============  ========  ==============================================================
column           required  meaning
===============  ========  ==============================================================
source           yes       the unconverted input audio
converted        yes       the system's output for it
target_emotion   yes       the intended emotion (any alias of :data:`EMOTIONS`)
reference        no        a real take of the same speaker/text in the target emotion
text             no        what is said (enables word error rates)
source_emotion   no        emotion of the source take
===============  ========  ==============================================================

Relative paths are relative to the manifest's folder. A conversion run directory is
recognised by the ``conversions.csv`` manifest that ``emovc convert`` writes into it. The
file format is :mod:`emovc.pipelines.run_table`'s, which reads and writes it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from emovc.data.emotions import normalize_emotion
from emovc.errors import ConfigError, EmovcError
from emovc.pipelines.run_table import TABLE, read_table, write_table

RUN_MANIFEST = TABLE


@dataclass(frozen=True)
class EvalItem:
    """One conversion to score (paths absolute; optional fields empty when unknown)."""

    item_id: str
    source: str
    converted: str
    target_emotion: str
    reference: str = ""
    text: str = ""
    source_emotion: str = ""

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


def find_manifest(path: str | os.PathLike) -> Path:
    """The manifest CSV for a CSV path or a run directory (``<dir>/conversions.csv``).

    Raises:
        EmovcError: missing path, or a folder without ``conversions.csv``.
    """
    p = Path(path)
    if p.is_dir():
        if (p / RUN_MANIFEST).is_file():
            return p / RUN_MANIFEST
        raise EmovcError(f"{p} is a folder without {RUN_MANIFEST}; pass a manifest CSV or a "
                         f"conversion run directory")
    if not p.is_file():
        raise EmovcError(f"manifest not found: {p}")
    return p


def _resolve(base: Path, value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    p = Path(value).expanduser()
    # absolute, "." and ".." folded, symlinks kept (as for absolute paths): reports show the
    # names the user gave
    return str(p if p.is_absolute() else Path(os.path.abspath(base / p)))


def read_manifest(path: str | os.PathLike, check_files: bool = True) -> list[EvalItem]:
    """Read a manifest CSV or run directory into :class:`EvalItem` s.

    Raises:
        ConfigError: not a table of conversions (empty file, not CSV in UTF-8 or the
            system's encoding, missing columns: :func:`~emovc.pipelines.run_table.read_table`),
            unknown emotion, no rows.
        EmovcError: a listed audio file does not exist (``check_files``).
    """
    mpath = find_manifest(path)
    base = mpath.parent.resolve()
    rows = read_table(mpath)
    items, not_found = [], []
    for n, row in enumerate(rows, start=2):
        try:
            if not row["target_emotion"].strip():
                raise ConfigError("empty 'target_emotion'; give the intended emotion")
            target = normalize_emotion(row["target_emotion"])
            src_emo = normalize_emotion(row["source_emotion"]) if row.get("source_emotion") else ""
        except ConfigError as exc:
            raise ConfigError(f"{mpath} line {n}: {exc}") from None
        item = EvalItem(
            item_id=f"{len(items):04d}", source=_resolve(base, row["source"]),
            converted=_resolve(base, row["converted"]), target_emotion=target,
            reference=_resolve(base, row.get("reference", "")), text=row.get("text", "").strip(),
            source_emotion=src_emo)
        if check_files:
            not_found += _check_item(item, mpath, n)
        items.append(item)
    if not_found:
        raise _not_found_error(mpath, not_found)
    if not items:
        raise ConfigError(f"{mpath}: no rows to evaluate")
    return items


SHOWN_MISSING = 3  # missing files named in the error; it gives the count of all


def _check_item(item: EvalItem, mpath: Path, line: int) -> list[str]:
    """``"line N: COLUMN file not found: PATH"`` for each listed file that does not exist.

    Raises:
        ConfigError: an empty ``source`` or ``converted`` cell.
    """
    missing = []
    for col in ("source", "converted", "reference"):
        value = getattr(item, col)
        if col != "reference" and not value:
            raise ConfigError(f"{mpath} line {line}: empty {col!r}")
        if value and not Path(value).is_file():
            missing.append(f"line {line}: {col} file not found: {value}")
    return missing


def _not_found_error(mpath: Path, missing: list[str]) -> EmovcError:
    """One error for every listed file that does not exist: all of them counted, the first
    :data:`SHOWN_MISSING` named (one round trip for a manifest of moved files)."""
    if len(missing) == 1:
        return EmovcError(f"{mpath} {missing[0]}")
    more = len(missing) - SHOWN_MISSING
    return EmovcError(f"{mpath}: {len(missing)} listed audio files not found: "
                      + "; ".join(missing[:SHOWN_MISSING])
                      + (f"; ... and {more} more" if more > 0 else ""))


def write_manifest(path: str | os.PathLike, items: list[EvalItem]) -> Path:
    """Write items as a manifest CSV (absolute paths); returns the path."""
    return write_table(path, [it.to_dict() for it in items])
