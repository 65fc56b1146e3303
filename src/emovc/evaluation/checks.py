"""Sanity checks of an evaluation's manifest rows and files: notes (one line per kind of
problem), never errors, since a user may mean any of them (e.g. a copy of the source as a
"do nothing" system).

- a row that repeats an earlier one (it counts twice in every mean and interval);
- a converted file identical to its source or to its reference (same file, or the same
  audio in another file: the same number of analysis frames, under :data:`SAME_AUDIO_DB` of
  MCD frame by frame, which a copy re-quantised to 16 bits by another container stays under);
- files with more than one channel (mixed down to mono for every metric);
- RAVDESS-named files (``03-01-EE-II-SS-RR-AA``): a reference that is not a take of the
  source's actor and sentence, or not of the target emotion; a ``source_emotion`` or a
  ``text`` that the source's name contradicts.
"""

from __future__ import annotations

import os

import numpy as np

from emovc.data.catalogs.ravdess import STATEMENTS, take_name
from emovc.evaluation.analysis import UtteranceFeatures
from emovc.evaluation.file_analysis import FileAnalysis
from emovc.evaluation.intelligibility import normalize_text
from emovc.evaluation.manifest import EvalItem
from emovc.evaluation.mcd import frame_mcd

#: mean MCD (dB) of frame t against frame t under which two analysed files hold the same
#: audio: a 16-bit WAV and a 16-bit FLAC written from the same samples (one step of the last
#: bit apart) differ by 0.035 dB, two takes or a conversion and its source by several dB
SAME_AUDIO_DB = 0.1


def sanity_notes(items: list[EvalItem], files: dict[str, FileAnalysis]) -> list[str]:
    """Every note of this module for ``items`` and their analysed ``files`` (``{path:
    analysis}``, as :func:`~emovc.evaluation.file_analysis.run_stage1` returns them)."""
    return [*duplicate_notes(items), *identical_notes(items, files), *downmix_notes(files),
            *ravdess_notes(items)]


def _example(hits: list[str], total: int, what: str) -> str:
    return f"{len(hits)} of {total} items {what} (e.g. item {hits[0]})"


def duplicate_notes(items: list[EvalItem]) -> list[str]:
    """A note for rows repeating an earlier row (same source, converted file, target and
    reference): each copy counts again in every mean, so the intervals look surer than the
    data are."""
    first: dict[tuple, str] = {}
    repeats = []
    for it in items:
        key = (it.source, it.converted, it.target_emotion, it.reference)
        if key in first:
            repeats.append(f"{it.item_id} = item {first[key]}")
        else:
            first[key] = it.item_id
    if not repeats:
        return []
    return [_example(repeats, len(items), "repeat an earlier row (same source, converted, "
                     "target and reference)") + ": each copy counts in every mean, rate and "
            "interval, which then look surer than the data are; list each conversion once"]


def _same_audio(a: str, b: str, files: dict[str, FileAnalysis]) -> bool:
    """Whether two listed files are the same file or hold the same audio as analysed."""
    if not a or not b:
        return False
    if a == b or os.path.realpath(a) == os.path.realpath(b):
        return True
    fa, fb = files.get(a), files.get(b)
    if fa is None or fb is None or fa.features is None or fb.features is None:
        return False
    return _same_features(fa.features, fb.features)


def _same_features(a: UtteranceFeatures, b: UtteranceFeatures) -> bool:
    if a.mcep.shape != b.mcep.shape:
        return False
    diagonal = np.repeat(np.arange(a.mcep.shape[0])[:, None], 2, axis=1)
    return float(np.mean(frame_mcd(a.mcep, b.mcep, diagonal))) < SAME_AUDIO_DB


def identical_notes(items: list[EvalItem], files: dict[str, FileAnalysis]) -> list[str]:
    """A note for converted files identical to their source (nothing was converted: the
    converted system scores as the source baseline) or to their reference (MCD 0: is the
    reference column the output?)."""
    notes = []
    as_source = [it.item_id for it in items if _same_audio(it.converted, it.source, files)]
    if as_source:
        notes.append(_example(as_source, len(items), "have a converted file identical to its "
                              "source") + ": they score as the unconverted source (nothing "
                     "was converted?)")
    as_ref = [it.item_id for it in items if _same_audio(it.converted, it.reference, files)]
    if as_ref:
        notes.append(_example(as_ref, len(items), "have a converted file identical to its "
                              "reference") + ": their distances to it are 0; is the "
                     "reference column the output?")
    return notes


def downmix_notes(files: dict[str, FileAnalysis]) -> list[str]:
    """A note for files with more than one channel: every metric scores their mono mix."""
    multi = sorted((p, f.channels) for p, f in files.items() if f.channels > 1)
    if not multi:
        return []
    path, ch = multi[0]
    return [f"{len(multi)} file(s) have more than one channel and were mixed down to mono for "
            f"every metric (e.g. {path}: {ch} channels)"]


def ravdess_notes(items: list[EvalItem]) -> list[str]:
    """Notes for RAVDESS-named files whose names contradict the row: a reference of another
    actor or sentence than the source, a reference whose emotion is not the target, a
    ``source_emotion`` or ``text`` other than the source's name says."""
    other_take, other_emotion, src_emotion, text = [], [], [], []
    for it in items:
        src = take_name(it.source)
        ref = take_name(it.reference) if it.reference else None
        if src is not None and ref is not None and (src.actor, src.statement) != (
                ref.actor, ref.statement):
            other_take.append(it.item_id)
        if ref is not None and ref.emotion != it.target_emotion:
            other_emotion.append(f"{it.item_id}: {ref.emotion} for {it.target_emotion}")
        if src is not None and it.source_emotion and src.emotion != it.source_emotion:
            src_emotion.append(f"{it.item_id}: {it.source_emotion} for a {src.emotion} take")
        if src is not None and it.text and (normalize_text(it.text)
                                            != normalize_text(STATEMENTS[src.statement])):
            text.append(it.item_id)
    n, notes = len(items), []
    if other_take:
        notes.append(_example(other_take, n, "have a RAVDESS reference of another actor or "
                              "sentence than their source (by the file names)") + ": MCD and "
                     "F0 distances assume the same speaker saying the same words")
    if other_emotion:
        notes.append(_example(other_emotion, n, "have a RAVDESS reference whose emotion (by "
                              "its name) is not the target emotion"))
    if src_emotion:
        notes.append(_example(src_emotion, n, "give a source_emotion other than the RAVDESS "
                              "source's name says"))
    if text:
        notes.append(_example(text, n, "give a text other than the RAVDESS source's sentence "
                              "(by its name)") + ": their word error rates score other words")
    return notes
