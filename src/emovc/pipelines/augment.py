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

import csv
import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from emovc.audio import audio_info
from emovc.audio.io import read_comment, whole_audio_info
from emovc.data.catalogs import scan_corpus
from emovc.data.catalogs.ravdess import ravdess_reference
from emovc.data.emotions import EMOTIONS, check_model_emotion, normalize_emotion
from emovc.data.manifest import COLUMNS, Manifest, Utterance
from emovc.errors import (
    ConfigError,
    EmovcError,
    EmovcWarning,
    call_recording_warnings,
    choice_error,
    reissue_warnings,
)
from emovc.fileio import atomic_output, remove_stale_temporaries_in, write_atomic
from emovc.models.conversion.converters import check_intensity
from emovc.pipelines.run_table import TABLE, write_table

BACKENDS = ("local", "ray")
EXTRA_COLUMNS = ("synthetic", "source_utt_id", "source_path", "source_emotion", "converter",
                 "conversion_intensity")
SIGNATURE = "augment.json"  # converter + intensity of a folder's outputs


@dataclass(frozen=True)
class Task:
    """One conversion: ``utt`` → ``target`` written to ``out``."""

    utt: Utterance
    target: str
    out: str


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
    tasks = []
    for target in targets:
        for utt in manifest:
            if skip_same and utt.emotion == target:
                continue
            rel = _relative(Path(utt.path), root)
            out = out_dir / target / rel.with_suffix(".wav")
            tasks.append(Task(utt, target, str(out)))
    return tasks


def _relative(path: Path, root: Path) -> Path:
    # abspath, not resolve(): a symlinked file inside the root (a corpus "view") keeps its place
    absolute = Path(os.path.abspath(path))
    for base in (root.resolve(), Path(os.path.abspath(root))):
        try:
            return absolute.relative_to(base)
        except ValueError:
            continue
    return Path(path.name)  # outside the root (a manifest may point anywhere): keep the name


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
                   speakers: Iterable[str] | None = None) -> AugmentReport:
    """Convert every utterance of the corpus at ``root`` into each of ``targets``.

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

    Returns:
        an :class:`AugmentReport`; failures are counted and listed, never silently dropped.

    Raises:
        ConfigError: an unknown backend, emotion or speaker, or a selection that leaves no
            clip to convert (before any output is written).
        EmovcError: see :func:`_check_signature` (a folder of other conversions or clips).
    """
    if backend not in BACKENDS:
        raise choice_error("backend", backend, BACKENDS)
    intensity = check_intensity(intensity)  # before any work, and before augment.json
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be at least 1 (none or 0 on the command line: all "
                          f"cores), got {workers}")
    if backend == "ray":
        _import_ray()  # fail before any work when Ray is missing
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
    _check_signature(out, model, intensity, source, corpus=root,
                     clips=clips_fingerprint(manifest, root))
    report = AugmentReport(out_dir=out)
    report.failures.extend((p, reason) for reason, paths in log.skipped.items() for p in paths)
    # a labelled clip in an emotion the model does not convert from (cyclegan-calm-angry and
    # a neutral take) is not converted, but it is a good real clip: listed, and kept
    sources = set(converter.source_emotions)
    cannot = [u for u in selected if u.emotion and u.emotion not in sources]
    report.notes.extend((u.path, f"{model} converts from {', '.join(converter.source_emotions)}"
                         f" only, not {u.emotion} (kept as a real clip)") for u in cannot)
    skip = {u.utt_id for u in cannot}
    convert = Manifest([u for u in selected if u.utt_id not in skip])
    if source is None and converter.detects_source:
        _warn_guessed_sources(convert)
    tasks = plan_tasks(convert, root, out, tgts)
    todo, report.redone = pending_tasks(tasks)
    report.reused = len(tasks) - len(todo)
    runner = _run_ray if backend == "ray" else _run_local
    results = runner(todo, model, intensity, workers or os.cpu_count() or 1, progress)
    done: dict[str, str] = {}
    for task, (ok, detail) in zip(todo, results, strict=True):
        if ok:
            done[task.out] = detail
        else:
            report.failures.append((task.utt.path, detail))
    report.converted = len(done)
    rows = _manifest_rows(out, manifest, tasks, done, model, intensity,
                          unusable={p for p, _ in report.failures}, left_out=report.left_out)
    report.manifest = _atomic_csv(out / "manifest.csv", MANIFEST_HEADER, rows)
    report.table = write_conversions_table(out, rows)
    report.counts = emotion_counts(rows)
    _write_failures(out, report.failures + report.notes + report.left_out)
    report.temporaries_removed = _remove_stale_temporaries(tasks)
    return report


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
                          EmovcWarning, stacklevel=3)
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


def _warn_guessed_sources(manifest: Manifest) -> None:
    """One :class:`~emovc.errors.EmovcWarning` when utterances without an emotion label will
    be converted from an emotion the recogniser guesses."""
    n = sum(1 for u in manifest if not u.emotion)
    if n:
        warnings.warn(
            f"{n} clip(s) have no emotion label: the emotion each is converted from is guessed "
            "by the emotion recogniser, which was trained on acted RAVDESS speech and is "
            "unmeasured on other corpora (one clip can get a different guess per target); "
            "pass --from EMOTION (e.g. --from neutral for read speech) when you know it",
            EmovcWarning, stacklevel=3)


def pending_tasks(tasks: list[Task]) -> tuple[list[Task], list[tuple[str, str]]]:
    """The tasks to run: those without an output, and those whose output is damaged
    (:func:`output_damage`), which is deleted (it could not be used, and the conversion does
    not overwrite) and named once in an :class:`~emovc.errors.EmovcWarning`.

    Returns:
        ``(todo, redone)``: the tasks to run, and ``(output path, what was wrong)`` of the
        damaged outputs among them.
    """
    todo, redone = [], []
    for t in tasks:
        path = Path(t.out)
        if not path.exists():
            todo.append(t)
            continue
        why = output_damage(path, t.utt.duration)
        if why:
            path.unlink()
            todo.append(t)
            redone.append((t.out, why))
    if redone:
        warnings.warn(f"{len(redone)} existing output(s) are damaged and are converted again, "
                      f"e.g. {redone[0][1]}", EmovcWarning, stacklevel=3)
    return todo, redone


# an output shorter than this share of its source is not a whole conversion: the tempo
# changes of the conversion keep 0.78-1.21 of the source's length (the 416 RAVDESS conversions
# of 8 targets at intensity 1 of the audit of 2026-12-01)
MIN_LENGTH_RATIO = 0.5


def output_damage(path: Path, source_seconds: float = 0.0) -> str:
    """What is wrong with the existing output ``path``, in one line naming it (``""``:
    nothing): unreadable, empty or cut short (:func:`~emovc.audio.io.whole_audio_info`), or
    under :data:`MIN_LENGTH_RATIO` of its source's ``source_seconds`` (0: unknown, not
    checked)."""
    try:
        info = whole_audio_info(path)
    except EmovcError as exc:
        return str(exc)
    if source_seconds > 0 and info.duration < MIN_LENGTH_RATIO * source_seconds:
        return (f"{path}: {info.duration:.2f} s long, its source {source_seconds:.2f} s: not a "
                "whole conversion")
    return ""


def clips_fingerprint(manifest: Manifest, root: Path) -> dict:
    """``{"count", "sha256"}`` of the corpus's clips: the SHA-256 of their sorted paths
    relative to ``root`` (as the outputs mirror them) with their sizes in bytes — a corpus
    folder moved or copied with the same files has the same one, without hashing the audio."""
    lines = sorted(f"{_relative(Path(u.path), root).as_posix()}\t{os.stat(u.path).st_size}\n"
                   for u in manifest)
    digest = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
    return {"count": len(lines), "sha256": digest}


def _check_signature(out: Path, model: str, intensity: float, source: str | None = None,
                     corpus: Path | None = None, clips: dict | None = None) -> None:
    """Record (or, when resuming, compare) the converter, intensity, conversion pipeline
    version, unlabelled-source emotion and corpus of ``out``'s outputs: its folder and
    ``clips`` (:func:`clips_fingerprint`). A corpus in another folder is accepted when its
    clips are the same (the folder was moved or copied); the record then names the new one.

    Raises:
        EmovcError: ``out`` already holds outputs made with any of them different (a folder
            recorded before the corpus was: from any corpus; a corpus in another folder with
            other clips, or compared with a record without its clips), or is a folder with
            files but not an augment folder (its ``manifest.csv`` would be replaced).
    """
    from emovc.pipelines.conversion import KIND_PREFIX, PIPELINE_VERSION
    from emovc.pretrained.registry import resolve, sha256_of

    sig = {"model": str(model), "sha256": sha256_of(resolve(model, KIND_PREFIX)),
           "intensity": float(intensity), "pipeline": PIPELINE_VERSION,
           "source": source or "", "corpus": str(corpus.resolve()) if corpus else ""}
    if clips is not None:
        sig["clips"] = clips
    path = out / SIGNATURE
    if not path.is_file() and out.is_dir() and any(out.iterdir()):
        raise EmovcError(f"{out} holds files but is not an emovc augment folder (no "
                         f"{SIGNATURE}); its manifest.csv and failures.csv would be replaced: "
                         "choose a new or empty --out folder")
    if path.is_file():
        old = json.loads(path.read_text())
        old.setdefault("pipeline", 1)  # folders written before the version was recorded
        old.setdefault("source", "")
        if any(old.get(k) != sig[k] for k in ("sha256", "intensity", "pipeline", "source")):
            raise EmovcError(
                f"{out} holds conversions made with {old.get('model')!r} (sha256 "
                f"{str(old.get('sha256'))[:12]}, intensity {old.get('intensity')}, conversion "
                f"pipeline v{old['pipeline']}, unlabelled source "
                f"{old['source'] or 'detected'}), not {model!r} (sha256 {sig['sha256'][:12]}, "
                f"intensity {intensity}, pipeline v{PIPELINE_VERSION}, unlabelled source "
                f"{source or 'detected'}); use another --out folder or delete that one")
        if old.get("corpus") and sig["corpus"] and old["corpus"] != sig["corpus"]:
            _check_moved_corpus(out, old, sig)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(sig, indent=1) + "\n")


def _check_moved_corpus(out: Path, old: dict, sig: dict) -> None:
    """Accept the corpus folder ``sig["corpus"]`` for ``out``, made from ``old["corpus"]``,
    when its clips are the same (:func:`clips_fingerprint`).

    Raises:
        EmovcError: other clips, or a record without its clips (an earlier emovc's).
    """
    was, now = old.get("clips"), sig.get("clips")
    if isinstance(was, dict) and now is not None and was.get("sha256") == now["sha256"]:
        return
    if isinstance(was, dict):
        why = (f"the {was.get('count')} clips it was made from and the "
               f"{now['count'] if now else '?'} clips there differ in their relative paths "
               f"or sizes, and its clips would be listed as this corpus's: run from "
               f"{old['corpus']} or use another --out folder")
    else:
        why = ("the folder does not record its clips (an earlier emovc made it), so a moved "
               "copy of that corpus cannot be told from another: run once from "
               f"{old['corpus']} (which records them; a moved copy then resumes) or use "
               "another --out folder")
    raise EmovcError(f"{out} holds conversions of the corpus {old['corpus']}, not "
                     f"{sig['corpus']}: {why}")


# ------------------------------------------------------------------ execution backends
_WORKER: dict = {}


def _init_worker(model: str) -> None:
    import torch

    from emovc.pipelines.conversion import EmotionConverter

    torch.set_num_threads(1)
    converter = EmotionConverter.from_pretrained(model)
    # the conversion as measured in docs/augmentation.md, whatever the model's defaults for
    # `emovc convert`: the emotion's full change of mean pitch and the envelope change as
    # converted — training data for a recogniser wants the emotion's cues
    converter.settings = converter.settings.with_overrides(
        pitch_level=1.0, envelope_smoothing_ms=0.0, envelope_gain=1.0, renderer="world",
        voice_quality=0.0)
    _WORKER["converter"] = converter


def convert_task(task: Task, intensity: float) -> tuple[bool, str]:
    """Run one task with the worker's converter (:func:`_init_worker`: pitch level 1, no
    envelope smoothing, envelope gain 1, WORLD renderer); returns ``(ok, source emotion used |
    error message)``."""
    try:
        _, src = _WORKER["converter"].convert_file(task.utt.path, task.out, task.target,
                                                   source=task.utt.emotion or None,
                                                   intensity=intensity)
    except EmovcError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not abort a corpus-wide run
        return False, f"{type(exc).__name__}: {exc}"
    return True, src or ""


def _run_local(tasks: list[Task], model: str, intensity: float, workers: int,
               progress: bool) -> list[tuple[bool, str]]:
    if not tasks:
        return []
    bar = tqdm(total=len(tasks), desc="augment", unit="file", disable=not progress)
    workers = min(workers, len(tasks))  # no idle processes loading the model for nothing
    if workers <= 1:
        _init_worker(model)
        results = []
        for t in tasks:
            results.append(convert_task(t, intensity))
            bar.update()
        bar.close()
        return results
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(model,)) as pool:
        futures, results = [], []
        try:
            futures.extend(pool.submit(call_recording_warnings, convert_task, t, intensity)
                           for t in tasks)
            for f in futures:  # in order, so results line up with tasks
                result, records = f.result()
                reissue_warnings(records)  # shown here, in the caller's format
                results.append(result)
                bar.update()
        except BaseException:  # Ctrl-C: the queued conversions never start (resume redoes them)
            for f in futures:
                f.cancel()
            raise
    bar.close()
    return results


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("backend 'ray' needs Ray: pip install 'emovc[ray]' "
                          "(or use --backend local)") from None
    return ray


def _run_ray(tasks: list[Task], model: str, intensity: float, workers: int,
             progress: bool) -> list[tuple[bool, str]]:
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True,
                 include_dashboard=False, log_to_driver=False)

    @ray.remote(num_cpus=1)
    class _Converter:  # one loaded model per actor, reused for many files
        def __init__(self) -> None:
            _init_worker(model)

        def run(self, task: Task) -> tuple[bool, str]:
            return convert_task(task, intensity)

    n_actors = max(1, min(workers, int(ray.available_resources().get("CPU", 1))))
    pool = ray.util.ActorPool([_Converter.remote() for _ in range(n_actors)])
    bar = tqdm(total=len(tasks), desc="augment (ray)", unit="file", disable=not progress)
    results = []
    for res in pool.map(lambda actor, t: actor.run.remote(t), tasks):
        results.append(res)
        bar.update()
    bar.close()
    return results


# ------------------------------------------------------------------ outputs
def _atomic_csv(path: Path, header: tuple[str, ...], rows: Iterable[dict]) -> Path:
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
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
    for base in (out.resolve(), Path(os.path.abspath(out))):
        if p.is_relative_to(base):
            return p.relative_to(base).as_posix()
    if target:
        parts = p.parts
        for i, part in enumerate(parts):
            if part == target and (out.joinpath(*parts[i:])).is_file():
                return Path(*parts[i:]).as_posix()
    return path


def _earlier_rows(out: Path) -> dict[str, dict]:
    """``{output path (:func:`_out_key`): row}`` of the synthetic rows of an earlier
    ``manifest.csv`` in ``out`` (``{}`` without one): outputs reused on a resume keep the
    source emotion detected when they were made, and those of targets not asked for this
    time stay listed — also after ``out`` was moved or renamed."""
    path = out / "manifest.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {_out_key(out, r["path"], r.get("emotion", "")): r for r in csv.DictReader(f)
                if r.get("synthetic") == "1" and r.get("path")}


MANIFEST_HEADER = (*COLUMNS, *EXTRA_COLUMNS)


def _write_manifest(out: Path, manifest: Manifest, tasks: list[Task], done: dict[str, str],
                    model: str, unusable: set[str] = frozenset(), intensity: float = 1.0,
                    ) -> Path:
    """Write ``OUT/manifest.csv`` (:func:`_manifest_rows`); returns its path."""
    rows = _manifest_rows(out, manifest, tasks, done, model, intensity, unusable)
    return _atomic_csv(out / "manifest.csv", MANIFEST_HEADER, rows)


def _manifest_rows(out: Path, manifest: Manifest, tasks: list[Task], done: dict[str, str],
                   model: str, intensity: float, unusable: set[str] = frozenset(),
                   left_out: list[tuple[str, str]] | None = None) -> list[dict]:
    """The rows of ``OUT/manifest.csv``: the real utterances, except those in ``unusable``
    (failed paths) of which no conversion exists — a clip every conversion failed on (silent,
    unreadable) is no use to a recogniser either — then every converted file present, its
    ``path`` relative to ``out`` (so a moved or renamed folder still lists its own files;
    ``Manifest.from_csv`` and :func:`read_augmented_manifest` resolve it).

    A converted row's ``intensity`` is empty: the source take's label (RAVDESS's strong
    angry) says nothing about the converted clip; ``conversion_intensity`` holds the
    conversion's ``intensity`` (one per folder, :func:`_check_signature`). Rows of an
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


def _remove_stale_temporaries(tasks: list[Task]) -> int:
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


def _write_failures(out: Path, failures: list[tuple[str, str]]) -> None:
    rows = [{"path": p, "reason": r} for p, r in failures]
    _atomic_csv(out / "failures.csv", ("path", "reason"), rows)


def read_augmented_manifest(path: str | os.PathLike) -> list[dict[str, str]]:
    """Rows of an augmentation ``manifest.csv`` (real and synthetic items), every ``path``
    absolute (the file stores the converted clips' relative to its folder)."""
    from emovc.data.manifest import resolve_path

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r.get("path"):
            r["path"] = resolve_path(r["path"], Path(path).parent)
    return rows
