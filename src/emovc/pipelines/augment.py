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
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from emovc.data.catalogs import ScanLog, scan_corpus
from emovc.data.emotions import EMOTIONS, check_model_emotion, normalize_emotion
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import ConfigError, EmovcError, EmovcWarning, choice_error
from emovc.models.conversion.converters import check_intensity
from emovc.pipelines.augment_balance import (
    Balance,
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


@dataclass
class AugmentReport:
    """What an augmentation run did."""

    out_dir: Path
    converted: int = 0
    reused: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    # (path, reason) of good clips not converted (the model cannot start from their emotion)
    notes: list[tuple[str, str]] = field(default_factory=list)
    # (output path, what was wrong) of existing outputs found damaged and converted again
    redone: list[tuple[str, str]] = field(default_factory=list)
    # (output path, reason) of damaged outputs of targets not asked this time: not listed
    left_out: list[tuple[str, str]] = field(default_factory=list)
    manifest: Path | None = None
    table: Path | None = None  # conversions.csv
    # the manifest's clips per emotion: {emotion ("" unlabelled): (real, synthetic)}
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    temporaries_removed: int = 0  # stale temporary files of killed runs deleted
    balance: Balance | None = None  # what a balanced run aimed at (None: every clip converted)

    @property
    def failed_inputs(self) -> int:
        """Number of distinct input files with at least one failure."""
        return len({path for path, _ in self.failures})

    def summary(self) -> str:
        """Counts of the run, then the manifest's real + synthetic clips per emotion."""
        kept = (f"{len(self.notes)} real clip(s) in emotions the model does not convert from "
                "(listed in failures.csv), " if self.notes else "")
        if self.left_out:
            kept += (f"{len(self.left_out)} damaged output(s) of other targets left out "
                     "(listed in failures.csv), ")
        redone = (f" ({len(self.redone)} of them damaged outputs converted again)"
                  if self.redone else "")
        lines = [f"{self.converted} converted{redone}, {self.reused} already present, "
                 f"{len(self.failures)} failed ({self.failed_inputs} input file(s)); {kept}"
                 f"manifest: {self.manifest}"]
        if self.temporaries_removed:
            lines[0] += (f"; {self.temporaries_removed} stale temporary file(s) of a killed run "
                         "removed")
        if self.counts:
            lines.append(balance_line(self.counts))
        if self.balance is not None:
            lines.append(self.balance.line(self.counts))
        return "\n".join(lines)


def balance_line(counts: dict[str, tuple[int, int]]) -> str:
    """``"clips per emotion in the manifest, real + synthetic: neutral 4+0, happy 0+10, ..."``
    (canonical order, unlabelled clips last), naming the emotions with only synthetic clips
    and those with over :data:`IMBALANCE` times more synthetic than real ones: a recogniser
    trained on the manifest as it is learns them mostly from converted speech."""
    order = [e for e in (*EMOTIONS, "") if e in counts]
    parts = [f"{e or '(unlabelled)'} {counts[e][0]}+{counts[e][1]}" for e in order]
    line = "clips per emotion in the manifest, real + synthetic: " + ", ".join(parts)
    only = [e for e in order if e and counts[e][1] and not counts[e][0]]
    if only:
        line += f"; {', '.join(only)}: synthetic clips only"
    ratios = {e: counts[e][1] / counts[e][0] for e in order if e and counts[e][0]}
    over = [e for e, r in ratios.items() if r > IMBALANCE]
    if over:
        line += (f"; {', '.join(over)}: more synthetic than real clips (up to "
                 f"{max(ratios[e] for e in over):.1f}x)")
    return line


IMBALANCE = 2.0  # synthetic per real clips of an emotion beyond which the summary names it


def plan_tasks(manifest: Manifest, root: Path, out_dir: Path, targets: Iterable[str],
               skip_same: bool = True) -> list[Task]:
    """One task per (utterance, target); an utterance already in ``target`` is skipped."""
    return [make_task(utt, target, root, out_dir) for target in targets for utt in manifest
            if not (skip_same and utt.emotion == target)]


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
        EmovcError: see :func:`check_signature` (a folder of other conversions or clips).
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
                                              for e in _items(only_from)])
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
        _warn_guessed_sources({t.utt.utt_id: t.utt for t in tasks}.values())
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


def select_sources(manifest: Manifest, emotions: Iterable[str] | None,
                   speakers: Iterable[str] | None) -> Manifest:
    """The utterances of ``manifest`` to convert: those labelled with one of ``emotions``
    (canonical names; ``None``: any, unlabelled too) and spoken by one of ``speakers``
    (``None``: any). Unlabelled utterances left out by ``emotions`` get one
    :class:`~emovc.errors.EmovcWarning`.

    Raises:
        ConfigError: a speaker the corpus does not have, or nothing left to convert.
    """
    chosen = manifest
    if speakers is not None:
        spk = [str(s).strip() for s in _items(speakers) if str(s).strip()]
        known = manifest.speakers()
        missing = [s for s in spk if s not in known]
        if missing or not spk:
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            what = f"speaker {missing[0]!r} is not in the corpus" if missing else "no speaker given"
            raise ConfigError(f"{what}; the corpus's speakers: {shown}")
        chosen = chosen.filter(speakers=spk)
    if emotions is not None:
        emos = list(dict.fromkeys(emotions))
        unlabelled = sum(1 for u in chosen if not u.emotion)
        chosen = chosen.filter(emotions=emos)
        if unlabelled:
            warnings.warn(f"{unlabelled} clip(s) have no emotion label and are not converted: "
                          f"--only-from {','.join(emos)} selects clips by their label (pass "
                          "--from EMOTION to say what the unlabelled clips are)",
                          EmovcWarning, stacklevel=4)  # augment_corpus's caller
    if not len(chosen):
        n = manifest.counts("emotion")
        have = ", ".join(f"{e or '(unlabelled)'} {n[e]}" for e in (*EMOTIONS, "") if e in n)
        asked = " and ".join(x for x in (
            f"emotion {', '.join(emos)}" if emotions is not None else "",
            f"speaker {', '.join(spk)}" if speakers is not None else "") if x)
        raise ConfigError(f"no clip to convert: none of the corpus's {len(manifest)} clips is "
                          f"of the source {asked} (its clips per emotion: {have})")
    return chosen


def _items(values: Iterable[str]) -> list[str]:
    """One value or several as a list (a bare string is one value, not its characters)."""
    return [values] if isinstance(values, str) else list(values)


def _warn_guessed_sources(utterances: Iterable[Utterance]) -> None:
    """One :class:`~emovc.errors.EmovcWarning` when utterances without an emotion label will
    be converted from an emotion the recogniser guesses."""
    n = sum(1 for u in utterances if not u.emotion)
    if n:
        warnings.warn(
            f"{n} clip(s) have no emotion label: the emotion each is converted from is guessed "
            "by the emotion recogniser, which was trained on acted RAVDESS speech and is "
            "unmeasured on other corpora (one clip can get a different guess per target); "
            "pass --from EMOTION (e.g. --from neutral for read speech) when you know it",
            EmovcWarning, stacklevel=4)  # the caller of augment_corpus
