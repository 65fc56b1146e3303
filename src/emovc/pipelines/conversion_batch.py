"""Convert files and folders: ``conversions.csv`` + mirrored output tree.

``convert_paths(converter, input, output, target, ...)``: ``input`` is a file (output = file)
or a folder (output = folder mirroring its tree, plus ``conversions.csv`` with columns
source, converted, target_emotion, source_emotion, reference, text — the outputs relative to
the table's folder, the inputs and references absolute — read by ``emovc evaluate``;
``convert_paths`` returns the rows with every path absolute). For RAVDESS-named inputs the
real take of the target emotion (same actor, sentence, intensity, repetition) is recorded as
``reference`` when it exists next to the input.

A folder converted into an output folder that already holds a ``conversions.csv`` (another
input folder) adds to it: earlier rows stay while their converted file exists and this run did
not rewrite it, so the table lists every conversion in the folder. A file converted into a
folder holding one updates it the same way (its row replaced, or added). Outputs are named
after their inputs, not the emotion: the same inputs converted into another emotion replace
the first conversions (``force``), so each emotion wants its own output folder. Nothing
converted, no table written; otherwise the table is updated after each file (its row
appended; written whole at the start and end of the run).

A folder conversion resumes: without ``force``, an output that exists is kept when its
provenance tag (:meth:`EmotionConverter.provenance_tag`) shows this call's target and
settings, and the table names the same input; any other existing output is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emovc.audio import SUPPORTED_EXTENSIONS
from emovc.audio.io import WRITE_FORMATS
from emovc.data.catalogs.base import iter_audio
from emovc.data.catalogs.ravdess import ravdess_reference
from emovc.data.emotions import check_model_emotion
from emovc.errors import AudioError, EmovcError, OutputExistsError
from emovc.fileio import check_output_file, check_writable
from emovc.models.conversion.converters import check_intensity
from emovc.pipelines.conversion import EmotionConverter, check_flag
from emovc.pipelines.conversion_tags import TAG, Made, made_by, other_outputs
from emovc.pipelines.run_table import (
    TABLE,
    NotATableError,
    append_rows,
    merge_rows,
    read_table,
    row_path,
    write_table,
)


def _inputs(folder: Path) -> list[Path]:
    # iter_audio: hidden entries (e.g. the temporaries of an interrupted write) are skipped
    # and symlinked folders followed, as in the corpus scans
    files = sorted(iter_audio(folder))
    if not files:
        raise EmovcError(f"no audio files ({', '.join(SUPPORTED_EXTENSIONS)}) under {folder}")
    return files


def convert_paths(conv: EmotionConverter, inp: str | os.PathLike, out: str | os.PathLike,
                  target: str, source: str | None = None, intensity: float = 1.0,
                  force: bool = False, progress: Callable[[str], None] | None = None,
                  keep_level: bool = False, pitch_level: float | None = None,
                  renderer: str | None = None, voice_quality: float | None = None,
                  ) -> Converted:
    """Convert a file or a folder tree (settings as :meth:`EmotionConverter.convert`; the
    ones given here are the caller's requests, checked as such, e.g. a voice quality asked
    for with WORLD's rendering is refused); returns the ``conversions.csv`` rows.

    In a folder, a file whose audio cannot be converted (too short, silent, unreadable) is
    reported through ``progress`` and skipped; the others are converted and listed in
    ``conversions.csv`` (updated after each file), then the skipped ones are raised
    together. An existing ``conversions.csv`` in the output folder is merged, not replaced
    (:func:`~emovc.pipelines.run_table.merge_rows`; what was kept or dropped is reported
    through ``progress``). Each file's line through ``progress`` starts ``[k/N]``.

    Without ``force``, a folder resumes: the outputs an earlier call with these settings
    made from these inputs are kept with their rows (a row the table lacks is rebuilt from
    the output's provenance tag), and only the missing ones are converted; the rows returned
    are the conversions made by this call (their ``kept``: how many were kept).

    A file input goes to ``out`` if it names a file, else (an existing folder, or a path
    without an extension) to ``out/<input name>.wav``. Emotion names are canonical in the
    table (``ANGRY`` -> ``angry``).

    Raises:
        EmovcError: missing input, unknown emotion, a folder input with a file output, output
            inside the input folder, two inputs with the same output name (``a.wav`` and
            ``a.flac``), or (after the rest was written) files that could not be converted.
        OutputExistsError: without ``force``, an existing output file (a file input), or
            existing outputs of a folder made with other settings or from other inputs, or
            not by ``emovc convert``.
        OutputPathError: an output folder that cannot be written (before any conversion).
        ConfigError: a setting out of range or of the wrong type (before any output is read).
    """
    src, dst = Path(inp), Path(out)
    if not src.exists():
        raise EmovcError(f"input not found: {src}")
    target, source = _check_emotions(conv, target, source)
    # settings checked before the resume reads existing outputs' tags: a bad one is its own
    # ConfigError, not "outputs made with other settings"
    check_intensity(intensity)
    check_flag(keep_level, "keep_level")
    conv.settings.with_overrides(pitch_level=pitch_level, renderer=renderer,
                                 voice_quality=voice_quality)
    opts = {"source": source, "intensity": intensity, "keep_level": keep_level,
            "pitch_level": pitch_level, "renderer": renderer, "voice_quality": voice_quality}
    job = _file_job(src, dst, force, progress) if src.is_file() else _folder_job(
        conv, src, dst, target, opts, force, progress)
    for folder_out in {o.parent: o for _, o in job.pairs}.values():
        check_writable(folder_out)  # before any conversion, not after the first one
    _write_progress(job, job.listed)  # kept outputs an interrupted run had not listed yet
    rows, failed = _convert_all(conv, job, target, opts, force, progress)
    _write_table(job, job.listed + rows, progress)
    rows = Converted(rows)
    rows.kept = job.kept
    if failed:
        were = "was" if len(rows) == 1 else "were"
        kept = f"; {job.kept} kept from an earlier run" if job.kept else ""
        raise EmovcError(f"{len(failed)} of {len(job.pairs)} file(s) could not be converted "
                         f"(the other {len(rows)} {were} written{kept}), e.g. {failed[0]}")
    return rows


class Converted(list):
    """The rows :func:`convert_paths` returns (a list), with ``kept``: how many outputs of
    an earlier run with these settings it kept instead of converting again."""

    kept: int = 0


@dataclass
class _Job:
    """The conversions of one :func:`convert_paths` call, and the table that lists them."""

    pairs: list[tuple[Path, Path]]  # (input, output) to convert
    single: bool  # a file input: its audio error is raised as it is
    table: Path | None = None  # the folder whose conversions.csv lists them (None: no table)
    earlier: list[dict] | None = None  # that table's rows before this run
    kept: int = 0  # outputs of an earlier run with these settings, kept
    listed: list[dict] = field(default_factory=list)  # rows of kept outputs the table lacks
    # during the run (_write_progress): the earlier rows whose files exist, by output path
    # (checked once per run), and how many of this run's rows the table on disk holds
    # (None: it has to be rewritten)
    still: dict[str, dict] | None = None
    on_disk: int | None = None


def _check_emotions(conv: EmotionConverter, target: str, source: str | None
                    ) -> tuple[str, str | None]:
    """The canonical ``(target, source)`` (``ANGRY`` -> ``angry``).

    Raises:
        EmovcError: an emotion the model does not convert to or from, or the same on both
            sides.
    """
    target = check_model_emotion(target, conv.target_emotions, "target")
    if source is None:
        return target, None
    source = check_model_emotion(source, conv.source_emotions, "source")
    if source == target:  # the model would only re-render it (and add its voice quality)
        raise EmovcError(f"--from and --to are both {target}: nothing to convert; name the "
                         "emotion to convert to, or leave --from out to have it detected")
    return target, source


def _file_job(src: Path, dst: Path, force: bool, progress: Callable[[str], None] | None
              ) -> _Job:
    """One file to ``dst`` (a file, or a folder to put it in), listed in the table of the
    output's folder when it has one; the output is checked before any work."""
    if dst.is_dir() or not dst.suffix:  # a folder, existing or new: the output goes in it
        dst = dst / f"{src.stem}.wav"
    # a format that cannot be written fails now, not after decoding and recognising
    dst = check_output_file(dst, tuple(WRITE_FORMATS), force, "the converted audio",
                            EmovcError)
    # a file into a folder with a table of conversions (a run folder) updates its row
    earlier = _earlier_table(dst.parent, force=False, progress=progress, optional=True)
    return _Job([(src, dst)], single=True, table=dst.parent if earlier is not None else None,
                earlier=earlier)


def _folder_job(conv: EmotionConverter, src: Path, dst: Path, target: str, opts: dict,
                force: bool, progress: Callable[[str], None] | None) -> _Job:
    """Every audio file under ``src`` into the mirrored tree under ``dst``, listed in
    ``dst``'s table; checked before any work. Without ``force``, the outputs an earlier run
    with these settings left are kept (:func:`_resume`)."""
    if dst.is_file() or (not dst.is_dir() and dst.suffix.lower() in SUPPORTED_EXTENSIONS):
        what = "is a file" if dst.is_file() else "names an audio file"
        raise EmovcError(f"{src} is a folder, so the output must be a folder too; {dst} "
                         f"{what}")
    pairs = _folder_pairs(src, dst)
    # an earlier table is read (an unreadable one refused) before any conversion
    job = _Job(pairs, single=False, table=dst, earlier=_earlier_table(dst, force, progress))
    if not force:
        _resume(conv, job, target, opts)
        if job.kept:
            rest = f"converting the other {len(job.pairs)}" if job.pairs else "nothing to do"
            _say(progress, f"{dst}: {job.kept} of {len(pairs)} output(s) are there from an "
                           f"earlier run with these settings: kept (--force redoes them); "
                           f"{rest}")
    return job


def _resume(conv: EmotionConverter, job: _Job, target: str, opts: dict) -> None:
    """Leave out of ``job.pairs`` the outputs that exist and were made from the same input
    with these settings (their provenance tag, and their row in the table); rows for those
    the table lacks go to ``job.listed``.

    Raises:
        OutputExistsError: an existing output made with other settings (another emotion,
            intensity, model, level or rendering setting), from another input, or not by
            ``emovc convert``; they are named with ``--force``.
    """
    expected = Made.of(TAG.fullmatch(conv.provenance_tag("", target, **{
        k: v for k, v in opts.items() if k != "source"})).group(2))
    names = {expected.model, str(conv.name)}  # an old tag names the model as it was typed
    rows = {row_path(job.table, r): r for r in job.earlier or []}
    todo, other = [], []
    for f, o in job.pairs:
        if not o.exists():
            todo.append((f, o))
            continue
        key = os.path.normpath(o.absolute())
        used, why = made_by(o, f, expected, names, opts["source"], rows.get(key), job.table)
        if why:
            other.append((o, why))
        elif key not in rows:
            job.listed.append(_row(f, o, target, used))
    if other:
        raise other_outputs(job.table, other, f"{opts['source'] or 'any'}->{expected.rest}")
    job.kept, job.pairs = len(job.pairs) - len(todo), todo


def _convert_all(conv: EmotionConverter, job: _Job, target: str, opts: dict, force: bool,
                 progress: Callable[[str], None] | None) -> tuple[list[dict], list[str]]:
    """Convert ``job``'s pairs (``opts``: :meth:`EmotionConverter.convert_file`'s settings);
    returns the rows of the converted files and ``"input: reason"`` of the others.

    Raises:
        AudioError: a file input's audio cannot be converted.
    """
    rows, failed = [], []
    for k, (f, o) in enumerate(job.pairs, start=1):
        count = "" if job.single else f"[{k}/{len(job.pairs)}] "
        try:
            written, used = conv.convert_file(f, o, target, force=force, **opts)
        except AudioError as e:
            if job.single:
                raise
            failed.append(f"{f}: {e}")
            _say(progress, f"{count}skipped {f}: {e}")
            continue
        rows.append(_row(f, Path(written), target, used))
        _write_progress(job, job.listed + rows)  # after each file: an interrupt keeps it
        # a detected source says so: the recogniser's guess may be wrong
        how = "detected " if opts["source"] is None and used and conv.detects_source else ""
        _say(progress, f"{count}{f} -> {written} ({how}{used or '?'} -> {target})")
    return rows, failed


def _row(inp: Path, written: Path, target: str, used: str) -> dict:
    """The table row of one conversion, every path absolute."""
    ref, text = ravdess_reference(inp.absolute(), target)
    return {"source": str(inp.absolute()), "converted": str(written.absolute()),
            "target_emotion": target, "source_emotion": used, "reference": ref, "text": text}


def _write_table(job: _Job, rows: list[dict],
                 progress: Callable[[str], None] | None = None) -> None:
    """Merge ``rows`` into ``job``'s table and write it (none written, nor the folder
    created, without rows or a table; an earlier table is then left as it was)."""
    if job.table is None or not rows:
        return
    merged, note = merge_rows(job.table, job.earlier, _relative(job, rows),
                              rebuilt=len(job.listed))
    write_table(job.table / TABLE, merged)
    _say(progress, note)


def _write_progress(job: _Job, rows: list[dict]) -> None:
    """The table during a run, after each file: as :func:`_write_table` (without its note),
    but cheaply: the earlier rows' files are checked once per run, and a row that replaces
    no earlier one is appended rather than the whole table rewritten (the run's end writes
    it whole, :func:`_write_table`)."""
    if job.table is None or not rows:
        return
    if job.still is None:
        kept, _ = merge_rows(job.table, job.earlier, [])
        job.still = {row_path(job.table, r): r for r in kept}
    new = rows[job.on_disk or 0:]
    replaced = [k for k in (row_path(job.table, r) for r in new) if k in job.still]
    for k in replaced:
        del job.still[k]
    ours = _relative(job, rows if job.on_disk is None or replaced else new)
    if job.on_disk is None or replaced:
        write_table(job.table / TABLE, [*job.still.values(), *ours])
    else:
        append_rows(job.table / TABLE, ours)
    job.on_disk = len(rows)


def _relative(job: _Job, rows: list[dict]) -> list[dict]:
    """``rows`` with their outputs relative to the table's folder, so a moved or copied run
    folder scores its own files (emovc evaluate / listen resolve paths from there)."""
    top = job.table.absolute()
    return [{**r, "converted": Path(r["converted"]).relative_to(top).as_posix()} for r in rows]


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    """Tell ``progress`` ``message`` (nothing without a callback or a message)."""
    if progress and message:
        progress(message)


def _folder_pairs(src: Path, dst: Path) -> list[tuple[Path, Path]]:
    """``(input, output .wav)`` for every audio file under ``src``, mirrored under ``dst``;
    checked before anything is converted."""
    if dst.resolve().is_relative_to(src.resolve()):
        raise EmovcError(f"output folder {dst} must not be inside the input folder {src}")
    pairs = [(f, (dst / f.relative_to(src)).with_suffix(".wav")) for f in _inputs(src)]
    seen: dict[Path, Path] = {}
    for f, o in pairs:
        if o in seen:
            raise EmovcError(f"{seen[o]} and {f} would both be written to {o}; rename one")
        seen[o] = f
    return pairs


def _earlier_table(dst: Path, force: bool, progress: Callable[[str], None] | None = None,
                   optional: bool = False) -> list[dict] | None:
    """Rows of ``dst/conversions.csv`` (``None`` without one, or with ``force`` when it is
    not a table of conversions: it is then replaced, as ``progress`` is told). ``optional``
    (a file input, which writes no table of its own): one that is not a table of
    conversions is ``None`` and left alone, as ``progress`` is told.

    Raises:
        OutputExistsError: it exists but is not a table of conversions (no ``source``,
            ``converted`` and ``target_emotion`` columns, or unreadable), without ``force``.
    """
    path = dst / TABLE
    if not path.exists() or (optional and not path.is_file()):
        return None
    try:
        return read_table(path)
    except (OSError, NotATableError):
        if optional:
            if progress:
                progress(f"{path} is not a table of conversions: left as it is")
            return None
        if force:
            if progress:
                progress(f"{path} is not a table of conversions; --force: this run's table "
                         "replaces it")
            return None
        raise OutputExistsError(
            f"{path} exists but is not a table of conversions (source, converted, "
            f"target_emotion columns), so this run's rows cannot be added to it "
            f"(use --force to replace it; force=True in Python)") from None
