"""Convert files and folders: ``conversions.csv`` + mirrored output tree.

``convert_paths(converter, input, output, target, ...)``: ``input`` is a file (output = file)
or a folder (output = folder mirroring its tree, plus ``conversions.csv`` with columns
source, converted, target_emotion, source_emotion, reference, text — read by
``emovc evaluate``). For RAVDESS-named inputs the real take of the target emotion (same actor,
sentence, intensity, repetition) is recorded as ``reference`` when it exists next to the input.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from pathlib import Path

from emovc.audio import SUPPORTED_EXTENSIONS
from emovc.errors import EmovcError
from emovc.pipelines.conversion import EmotionConverter

CSV_COLUMNS = ("source", "converted", "target_emotion", "source_emotion", "reference", "text")
_RAVDESS = re.compile(r"(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})")
_CODES = {"neutral": "01", "calm": "02", "happy": "03", "sad": "04", "angry": "05",
          "fearful": "06", "disgust": "07", "surprised": "08"}
_TEXT = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def ravdess_reference(path: Path, target: str) -> tuple[str, str]:
    """``(reference path or "", text or "")`` for a RAVDESS-named file."""
    m = _RAVDESS.fullmatch(path.stem)
    if m is None:
        return "", ""
    parts = list(m.groups())
    text = _TEXT.get(parts[4], "")
    if target not in _CODES or (target == "neutral" and parts[3] == "02"):
        return "", text
    parts[2] = _CODES[target]
    ref = path.with_name("-".join(parts) + path.suffix)
    return (str(ref) if ref.exists() else ""), text


def _inputs(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.suffix.lower() in SUPPORTED_EXTENSIONS)
    if not files:
        raise EmovcError(f"no audio files ({', '.join(SUPPORTED_EXTENSIONS)}) under {folder}")
    return files


def convert_paths(conv: EmotionConverter, inp: str | os.PathLike, out: str | os.PathLike,
                  target: str, source: str | None = None, intensity: float = 1.0,
                  force: bool = False, progress: Callable[[str], None] | None = None,
                  keep_level: bool = False, pitch_level: float | None = None) -> list[dict]:
    """Convert a file or a folder tree (settings as :meth:`EmotionConverter.convert`);
    returns the ``conversions.csv`` rows.

    Raises:
        EmovcError: missing input, output inside the input folder, existing outputs without
            ``force``.
    """
    src, dst = Path(inp), Path(out)
    if not src.exists():
        raise EmovcError(f"input not found: {src}")
    if src.is_file():
        pairs = [(src, dst)]
        table = dst.parent / "conversions.csv"
    else:
        if dst.resolve().is_relative_to(src.resolve()):
            raise EmovcError(f"output folder {dst} must not be inside the input folder {src}")
        pairs = [(f, (dst / f.relative_to(src)).with_suffix(".wav")) for f in _inputs(src)]
        table = dst / "conversions.csv"
        clash = [o for _, o in pairs if o.exists()]
        if clash and not force:
            raise EmovcError(f"{len(clash)} output file(s) exist, e.g. {clash[0]} "
                             "(use --force to overwrite)")
    rows = []
    for f, o in pairs:
        written, used = conv.convert_file(f, o, target, source=source, intensity=intensity,
                                          force=force, keep_level=keep_level,
                                          pitch_level=pitch_level)
        ref, text = ravdess_reference(f, target)
        rows.append({"source": str(f), "converted": str(written), "target_emotion": target,
                     "source_emotion": used, "reference": ref, "text": text})
        if progress:
            progress(f"{f} -> {written} ({used or '?'} -> {target})")
    if src.is_dir():
        write_csv(table, rows)
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Atomically write ``conversions.csv``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)
    return path
