"""Corpus catalogs: turn a corpus folder into a :class:`~emovc.data.manifest.Manifest`.

Example::

    from emovc.data.catalogs import catalog_corpus
    m = catalog_corpus("/data/ravdess16k")   # auto-detects the layout
    m.counts("emotion")["angry"]             # 160

Supported layouts are listed in :data:`CATALOGS` (``ravdess``, ``esd``, ``cremad``, ``tess``,
``emovdb``, ``savee``, ``vctk``, ``librispeech``, ``libritts``, ``ljspeech``, ``folders``,
``speakers``; the last three are for your own recordings). Files a catalog
cannot use (unknown emotion, song takes, mic2 copies, unreadable headers, ...) are never dropped
silently: :func:`scan_corpus` returns them in a :class:`ScanLog` and :func:`catalog_corpus`
emits one :class:`CatalogWarning` with counts per reason. Emotion folders whose names emovc
does not know read as speaker folders (the ``speakers`` layout, no emotion labels): names
that look like misspelt emotions (``hapy/``, ``saad/``) get one warning when the layout is
detected, and :func:`unlabelled_hint` says it to the commands that need emotion labels.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from emovc.audio import audio_info
from emovc.data.catalogs import (
    cremad,
    emovdb,
    esd,
    folders,
    librispeech,
    libritts,
    ljspeech,
    ravdess,
    savee,
    speakers,
    tess,
    vctk,
)
from emovc.data.catalogs.base import (
    Catalog,
    Probe,
    ScanLog,
    is_augment_output,
    iter_audio,
    make_probe,
    unread_audio,
)
from emovc.data.emotions import EMOTIONS
from emovc.data.manifest import Manifest, Utterance
from emovc.errors import AudioError, EmovcError, EmovcWarning, choice_error

CATALOGS: dict[str, Catalog] = {
    m.CATALOG.name: m.CATALOG
    for m in (ravdess, esd, cremad, tess, emovdb, savee, vctk, librispeech, libritts,
              ljspeech, folders, speakers)
}
DETECT_THRESHOLD = 0.5  # share of sampled files that must fit a layout


class CatalogWarning(EmovcWarning):
    """Some files of a corpus folder were left out of its manifest."""


def _check_root(root: str | os.PathLike) -> Path:
    p = Path(root).expanduser()
    if not p.exists():
        raise EmovcError(f"corpus folder not found: {p}")
    if not p.is_dir():
        raise EmovcError(f"expected a corpus folder, got a file: {p}")
    return p.resolve()


def _layouts() -> str:
    return "; ".join(c.layout for c in CATALOGS.values())


def detect_corpus(root: str | os.PathLike) -> str:
    """Name of the catalog whose layout fits ``root`` best.

    Raises:
        EmovcError: missing/empty folder or no layout fits; the message lists the layouts.
    """
    probe = make_probe(_check_root(root))
    return _detect(probe)


def corpus_layout(corpus: str, root: str | os.PathLike) -> str:
    """The catalog a corpus named ``corpus`` (a catalog name or ``"auto"``) at ``root`` is
    read with: ``"auto"`` resolved to the layout :func:`detect_corpus` finds, so that ``-c
    ravdess`` and ``auto`` name one corpus; ``corpus`` itself when ``root`` is not a folder
    (an augment manifest) or no layout is found (reading the corpus then says why)."""
    if corpus != "auto" or not Path(root).is_dir():
        return corpus
    try:
        return detect_corpus(root)
    except EmovcError:
        return corpus


def _detect(probe: Probe) -> str:
    if not probe.audio:
        raise EmovcError(f"no audio files under {probe.root}")
    scores = {name: cat.detect(probe) for name, cat in CATALOGS.items()}
    best = max(scores, key=lambda n: scores[n])
    if scores[best] < DETECT_THRESHOLD:
        raise EmovcError(f"unknown corpus layout in {probe.root}; supported: {_layouts()} "
                         "(emotion folders with names emovc does not know? --corpus folders "
                         "lists them as skipped; speaker folders beside other files? "
                         "--corpus speakers)")
    return best


def get_catalog(name: str) -> Catalog:
    """The catalog called ``name`` (raises ConfigError listing the valid names)."""
    try:
        return CATALOGS[name]
    except KeyError:
        raise choice_error("corpus", name, ["auto", *CATALOGS]) from None


def scan_corpus(root: str | os.PathLike, corpus: str = "auto", *,
                workers: int = 8) -> tuple[Manifest, ScanLog]:
    """Catalog ``root`` and read every file's duration from its header.

    Args:
        root: corpus folder.
        corpus: catalog name or ``"auto"`` (see :func:`detect_corpus`).
        workers: threads reading audio headers (I/O bound).

    Returns:
        ``(manifest, log)``; the log lists skipped files by reason, among them the clips of
        an ``emovc augment`` output inside ``root`` (converted clips named after their
        sources: catalogued, they would get the source's emotion).

    Raises:
        EmovcError: bad folder, an ``emovc augment`` output or a folder inside one, unknown
            layout or corpus name, or no usable utterance.
    """
    path = _check_root(root)
    _refuse_augment_output(path)
    log = ScanLog(root=str(path))
    augmented = unread_audio(path, log)  # augment outputs inside: not looked into
    if corpus == "auto":
        probe = make_probe(path, exclude=augmented)
        if augmented and not probe.audio:
            raise EmovcError(f"{path} holds no corpus clips besides the `emovc augment` "
                             f"output {augmented[0]} (converted clips: their labels are in "
                             f"{augmented[0] / 'manifest.csv'}, which emovc ser train takes)")
        corpus = _detect(probe)
        if corpus == speakers.CATALOG.name:
            _warn_lookalikes(probe)
    cat = get_catalog(corpus)
    found = list(cat.scan(path, log))  # the scans do not look into augment outputs
    if augmented:
        _leave_out_augmented(log, augmented)
    if not found and not log.skipped:
        raise EmovcError(f"no audio files under {path}")
    with ThreadPoolExecutor(max(1, workers)) as pool:
        durations = list(pool.map(_duration, (u.path for u in found)))
    kept: dict[str, Utterance] = {}
    for utt, dur in zip(found, durations, strict=True):
        if dur is None:
            log.skip("unreadable audio header", utt.path)
        elif utt.utt_id in kept:
            log.skip("duplicate utterance id (same clip in two formats?)", utt.path)
        else:
            kept[utt.utt_id] = replace(utt, duration=dur)
    if not kept:
        detail = "; ".join(log.summary(1))
        raise EmovcError(f"no usable {corpus} utterances under {path} ({detail})")
    return Manifest(kept.values()), log


#: the emotion folder names, as the hints of this module say them
EMOTION_NAMES = (f"{', '.join(EMOTIONS[:-1])} or {EMOTIONS[-1]} (or an alias such as anger or "
                 "happiness)")


def _warn_lookalikes(probe: Probe) -> None:
    """One :class:`~emovc.errors.EmovcWarning` when the folders of a corpus detected as the
    ``speakers`` layout look like misspelt emotions (:func:`speakers.emotion_lookalikes`)."""
    found = speakers.emotion_lookalikes(probe)
    if found:
        names = ", ".join(f"{n!r} ({e}?)" for n, e in found.items())
        warnings.warn(f"folders {names} of {probe.root} look like misspelt emotions but are "
                      "read as speakers (the speakers layout, no emotion labels): emotion "
                      f"folders are named {EMOTION_NAMES}; rename them, or pass --corpus "
                      "speakers if they are speakers", EmovcWarning, stacklevel=3)


def unlabelled_hint(manifest: Manifest, option: bool = True) -> str:
    """What a command that needs emotion labels adds to its message about a corpus that has
    none because its folders were read as speakers (the ``speakers`` layout: emotion folders
    of names emovc does not know, misspelt or of another language): ``"; its folders (a, b)
    were read as speakers ..."``, naming the emotion folder names and, with ``option`` (the
    command takes ``--corpus``), ``--corpus folders``; ``""`` for any other corpus."""
    utts = list(manifest)
    if not utts or any(u.emotion for u in utts) or any(u.corpus != "speakers" for u in utts):
        return ""
    names = sorted({u.speaker for u in utts})
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    force = ", and --corpus folders reads only those, listing the others" if option else ""
    return (f"; its folders ({shown}) were read as speakers (the speakers layout, no emotion "
            "labels): emotion folders, <emotion>/ or <speaker>/<emotion>/, are named "
            f"{EMOTION_NAMES}{force}")


def _refuse_augment_output(path: Path) -> None:
    """Refuse an ``emovc augment`` output folder, or a folder inside one, as a corpus."""
    for folder in (path, *path.parents):
        if not is_augment_output(folder):
            continue
        what = "is" if folder == path else f"lies inside {folder}, which is"
        raise EmovcError(f"{path} {what} an `emovc augment` output: its clips keep their "
                         "source files' names, so a corpus scan would label them with the "
                         f"source emotion; its labels are in {folder / 'manifest.csv'} "
                         "(emovc ser train takes it; Python: Manifest.from_csv)")


def _leave_out_augmented(log: ScanLog, augmented: list[Path]) -> None:
    """Add the audio files inside the ``augment`` outputs ``augmented``, which the catalogs'
    scans do not look into, to ``log`` under one reason per output (in path order)."""

    def reason(d: Path) -> str:
        return (f"inside the `emovc augment` output {d} (converted clips named after their "
                f"sources; their labels are in its manifest.csv)")

    inside = [(d, str(p)) for d in augmented for p in iter_audio(d)]
    for d, p in sorted(inside, key=lambda m: m[1]):
        log.skip(reason(d), p)


def catalog_corpus(root: str | os.PathLike, corpus: str = "auto") -> Manifest:
    """Like :func:`scan_corpus` but returns only the manifest, warning about skipped files."""
    manifest, log = scan_corpus(root, corpus)
    if log.skipped:
        warnings.warn(f"{log.n_skipped} file(s) left out of {root}: " + "; ".join(log.summary()),
                      CatalogWarning, stacklevel=2)
    return manifest


def _duration(path: str) -> float | None:
    try:
        return audio_info(path).duration
    except AudioError:
        return None


__all__ = [
    "CATALOGS", "Catalog", "CatalogWarning", "ScanLog", "catalog_corpus", "detect_corpus",
    "get_catalog", "scan_corpus", "unlabelled_hint",
]
