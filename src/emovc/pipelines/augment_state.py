"""The state of an ``emovc augment`` output folder between runs: what it was made with
(``augment.json``: converter, intensity, conversion pipeline, corpus and a fingerprint of its
clips), and which planned conversions a resume still has to run (missing or damaged outputs).
Used by :mod:`emovc.pipelines.augment`."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from emovc.audio.io import whole_audio_info
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import EmovcError, EmovcWarning
from emovc.fileio import relative_inside, write_atomic

SIGNATURE = "augment.json"  # converter + intensity of a folder's outputs


@dataclass(frozen=True)
class Task:
    """One conversion: ``utt`` → ``target`` written to ``out``."""

    utt: Utterance
    target: str
    out: str


def relative_to_root(path: Path, root: Path) -> Path:
    """``path`` relative to the corpus ``root`` (its name alone when it lies outside)."""
    # abspath, not resolve(): a symlinked file inside the root (a corpus "view") keeps its place
    rel = relative_inside(os.path.abspath(path), root.resolve(), os.path.abspath(root))
    # outside the root (a manifest may point anywhere): the name alone, as an output is
    # written to OUT/<target>/<this> and the fingerprint lists it so (unlike the other
    # helpers on relative_inside, which keep such a path whole)
    return Path(path.name) if rel is None else rel


def pending_tasks(tasks: list[Task]) -> tuple[list[Task], list[tuple[str, str]]]:
    """The tasks to run: those without an output, and those whose output is damaged
    (:func:`output_damage`), which is deleted (it could not be used, and the conversion does
    not overwrite) and named once in an :class:`~emovc.errors.EmovcWarning`.

    Returns:
        ``(todo, redone)``: the tasks to run, and ``(output path, what was wrong)`` of the
        damaged outputs among them.

    Raises:
        EmovcError: an output path holds a folder (or anything but a file), which is not
            deleted.
    """
    todo, redone = [], []
    for t in tasks:
        path = Path(t.out)
        if not path.exists():
            todo.append(t)
            continue
        if not path.is_file():  # was IsADirectoryError from unlink, after "damaged"
            raise EmovcError(f"{path} is a folder (or not a file), where the conversion of "
                             f"{t.utt.path} to {t.target} is written: move it away")
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
    folder moved or copied with the same files has the same one, without hashing the audio.

    Raises:
        EmovcError: a clip is gone (deleted or moved since the corpus was scanned) or cannot
            be read.
    """
    lines = sorted(f"{relative_to_root(Path(u.path), root).as_posix()}\t{_size(u.path)}\n"
                   for u in manifest)
    digest = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
    return {"count": len(lines), "sha256": digest}


def _size(path: str) -> int:
    """Size in bytes of the corpus clip ``path``."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        raise EmovcError(f"corpus clip {path} is gone (deleted or moved since the corpus was "
                         "scanned): run again") from None
    except OSError as exc:
        raise EmovcError(f"cannot read corpus clip {path}: {exc.strerror or exc}") from None


def check_signature(out: Path, model: str, intensity: float, source: str | None = None,
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
        old = _read_signature(path, out)
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


def _read_signature(path: Path, out: Path) -> dict:
    """The record ``path`` (``out/augment.json``) as written by :func:`check_signature`.

    Raises:
        EmovcError: not a JSON object (a damaged or hand-edited file).
    """
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        old = exc
    if not isinstance(old, dict):
        why = f"not JSON: {old}" if isinstance(old, ValueError) else "not a JSON object"
        raise EmovcError(f"{path} is damaged ({why}), so what {out}'s conversions were made "
                         "with is unknown: use another --out folder or delete that one")
    return old


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
