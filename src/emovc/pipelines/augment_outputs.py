"""What ``emovc augment`` writes besides the audio: ``manifest.csv`` (real and converted clips,
merged with an earlier run's rows), ``conversions.csv`` (for ``emovc evaluate``),
``failures.csv``, and the clean-up of a killed run's temporaries. Used by
:mod:`emovc.pipelines.augment`."""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from emovc.audio import audio_info
from emovc.audio.io import read_comment
from emovc.data.catalogs.ravdess import ravdess_reference
from emovc.data.manifest import COLUMNS, Manifest, decode_table, not_decoded
from emovc.errors import EmovcError, EmovcWarning
from emovc.fileio import atomic_output, relative_inside, remove_stale_temporaries_in
from emovc.pipelines.augment_state import Task, output_damage
from emovc.pipelines.run_table import TABLE, write_table

EXTRA_COLUMNS = ("synthetic", "source_utt_id", "source_path", "source_emotion", "converter",
                 "conversion_intensity")


def atomic_csv(path: Path, header: tuple[str, ...], rows: Iterable[dict]) -> Path:
    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _out_key(out: Path, path: str, target: str = "") -> str:
    """Where a synthetic row's ``path`` lies: relative to ``out`` (POSIX) when it is under it,
    else the path as written.

    A relative path is relative to ``out`` (manifests written since paths are stored so); an
    absolute one (older manifests) is made relative when it lies under ``out``, or, when
    ``out`` was moved, renamed or copied since, re-rooted: the part from a folder named
    ``target`` on, where that is a file under ``out`` (``/old/aug/sad/a/x.wav`` ->
    ``sad/a/x.wav``; augment never wrote a converted clip outside its folder)."""
    p = Path(path)
    if not p.is_absolute():
        return Path(os.path.normpath(p)).as_posix()
    rel = relative_inside(p, out.resolve(), os.path.abspath(out))  # as relative_to_root's
    if rel is not None:
        return rel.as_posix()
    if target:
        parts = p.parts
        for i, part in enumerate(parts):
            if part == target and (out.joinpath(*parts[i:])).is_file():
                return Path(*parts[i:]).as_posix()
    return path


def _manifest_rows_on_disk(path: Path) -> list[dict[str, str]]:
    """The rows of an augment ``manifest.csv`` as stored: UTF-8, else the system's encoding,
    which emovc wrote it in before it wrote UTF-8 (:func:`~emovc.data.manifest.decode_table`;
    cp1252 on most Windows systems, where a manifest of a corpus path such as ``Émilie/`` is
    then not UTF-8).

    Raises:
        UnicodeDecodeError: the file is in neither encoding.
    """
    return list(csv.DictReader(io.StringIO(decode_table(path), newline="")))


def _earlier_rows(out: Path) -> dict[str, dict]:
    """``{output path (:func:`_out_key`): row}`` of the synthetic rows of an earlier
    ``manifest.csv`` in ``out`` (``{}`` without one): outputs reused on a resume keep the
    source emotion detected when they were made, and those of targets not asked for this
    time stay listed — also after ``out`` was moved or renamed. An earlier manifest that
    cannot be decoded (:func:`_manifest_rows_on_disk`) counts as none, with one
    :class:`~emovc.errors.EmovcWarning`: it is written anew, without the outputs of targets
    not asked for this time."""
    path = out / "manifest.csv"
    if not path.is_file():
        return {}
    try:
        rows = _manifest_rows_on_disk(path)
    except UnicodeDecodeError as exc:
        warnings.warn(f"the earlier {path} {not_decoded(exc)}, so it is written anew from "
                      "this run's outputs: the outputs of targets not asked for this time are "
                      "no longer listed (rerun with --to naming them too: their files are kept "
                      "and listed again)", EmovcWarning,
                      stacklevel=5)  # augment_corpus's caller (via _write, manifest_rows)
        return {}
    return {_out_key(out, r["path"], r.get("emotion", "")): r for r in rows
            if r.get("synthetic") == "1" and r.get("path")}


MANIFEST_HEADER = (*COLUMNS, *EXTRA_COLUMNS)


def manifest_rows(out: Path, manifest: Manifest, tasks: list[Task], done: dict[str, str],
                   model: str, intensity: float, unusable: set[str] = frozenset(),
                   left_out: list[tuple[str, str]] | None = None) -> list[dict]:
    """The rows of ``OUT/manifest.csv``: the real utterances, except those in ``unusable``
    (failed paths) of which no conversion exists — a clip every conversion failed on (silent,
    unreadable) is no use to a recogniser either — then every converted file present, its
    ``path`` relative to ``out`` (so a moved or renamed folder still lists its own files;
    ``Manifest.from_csv`` and :func:`read_augmented_manifest` resolve it).

    A converted row's ``intensity`` is empty: the source take's label (RAVDESS's strong
    angry) says nothing about the converted clip; ``conversion_intensity`` holds the
    conversion's ``intensity`` (one per folder, :func:`check_signature`). Rows of an
    earlier run's other targets stay while their files exist and are whole, with their
    source's current path; a damaged one is added to ``left_out`` as ``(path, reason)``."""
    earlier = _earlier_rows(out)
    strength = f"{float(intensity):g}"
    converted = {t.utt.path for t in tasks if Path(t.out).exists()}
    rows = [{**u.to_row(), "synthetic": "0", "source_utt_id": "", "source_path": "",
             "source_emotion": "", "converter": "", "conversion_intensity": ""}
            for u in manifest if u.path not in unusable or u.path in converted]
    for t in tasks:
        path = Path(t.out)
        if not path.exists():
            continue
        synth = replace(t.utt, path=path.relative_to(out).as_posix(), emotion=t.target,
                        intensity="", utt_id=f"{t.utt.utt_id}@{t.target}",
                        duration=_duration(path))
        before = earlier.pop(synth.path, {})
        rows.append({**synth.to_row(), "synthetic": "1", "source_utt_id": t.utt.utt_id,
                     "source_path": t.utt.path,
                     "source_emotion": done.get(t.out) or before.get("source_emotion")
                     or t.utt.emotion or _tagged_source(path, t.target), "converter": model,
                     "conversion_intensity": strength})
    # outputs of an earlier run's other targets (augment --to angry, then --to sad) stay
    # listed while their files exist: the folder's manifest covers the whole folder
    listed = {r["utt_id"] for r in rows}
    for p, r in earlier.items():
        if not (out / p).is_file() or r.get("utt_id") in listed:
            continue
        src = manifest.get(r["source_utt_id"]) if r.get("source_utt_id") in manifest else None
        why = output_damage(out / p, src.duration if src else 0.0)
        if why:
            if left_out is not None:
                left_out.append((str(out / p), f"damaged output of an earlier run ({why}); not "
                                 f"listed: rerun with --to {r.get('emotion')} to convert it again"))
            continue
        row = {**{k: r.get(k, "") for k in MANIFEST_HEADER}, "path": p, "intensity": "",
               "conversion_intensity": strength}
        if src is not None:  # the corpus folder moved: the source's path of today
            row["source_path"] = src.path
        rows.append(row)
    return rows


def write_conversions_table(out: Path, rows: list[dict]) -> Path:
    """``OUT/conversions.csv`` (:mod:`emovc.pipelines.run_table`) of the synthetic ``rows``
    of the manifest, so that ``emovc evaluate OUT`` scores the folder: the source, the output
    (relative to ``out``), the target and source emotions, what is said and, for a
    RAVDESS-named source, the same actor's take of the target emotion (same statement,
    intensity and repetition) as ``reference`` when it lies next to the source
    (:func:`~emovc.data.catalogs.ravdess.ravdess_reference`, as ``emovc convert`` fills it).
    An output whose source is no longer there (a clip removed from the corpus since) stays in
    the manifest but not in the table, which ``emovc evaluate`` would refuse whole."""
    table = []
    for r in rows:
        if r.get("synthetic") != "1" or not os.path.isfile(r["source_path"]):
            continue  # a source gone from the corpus since: nothing to score it against
        ref, _ = ravdess_reference(Path(r["source_path"]), r["emotion"])
        table.append({"source": r["source_path"], "converted": r["path"],
                      "target_emotion": r["emotion"], "source_emotion": r["source_emotion"],
                      "reference": ref, "text": r.get("text", "")})
    return write_table(out / TABLE, table)


def emotion_counts(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """``{emotion: (real, synthetic)}`` clips of manifest ``rows`` (``""``: unlabelled)."""
    counts: dict[str, list[int]] = {}
    for r in rows:
        counts.setdefault(r.get("emotion", ""), [0, 0])[r.get("synthetic") == "1"] += 1
    return {e: (n[0], n[1]) for e, n in counts.items()}


def remove_stale_temporaries(tasks: list[Task]) -> int:
    """Delete the temporaries of this run's outputs that a killed run left in their folders
    (hidden ``.<name>.<8 characters>.wav`` files, :func:`emovc.fileio.atomic_output`'s) over
    an hour old, the age after which :mod:`emovc.fileio` takes a temporary for abandoned (a
    younger one may be a concurrent run's file being written); returns how many."""
    names: dict[Path, set[str]] = {}
    for t in tasks:
        names.setdefault(Path(t.out).parent, set()).add(Path(t.out).name)
    return sum(remove_stale_temporaries_in(folder, finals, ".wav")
               for folder, finals in names.items() if folder.is_dir())


# the provenance tag EmotionConverter.convert_file writes into every output:
# "emovc 0.1.0: emotion surprised->angry (m2m-ravdess, intensity 1.0)" ("?" when unknown)
_TAG = re.compile(r"emovc \S+: emotion (\S+)->(\S+) \(")


def _tagged_source(path: Path, target: str) -> str:
    """The source emotion recorded in ``path``'s provenance tag (``""`` without one, or for a
    tag of another target): the emotion detected for an output of an interrupted run, which
    wrote no manifest."""
    try:
        m = _TAG.match(read_comment(path))
    except (EmovcError, RuntimeError, OSError):  # unreadable: the manifest says nothing
        return ""
    if m is None or m.group(2) != target or m.group(1) == "?":
        return ""
    return m.group(1)


def _duration(path: Path) -> float:
    """Length in seconds from the header (conversion may change the tempo)."""
    try:
        return audio_info(path).duration
    except EmovcError:
        return 0.0


def write_failures(out: Path, failures: list[tuple[str, str]]) -> None:
    rows = [{"path": p, "reason": r} for p, r in failures]
    atomic_csv(out / "failures.csv", ("path", "reason"), rows)


def read_augmented_manifest(path: str | os.PathLike) -> list[dict[str, str]]:
    """Rows of an augmentation ``manifest.csv`` (real and synthetic items), every ``path``
    absolute (the file stores the converted clips' relative to its folder). Read as UTF-8,
    else in the locale's encoding, which an earlier emovc wrote it in.

    Raises:
        EmovcError: the file is in neither encoding; ``emovc augment`` resumed into its
            folder writes it anew.
    """
    from emovc.data.manifest import resolve_path

    try:
        rows = _manifest_rows_on_disk(Path(path))
    except UnicodeDecodeError as exc:
        raise EmovcError(f"{path} {not_decoded(exc)} (written by an earlier emovc on another "
                         "system?): emovc augment resumed into its folder writes it "
                         "anew") from None
    for r in rows:
        if r.get("path"):
            r["path"] = resolve_path(r["path"], Path(path).parent)
    return rows
