"""Emotion augmentation of a corpus: convert every utterance into other emotions.

``augment_corpus`` catalogs a corpus (any layout :mod:`emovc.data.catalogs` knows), converts
each utterance (or those of the source emotions and speakers asked for) into each requested
target emotion with an :class:`EmotionConverter`, and writes

- ``OUT/<target>/<path relative to the corpus root>`` — converted audio (never the input tree);
- ``OUT/manifest.csv`` — the real utterances (``synthetic=0``, their original paths) followed by
  the converted ones (``synthetic=1``, their paths relative to ``OUT``) with their origin
  (``source_utt_id``, ``source_path``, ``source_emotion``), the ``converter`` that made
  them and the ``conversion_intensity``, ready to train a recogniser on
  (:func:`read_augmented_manifest` reads every column; ``Manifest.from_csv`` reads the rows as
  utterances, without the extra columns; both resolve the relative paths: the folder itself
  is not a corpus);
- ``OUT/conversions.csv`` — the table of conversions ``emovc evaluate OUT`` scores
  (:mod:`emovc.pipelines.run_table`), with the real take of the target emotion as
  ``reference`` for RAVDESS-named clips that have one next to them;
- ``OUT/failures.csv`` — every input that could not be converted, with the reason.

Balanced (``balance=True`` or ``per_class=N``): only as many clips are converted into each
target as it lacks to reach the manifest's largest class (or ``N``), chosen evenly over
speakers and source emotions in a seeded order (:mod:`emovc.pipelines.augment_balance`).

Resumable: an existing output file is kept when it is whole (its header reads, it holds the
frames its header declares, its end decodes, and it is not much shorter than its source); a
damaged one (a copy of the folder cut short, a file emptied by hand) is converted again, with a
warning. ``OUT/augment.json`` records the converter (name, SHA-256 of its checkpoint), the
intensity and the corpus (its folder, and a fingerprint of its clips' relative paths and
sizes); resuming into a folder made with another model or intensity, or from other clips, is
refused, so the manifest never credits one converter with another's outputs. Parallel on
local cores by default; ``backend="ray"`` distributes the same tasks over a Ray cluster for
large corpora.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from emovc.data.catalogs import ScanLog, scan_corpus, unlabelled_hint
from emovc.data.emotions import check_model_emotion, normalize_emotion
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import ConfigError, EmovcError, choice_error
from emovc.models.conversion.converters import check_intensity
from emovc.pipelines.augment_balance import (
    SourcePicker,
    check_balance_options,
    plan_balance,
)
from emovc.pipelines.augment_outputs import (  # noqa: F401 - EXTRA_COLUMNS, read_...: public
    EXTRA_COLUMNS,
    MANIFEST_HEADER,
    atomic_csv,
    emotion_counts,
    manifest_rows,
    read_augmented_manifest,
    remove_stale_temporaries,
    write_conversions_table,
    write_failures,
)
from emovc.pipelines.augment_report import (  # noqa: F401 - IMBALANCE: public, read-only here
    IMBALANCE,
    AugmentReport,
    balance_line,
)
from emovc.pipelines.augment_sources import as_items, select_sources, warn_guessed_sources
from emovc.pipelines.augment_state import (  # noqa: F401 - SIGNATURE: public
    SIGNATURE,
    Task,
    check_signature,
    clips_fingerprint,
    pending_tasks,
    relative_to_root,
)
from emovc.pipelines.augment_workers import import_ray, run_local, run_ray

if TYPE_CHECKING:
    from emovc.pipelines.conversion import EmotionConverter

BACKENDS = ("local", "ray")


def plan_tasks(manifest: Manifest, root: Path, out_dir: Path, targets: Iterable[str],
               skip_same: bool = True) -> list[Task]:
    """One task per (utterance, target); an utterance already in ``target`` is skipped.

    Raises:
        EmovcError: two tasks would write one output file (:func:`check_outputs`).
    """
    tasks = [make_task(utt, target, root, out_dir) for target in targets for utt in manifest
             if not (skip_same and utt.emotion == target)]
    check_outputs(tasks)
    return tasks


def check_outputs(tasks: Iterable[Task]) -> None:
    """Refuse, in one line, two tasks writing one output file, as ``emovc convert`` on a
    folder does: two clips of one path but for the extension (``take.wav`` and
    ``take.flac``: the outputs are ``.wav``), or two manifest rows of one file name outside
    the corpus folder (written under their name alone)."""
    seen: dict[str, str] = {}
    for task in tasks:
        if task.out in seen:
            raise EmovcError(f"{seen[task.out]} and {task.utt.path} would both be written to "
                             f"{task.out}; rename one")
        seen[task.out] = task.utt.path


def make_task(utt: Utterance, target: str, root: Path, out_dir: Path) -> Task:
    """``utt`` into ``target``, written to ``OUT/<target>/<path relative to root>.wav``."""
    rel = relative_to_root(Path(utt.path), root)
    return Task(utt, target, str(out_dir / target / rel.with_suffix(".wav")))


def _check_targets(targets: Iterable[str], converter_targets: list[str],
                   model: str = "the model") -> list[str]:
    out = list(dict.fromkeys(normalize_emotion(t) for t in targets))  # sad,sad / happy,joy
    if not out:
        raise EmovcError("no target emotion given (e.g. --to angry,sad)")
    for t in out:
        if t not in converter_targets:  # an emotion, but not one this model produces
            raise ConfigError(f"{model} converts only to {', '.join(converter_targets)}, "
                              f"not {t}")
    return out


def _check_out_dir(root: Path, out_dir: Path) -> None:
    existing = next((p for p in (out_dir, *out_dir.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        what = "" if existing == out_dir else f": {existing}"
        raise EmovcError(f"--out {out_dir}{what} is a file; give a folder (augment writes "
                         "OUT/<emotion>/..., manifest.csv and failures.csv into it)")
    r, o = root.resolve(), out_dir.resolve()
    if o == r or r in o.parents:
        raise EmovcError(f"output folder {out_dir} is inside the input corpus {root}; "
                         "choose a folder outside it (the input is never modified)")


def augment_corpus(root: str | os.PathLike, out_dir: str | os.PathLike, targets: Iterable[str],
                   *, model: str = "m2m-ravdess", corpus: str = "auto", intensity: float = 1.0,
                   workers: int | None = None, backend: str = "local",
                   progress: bool = True, source: str | None = None,
                   only_from: Iterable[str] | None = None,
                   speakers: Iterable[str] | None = None, balance: bool = False,
                   per_class: int | None = None, seed: int | None = None) -> AugmentReport:
    """Convert every utterance of the corpus at ``root`` into each of ``targets`` (or, to
    balance the emotions, only as many as each target lacks).

    Args:
        root: corpus folder (auto-detected layout unless ``corpus`` names one).
        out_dir: output folder (created; must lie outside ``root``).
        targets: target emotions (canonical names or aliases).
        model: bundled converter name or checkpoint path.
        intensity: conversion intensity 0..1.
        workers: parallel processes for the local backend (default: all cores).
        backend: ``"local"`` (process pool) or ``"ray"`` (needs ``pip install emovc[ray]``).
        source: emotion of the utterances the corpus does not label (e.g. ``"neutral"`` for
            LibriSpeech or VCTK; they are then listed with it in the manifest); ``None``:
            detected per utterance by the emotion recogniser, with one
            :class:`~emovc.errors.EmovcWarning` saying how many clips that concerns.
            Labelled utterances keep theirs.
        only_from: convert only the utterances labelled with one of these emotions (after
            ``source`` labels the unlabelled ones; aliases accepted); ``None``: all.
        speakers: convert only the utterances of these speakers (as the corpus spells them,
            e.g. ``"01"``); ``None``: all. Utterances left out of the conversions stay
            listed in the manifest as real clips.
        balance: convert into each target only as many selected clips as it lacks to have as
            many clips (real + synthetic) as the manifest's largest labelled class of real
            clips; a target with that many real clips gets none. The clips are spread evenly
            over speakers and source emotions, in an order fixed by ``seed``; a rerun picks
            the same ones (:mod:`emovc.pipelines.augment_balance`). Too few clips to convert
            from: all of them, with an :class:`~emovc.errors.EmovcWarning` (a clip is
            converted into an emotion once).
        per_class: balance to this many clips per target instead (real ones counted first;
            implies ``balance``).
        seed: seed of the balanced choice of clips (default 0); only with ``balance`` or
            ``per_class``.

    Returns:
        an :class:`AugmentReport`; failures are counted and listed, never silently dropped.

    Raises:
        ConfigError: an unknown backend, emotion or speaker, a selection that leaves no clip
            to convert, or a balance that cannot be reached at all (``per_class`` < 1, no
            labelled clip, a target with no clip of another emotion to convert from) —
            before any output is written.
        EmovcError: see :func:`check_signature` (a folder of other conversions or clips); two
            clips whose conversions would be written to one file (:func:`check_outputs`),
            before any output is written.
    """
    plan = _plan(root, out_dir, targets, model=model, corpus=corpus, intensity=intensity,
                 workers=workers, backend=backend, source=source, only_from=only_from,
                 speakers=speakers, balance=balance, per_class=per_class, seed=seed)
    # from here on OUT is written: its record first (or a folder of other conversions refused)
    check_signature(plan.out, model, plan.intensity, plan.source, corpus=plan.root,
                     clips=clips_fingerprint(plan.manifest, plan.root))
    report, tasks, done = _convert(plan, workers, backend, progress)
    _write(plan, report, tasks, done)
    return report


@dataclass
class _Plan:
    """What an augment run converts, decided before anything is written (:func:`_plan`)."""

    root: Path  # the corpus folder
    out: Path
    model: str
    intensity: float  # checked (:func:`~emovc.models.conversion.converters.check_intensity`)
    source: str | None  # the emotion of unlabelled clips (None: detected per clip)
    converter: EmotionConverter
    targets: list[str]  # canonical, each once
    manifest: Manifest  # every clip scanned (the manifest's real rows), ``source`` applied
    log: ScanLog  # the files the scan left out
    cannot: list[Utterance]  # selected, in an emotion the model does not convert from
    convert: Manifest  # the clips to convert
    picker: SourcePicker | None  # a balanced run's choice of clips (None: all of them)

    def task(self, utt: Utterance, target: str) -> Task:
        """``utt`` into ``target``, written under ``out`` (:func:`make_task`)."""
        return make_task(utt, target, self.root, self.out)


def _plan(root: str | os.PathLike, out_dir: str | os.PathLike, targets: Iterable[str], *,
          model: str, corpus: str, intensity: float, workers: int | None, backend: str,
          source: str | None, only_from: Iterable[str] | None,
          speakers: Iterable[str] | None, balance: bool, per_class: int | None,
          seed: int | None) -> _Plan:
    """Check :func:`augment_corpus`'s arguments, load the converter, scan the corpus and
    choose the clips to convert (of ``only_from`` and ``speakers``, in emotions the model
    converts from, and in a balanced run how many per target); nothing is written.

    Raises:
        ConfigError, EmovcError: as :func:`augment_corpus` (every error it raises before
            ``OUT`` is written).
    """
    if backend not in BACKENDS:
        raise choice_error("backend", backend, BACKENDS)
    seed = check_balance_options(balance, per_class, seed)
    intensity = check_intensity(intensity)  # before any work, and before augment.json
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be at least 1 (none or 0 on the command line: all "
                          f"cores), got {workers}")
    if backend == "ray":
        import_ray()  # fail before any work when Ray is missing
    root, out = Path(root), Path(out_dir)
    _check_out_dir(root, out)
    from emovc.pipelines.conversion import EmotionConverter

    converter = EmotionConverter.from_pretrained(model)
    tgts = _check_targets(targets, converter.target_emotions, model)
    if source is not None:
        source = check_model_emotion(source, converter.source_emotions, "source")
    wanted = (None if only_from is None else [check_model_emotion(e, converter.source_emotions,
                                                                  "source")
                                              for e in as_items(only_from)])
    manifest, log = scan_corpus(root, corpus)  # a bad corpus fails before OUT is created
    if source is not None:
        manifest = Manifest([replace(u, emotion=u.emotion or source) for u in manifest])
    selected = select_sources(manifest, wanted, speakers)
    # a labelled clip in an emotion the model does not convert from (cyclegan-calm-angry and
    # a neutral take) is not converted, but it is a good real clip: listed, and kept
    sources = set(converter.source_emotions)
    cannot = [u for u in selected if u.emotion and u.emotion not in sources]
    skip = {u.utt_id for u in cannot}
    convert = Manifest([u for u in selected if u.utt_id not in skip])
    plan_tasks(convert, root, out, tgts)  # two clips of one output: refused before any work
    picker = (plan_balance(manifest, convert, tgts, per_class, seed)
              if balance or per_class is not None else None)
    return _Plan(root=root, out=out, model=model, intensity=intensity, source=source,
                 converter=converter, targets=tgts, manifest=manifest, log=log, cannot=cannot,
                 convert=convert, picker=picker)


def _convert(plan: _Plan, workers: int | None, backend: str,
             progress: bool) -> tuple[AugmentReport, list[Task], dict[str, str]]:
    """Run the conversions of ``plan`` (those whose outputs are missing or damaged) on
    ``backend`` with ``workers`` processes (``None``: all cores).

    Returns:
        ``(report, tasks, done)``: the report (the scan's skipped files as failures, the
        clips the model cannot convert from as notes, the counts of :func:`_run`), every
        task planned, and ``{output path: source emotion used}`` of the conversions made.
    """
    report = AugmentReport(out_dir=plan.out,
                           balance=plan.picker.balance if plan.picker else None)
    report.failures.extend((p, reason) for reason, paths in plan.log.skipped.items()
                           for p in paths)
    report.notes.extend((u.path, f"{plan.model} converts from "
                                 f"{', '.join(plan.converter.source_emotions)} only, not "
                                 f"{u.emotion} (kept as a real clip)") for u in plan.cannot)
    if plan.picker is None:
        tasks = plan_tasks(plan.convert, plan.root, plan.out, plan.targets)
    else:
        tasks = [plan.task(u, t) for u, t in plan.picker.first()]
    if plan.source is None and plan.converter.detects_source:
        warn_guessed_sources({t.utt.utt_id: t.utt for t in tasks}.values(),
                             unlabelled_hint(plan.manifest))
    runner = run_ray if backend == "ray" else run_local

    def run(todo: list[Task]) -> list[tuple[bool, str]]:
        return runner(todo, plan.model, plan.intensity, workers or os.cpu_count() or 1,
                      progress)

    tasks, done = _run(tasks, plan.picker, report, run, plan.task)
    return report, tasks, done


def _write(plan: _Plan, report: AugmentReport, tasks: list[Task], done: dict[str, str]) -> None:
    """Write ``OUT/manifest.csv``, ``conversions.csv`` and ``failures.csv`` of a run that
    planned ``tasks`` and made ``done`` (:func:`_convert`), and remove the stale temporaries of
    a killed run; their paths and counts go to ``report``."""
    rows = manifest_rows(plan.out, plan.manifest, tasks, done, plan.model, plan.intensity,
                          unusable={p for p, _ in report.failures}, left_out=report.left_out)
    report.manifest = atomic_csv(plan.out / "manifest.csv", MANIFEST_HEADER, rows)
    report.table = write_conversions_table(plan.out, rows)
    report.counts = emotion_counts(rows)
    write_failures(plan.out, report.failures + report.notes + report.left_out)
    report.temporaries_removed = remove_stale_temporaries(tasks)


def _run(tasks: list[Task], picker: SourcePicker | None, report: AugmentReport,
         run: Callable[[list[Task]], list[tuple[bool, str]]],
         task_of: Callable[[Utterance, str], Task]) -> tuple[list[Task], dict[str, str]]:
    """Run the ``tasks`` whose outputs are missing or damaged (:func:`pending_tasks`) with
    ``run``; in a balanced run (``picker``), each failed conversion is replaced by the next
    clip of its target's order (``task_of(clip, target)``) until none fails or the clips run
    out. Counts and failures go to ``report``.

    Returns:
        ``(tasks, done)``: every task planned, and ``{output path: source emotion used}`` of
        the conversions this run made.
    """
    planned: list[Task] = []
    done: dict[str, str] = {}
    batch = tasks
    while batch:
        todo, redone = pending_tasks(batch)
        report.redone.extend(redone)
        report.reused += len(batch) - len(todo)
        failed = []
        for task, (ok, detail) in zip(todo, run(todo), strict=True):
            if ok:
                done[task.out] = detail
            else:
                report.failures.append((task.utt.path, detail))
                failed.append(task.target)
        planned.extend(batch)
        batch = [task_of(u, t) for u, t in picker.replace(failed)] if picker else []
    report.converted = len(done)
    return planned, done
