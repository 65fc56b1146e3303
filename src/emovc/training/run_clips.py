"""The clips a training run reads, recorded in its folder so that a resumed run reads the same
ones.

The converter trainers (stargan, cyclegan, spectrogan) fit what they derive from the corpus
again at every start — the WORLD normaliser and level offsets, SpectroGAN's pooled spectrum
statistics and prosody stage — while a resumed run's networks come from its checkpoint. On a
corpus that changed since, a resumed run would pair networks trained under one set of
statistics with another, and would no longer be the uninterrupted run it continues. The
SV2TTS trainers (synthesizer, vocoder, speaker encoder) draw each step's batch by its index in
the corpus's clip list, from the step number alone: on a corpus with clips added or removed a
resumed run draws other batches, and one with clips edited learns from other audio; the
synthesizer (and a vocoder trained on its GTA mels) also learns each clip's transcript, so
one resumed on edited transcripts would learn two texts of one clip, two datasets mixed.

So a run records the clips it reads in ``RUN_DIR/clips.json`` (written atomically): per split
(``train``, ``val``), each clip's path relative to the corpus folder, the SHA-256 of its bytes
— the idea of the SER checkpoint's fingerprint of its training clips
(:mod:`emovc.training.ser_checkpoint`), kept per clip so that a refusal can name what changed
— and its size and modification time, so that a start re-hashes only the clips whose size or
time changed; for a run that reads transcripts (:attr:`ClipList.texts`), also the SHA-256
of each clip's transcript. A run resumed from a checkpoint must read the same clips: one
added, removed or edited, or one with another transcript, is refused with one line naming
them. Paths are relative and contents hashed, so a corpus folder moved or renamed with the
same files resumes. A run folder of an earlier emovc (no ``clips.json``) resumes unchecked,
with a note, and records its clips from then on; one whose record holds hashes only (version
1) is checked against them; one whose record holds no transcripts (versions 1 and 2) has its
audio checked and its transcripts not — they cannot be, and refusing every such run would
cost its training to catch an edit few make — with a note saying so, and records them from
then on. Only the first process of a multi-device run hashes, checks and writes the record.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from emovc.errors import ConfigError, EmovcWarning
from emovc.fileio import file_sha256, relative_inside, write_atomic

CLIPS_FILE = "clips.json"
# 1: each clip's SHA-256 only; 2: {"sha256", "size", "mtime_ns"}; 3: and "text_sha256" for
# the clips of a run that reads transcripts
VERSION = 3
SHOWN = 3  # clip names a refusal shows per kind of change


@dataclass(frozen=True)
class ClipList:
    """The clips a run reads, per split (``train``, ``val``), in the corpus ``data_dir``;
    ``texts``: the transcript of each clip by its path as listed, for a run that learns them
    (the synthesizer, a GTA vocoder), ``None`` for one that reads audio alone."""

    data_dir: str | os.PathLike
    splits: Mapping[str, Iterable[str | os.PathLike]]
    texts: Mapping[str, str] | None = None


def clip_record(data_dir: str | os.PathLike,
                splits: Mapping[str, Iterable[str | os.PathLike]],
                known: dict | None = None, texts: Mapping[str, str] | None = None) -> dict:
    """The record of the clips a run reads: ``{"version", "data_dir": the corpus folder
    (resolved), "splits": {split: {path relative to data_dir: {"sha256", "size",
    "mtime_ns"}}}}``, each clip's also ``"text_sha256"`` (of its transcript in UTF-8;
    ``""``: none) when ``texts`` (by path as listed) is given. A clip of the same path, size
    and time in record ``known`` (the run's earlier one) keeps its hash; the others are
    hashed."""
    root = Path(data_dir)
    before = known.get("splits", {}) if isinstance(known, dict) else {}
    splits_out = {}
    for name, paths in splits.items():
        was = before.get(name) if isinstance(before.get(name), dict) else {}
        splits_out[name] = {rel: _entry(p, was.get(rel), texts)
                            for rel, p in ((_relative(p, root), p) for p in paths)}
    return {"version": VERSION, "data_dir": str(root.resolve()), "splits": splits_out}


def _entry(path: str | os.PathLike, old: object, texts: Mapping[str, str] | None) -> dict:
    """The record of one clip: its SHA-256 (``old``'s when that has the same size and time),
    and with ``texts`` its transcript's."""
    st = os.stat(path)
    entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    same = (isinstance(old, dict) and isinstance(old.get("sha256"), str)
            and all(old.get(k) == v for k, v in entry.items()))
    entry = {"sha256": old["sha256"] if same else file_sha256(path), **entry}
    if texts is not None:
        text = texts.get(os.fspath(path)) or ""
        entry["text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""
    return entry


def _sha(entry: object) -> object:
    """A clip's hash in a record of any version (1: the hash itself)."""
    return entry.get("sha256") if isinstance(entry, dict) else entry


def _text_sha(entry: object) -> str | None:
    """A clip's transcript hash (``""``: it had none; ``None``: the record holds none)."""
    text = entry.get("text_sha256") if isinstance(entry, dict) else None
    return text if isinstance(text, str) else None


def records_texts(record: dict) -> bool:
    """Whether ``record`` holds the transcripts of its clips (version 3, a run that reads
    them)."""
    return any(_text_sha(e) is not None for split in record.get("splits", {}).values()
               if isinstance(split, dict) for e in split.values())


def _relative(path: str | os.PathLike, root: Path) -> str:
    """``path`` relative to the corpus folder ``root`` (as written, or resolved: catalogs list
    the resolved folder's files), POSIX-style; the path itself when it lies outside."""
    # the clip as listed against the folder as given, then resolved; not made absolute
    # first (as augment's relative_to_root is): these keys are what clips.json records, and a
    # clip outside keeps its whole path, so two such clips of one name stay two
    p = Path(path)
    rel = relative_inside(p, root, root.resolve())
    return (p if rel is None else rel).as_posix()


#: what :func:`describe_changes` calls each kind of change
CHANGE_NAMES = {"added": "added", "removed": "removed", "changed": "changed",
                "retranscribed": "with another transcript"}


def clip_changes(old: dict, new: dict) -> dict[str, list[str]]:
    """The clips ``added``, ``removed``, ``changed`` (other bytes) and ``retranscribed``
    (another transcript: compared where both records hold them) from record ``old`` to
    record ``new``, over all splits, each list sorted (all empty: the same clips)."""
    out: dict[str, list[str]] = {kind: [] for kind in CHANGE_NAMES}
    before, after = old.get("splits", {}), new.get("splits", {})
    for split in sorted(before.keys() | after.keys()):
        was, now = before.get(split, {}), after.get(split, {})
        out["added"] += [k for k in now if k not in was]
        out["removed"] += [k for k in was if k not in now]
        out["changed"] += [k for k in now if k in was and _sha(was[k]) != _sha(now[k])]
        out["retranscribed"] += [k for k in now if k in was and None not in (
            _text_sha(was[k]), _text_sha(now[k])) and _text_sha(was[k]) != _text_sha(now[k])]
    return {kind: sorted(names) for kind, names in out.items()}


def describe_changes(changes: dict[str, list[str]]) -> str:
    """``"2 added: a.wav, b.wav; 1 changed: c.wav; 1 with another transcript: d.wav"`` (at
    most :data:`SHOWN` names each)."""
    parts = []
    for kind, names in changes.items():
        if names:
            shown = ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")
            parts.append(f"{len(names)} {CHANGE_NAMES.get(kind, kind)}: {shown}")
    return "; ".join(parts)


def read_clips(root: Path, hint: str) -> dict | None:
    """The record in ``root/clips.json`` (``None``: there is none).

    Raises:
        ConfigError: the file is not such a record (one line, with ``hint``).
    """
    path = root / CLIPS_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("splits"), dict):
        raise ConfigError(f"run folder {root}: {CLIPS_FILE} is not a record of training "
                          f"clips; delete it to resume without checking the corpus, or {hint}")
    return data


#: why a converter run is not resumed on other clips (the refusal says it)
STATISTICS = "its networks were trained with the statistics of those"
#: why a run is not resumed on clips with other transcripts (its refusal says it)
TRANSCRIPTS = ("it has learnt from these clips with their earlier transcripts and would go "
               "on with the new ones, two datasets mixed")


def check_clips(root: Path, old: dict | None, record: dict, hint: str,
                why: str = STATISTICS) -> None:
    """Refuse to resume the run in ``root``, which recorded ``old`` (:func:`read_clips`), on
    the clips of ``record`` (``why`` not, for the message; :data:`TRANSCRIPTS` when only
    transcripts changed); a run folder of an earlier emovc, which recorded none (``old``
    ``None``), gets an :class:`~emovc.errors.EmovcWarning` instead, and so does a record
    without the transcripts that ``record`` holds (an earlier emovc's: its audio is checked).

    Raises:
        ConfigError: clips added, removed or changed, or with another transcript (one line
            naming a few of each, and the choices: restore them, or ``hint``).
    """
    if old is None:
        warnings.warn(f"run folder {root} records no list of its training clips (started by "
                      "an earlier emovc): resuming it without checking that the corpus is "
                      "unchanged", EmovcWarning, stacklevel=3)
        return
    changes = clip_changes(old, record)
    if not any(changes.values()):
        if records_texts(record) and not records_texts(old):
            warnings.warn(f"run folder {root} records its training clips but not their "
                          "transcripts (started by an earlier emovc): resuming it with its "
                          "audio checked, not its transcripts; if you edited any since it "
                          f"started, {hint}",
                          EmovcWarning, stacklevel=3)
        return
    was = old.get("data_dir")
    where = f", read from {was}" if was and was != record["data_dir"] else ""
    texts_only = not any(names for kind, names in changes.items() if kind != "retranscribed")
    what, why = ("transcripts", TRANSCRIPTS) if texts_only else ("clips", why)
    raise ConfigError(f"run folder {root} was trained on other {what}{where} than "
                      f"{record['data_dir']} holds now ({describe_changes(changes)}): {why}; "
                      f"restore them to resume it, or {hint}")


def keep_clips(root: str | os.PathLike, clips: ClipList, compare: bool, hint: str,
               why: str = STATISTICS) -> None:
    """Record the clips a run reads in ``root/clips.json`` (hashing only those whose size or
    time changed since its record); with ``compare`` (the run resumes from a checkpoint)
    first check them against the recorded ones (:func:`check_clips`, ``why`` for its
    message). Only the first process does this: the others of a multi-device run are started
    after it has.

    Raises:
        ConfigError: see :func:`check_clips`.
    """
    if not first_process():
        return
    root = Path(root)
    old = read_clips(root, hint) if compare else _known(root)
    record = clip_record(clips.data_dir, clips.splits, old, clips.texts)
    if compare:
        check_clips(root, old, record, hint, why)
    write_atomic(root / CLIPS_FILE, json.dumps(record, indent=1))


def _known(root: Path) -> dict | None:
    """The record of a run started afresh, to take hashes from; ``None``: none, or not a
    record (it is replaced)."""
    try:
        return read_clips(root, "")
    except ConfigError:
        return None


def first_process() -> bool:
    """Whether this is the first process of a run (rank 0; a run on one device has only
    that): Lightning starts the others with their ranks in the environment."""
    return all(os.environ.get(k, "0") == "0" for k in ("RANK", "LOCAL_RANK", "NODE_RANK"))
