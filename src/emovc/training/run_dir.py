"""Run folders of the conversion trainers.

Layout of ``RUN_DIR``::

    config.yaml            resolved training config (plain data)
    clips.json             the clips the run reads (emovc.training.run_clips)
    checkpoints/last.ckpt  Lightning checkpoint for exact resume (+ the newest step-numbered ones)
    tb/                    TensorBoard logs
    audio/                 periodic validation conversions (WAV, as ``emovc convert`` renders
                           them) and the unconverted take, ``source_NAME.wav``; a SpectroGAN
                           writes them to ``val_audio/`` (``step_NNNNNN/`` folders)
    model.pt               final emovc checkpoint (loadable by EmotionConverter)
    model_sha256.json      SV2TTS runs: the hash of every model.pt written (run_models)

A folder is reused only by the run it holds: re-running it resumes from ``last.ckpt`` (or
re-exports a finished run); a folder holding another run's or an unknown ``model.pt`` /
``config.yaml`` is refused unless the run is started afresh (``emovc train --force``, Python
``resume=False``), which first removes the earlier run's outputs.

This module decides whether a run may use a folder (:func:`claim_run_dir`,
:func:`prepare_run_dir`); reading what a folder holds (its config, model kind, checkpoints),
recognising a run and clearing its outputs are in :mod:`emovc.training.run_contents`, whose
names are importable from here as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from emovc.errors import ConfigError
from emovc.fileio import check_writable, write_atomic
from emovc.training.run_clips import CLIPS_FILE, ClipList, keep_clips
from emovc.training.run_contents import (  # noqa: F401 — re-exported: imported from here
    RUN_CONFIG_KEYS,
    RUN_FILES,
    RUN_FOLDERS,
    RUN_ONLY,
    RUN_PARENTS,
    check_not_foreign,
    checkpoint_step,
    clear_run_outputs,
    foreign_outputs,
    is_run,
    last_checkpoint,
    model_kind,
    saved_config,
    saved_max_steps,
)
from emovc.training.run_models import MODELS_FILE  # noqa: F401 — re-exported: read from here

# settings a resumed run (StarGAN, CycleGAN, SV2TTS) may change (they do not change what is
# learned; another accelerator, as another thread count, sums in another order)
FREE = ("max_steps", "devices", "accelerator", "threads", "workers", "keep_checkpoints",
        "val_every", "ckpt_every", "ckpt_minutes", "cache_dir", "val_vocoder", "val_seconds")
# settings holding paths: compared resolved (``corpus`` and ``/abs/corpus`` are one corpus);
# ``encoder``/``gta``: the SV2TTS synthesizer's speaker encoder, the vocoder's GTA synthesizer
PATH_KEYS = ("data_dir", "run_dir", "cache_dir", "encoder", "gta")
# compared once the corpus is read (``None`` = the default split)
SPEAKER_KEYS = ("train_speakers", "val_speakers")
FORCE_HINT = ("choose another -o, or pass --force to start this run afresh there (replacing "
              "its model.pt and checkpoints; Python: resume=False)")
# the same for trainers with no command line (the SV2TTS recipes): config field and argument
PYTHON_FORCE_HINT = ("choose another run_dir, or pass resume=False to train() to start this run "
                     "afresh there (replacing its model.pt and checkpoints)")


def config_data(config: Any) -> dict:
    """Plain-data ``dict`` of a config dataclass (or mapping)."""
    return asdict(config) if is_dataclass(config) else dict(config)


def prepare_run_dir(run_dir: str | os.PathLike, config: Any, resume: bool,
                    cli: bool = True, clips: ClipList | None = None) -> Path:
    """Create ``run_dir`` and write ``config.yaml``; refuse to mix runs of different configs
    (``cli``: see :func:`claim_run_dir`). ``clips``: the clips the run reads
    (:class:`~emovc.training.run_clips.ClipList`), checked against the folder's record when
    the run resumes from a checkpoint, and recorded in ``clips.json``.

    Raises:
        ConfigError: ``run_dir`` holds another run (see :func:`claim_run_dir`), or one
            trained on other clips (:func:`~emovc.training.run_clips.check_clips`).
    """
    root = Path(run_dir)
    data = config_data(config)
    claim_run_dir(root, data, resume, cli=cli)
    if clips is not None:
        keep_clips(root, clips, resume and last_checkpoint(root) is not None,
                   FORCE_HINT if cli else PYTHON_FORCE_HINT)
    (root / "checkpoints").mkdir(parents=True, exist_ok=True)
    write_text_atomic(root / "config.yaml", yaml.safe_dump(data, sort_keys=False))
    return root


def claim_run_dir(root: str | os.PathLike, data: dict, resume: bool, free: Iterable[str] = FREE,
                  steps_per_iteration: int = 1, clear: bool = True, cli: bool = True,
                  kind: str | None = None) -> int:
    """Check that ``root`` may hold the run of settings ``data``; returns the steps it has
    already trained (0: a fresh start).

    With ``resume`` false the earlier run's outputs are removed (a fresh start) — unless
    ``clear`` is false: the trainers claim the folder before reading the corpus with ``clear``
    false, and clear it only once the new run can start (a command that fails on its data
    does not cost the earlier run).

    Args:
        root: the run folder.
        data: the run's settings (plain data, as written to ``config.yaml``).
        resume: continue a run found there (else start afresh).
        free: settings that may differ from the earlier run's (or are compared later, e.g.
            a speaker split not resolved yet).
        steps_per_iteration: Lightning steps per training step (2 for SpectroGAN).
        cli: the messages name the command line's options (``-o``, ``--max-steps``,
            ``--force``); false for trainers used from Python only, whose messages name the
            config fields and ``resume=False``.
        kind: the checkpoint kind this run writes (``"synthesizer/tacotron"``): a folder
            whose ``model.pt``, or whose ``config.yaml``, is clearly another trainer's is
            refused naming it (:func:`other_kind`), and warning that a fresh start deletes it.

    Raises:
        ConfigError: ``root`` holds another run, a ``model.pt`` or checkpoint of an unknown
            one, or a run that has trained more steps than ``data["max_steps"]``.
    """
    root = Path(root)
    hint = FORCE_HINT if cli else PYTHON_FORCE_HINT
    check_creatable(root, cli)
    check_not_foreign(root, cli)
    if not resume:
        if clear:
            clear_run_outputs(root)
        return 0
    cfg_file, ckpt = root / "config.yaml", last_checkpoint(root)
    model = root / "model.pt"
    old = _read_config(cfg_file, hint) if cfg_file.is_file() else None
    other = other_kind(root, old, data, kind, free) if kind else None
    if other:
        raise other_kind_error(root, other, kind, cli)
    if old is None:
        found = [p.relative_to(root).as_posix() for p in (model, ckpt) if p and p.is_file()]
        if found:
            raise ConfigError(f"run folder {root} holds {' and '.join(found)} but no "
                              f"config.yaml of a training run; {hint}")
        return 0
    if "max_steps" in data and "max_steps" not in old:  # e.g. an `emovc ser train` run
        kind = "not a converter training's" if cli else "has no max_steps"
        raise ConfigError(f"run folder {root} holds another kind of run (its config.yaml "
                          f"{'is ' if cli else ''}{kind}, e.g. a recogniser's); {hint}")
    # run_dir: the folder is the run (it may have been moved, or named from elsewhere); so is
    # data_dir when the run records its clips (a moved corpus resumes; once read, other
    # clips are refused: run_clips)
    moved = ("run_dir", "data_dir") if (root / CLIPS_FILE).is_file() else ("run_dir",)
    diff = changed_settings(old, data, (*free, *moved))
    if diff:
        shown = ", ".join(diff[:6]) + (", ..." if len(diff) > 6 else "")
        raise ConfigError(f"run folder {root} holds another run (different settings: {shown}); "
                          f"{_data_hint(old, cli) if 'data_dir' in diff else ''}{hint}")
    if ckpt is None:
        if model.is_file():
            raise ConfigError(f"run folder {root} holds a model.pt but no checkpoints/last.ckpt "
                              f"to resume from; {hint}")
        return 0
    done = checkpoint_step(ckpt) // steps_per_iteration
    if data.get("max_steps") is not None and done > data["max_steps"]:
        raise ConfigError(f"run folder {root} has already trained {done} steps, more than "
                          f"max_steps {data['max_steps']}; "
                          + (f"pass --max-steps {done} or more to re-export or extend it, or "
                             "--force to start it afresh" if cli else
                             f"set max_steps to {done} or more to re-export or extend it, or "
                             "pass resume=False to train() to start it afresh"))
    return done


# checkpoint kind (its first part) → what the run is called
KIND_NAMES = {"emotion-recognizer": "an emotion recogniser run",
              "emotion-converter": "an emotion converter run"}


def run_name(kind: str, beside: str | None = None) -> str:
    """What a run of checkpoint ``kind`` is called in messages: "a vocoder/wavernn run", "an
    emotion recogniser run"; a run named beside one of kind ``beside`` (the run it is not) by
    its family's name ("an emotion converter run") unless that is ``beside``'s family too."""
    family = kind.split("/")[0]
    if family in KIND_NAMES and (kind == family or beside is not None
                                 and beside.split("/")[0] != family):
        return KIND_NAMES[family]
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} run"


def other_kind(root: Path, old: dict | None, data: dict, kind: str, free: Iterable[str] = FREE,
               ) -> str | None:
    """What ``root`` holds when it is clearly not a run of ``kind`` (``None`` otherwise):
    its ``model.pt`` is of another kind ("a vocoder/wavernn run", "an emotion recogniser
    run"), or its ``config.yaml`` (``old``; ``None``: it has none) has no ``max_steps`` where
    this run has one (an emotion recogniser's) or settings this run does not have (another
    trainer's)."""
    theirs = model_kind(root / "model.pt")
    if theirs and theirs != kind:
        return f"{run_name(theirs, kind)} (its model.pt)"
    if old is None:
        return None
    if "max_steps" in data and "max_steps" not in old:
        return "another kind of run (its config.yaml has no max_steps, e.g. a recogniser's)"
    extra = sorted(set(old) - set(data) - set(free))
    if extra:
        return (f"another kind of run (its config.yaml has settings {run_name(kind)} does "
                f"not: {', '.join(extra[:4])}{', ...' if len(extra) > 4 else ''})")
    return None


def other_kind_error(root: Path, other: str, kind: str, cli: bool = True) -> ConfigError:
    """The refusal of a run folder that holds ``other`` (:func:`other_kind`) for a run of
    ``kind``, saying that a fresh start would delete that run (``cli``: see
    :func:`claim_run_dir`)."""
    again = ("choose another -o; --force would start this run there, deleting" if cli else
             "choose another run_dir; resume=False would start this run there, deleting")
    return ConfigError(f"run folder {root} holds {other}, not {run_name(kind)}; {again} that "
                       "run's model.pt and checkpoints")


def check_creatable(root: Path, cli: bool = True) -> None:
    """``root`` is a folder, or can be created, and can be written (checked before the corpus
    is read: a run folder under a file failed only once the corpus was preprocessed).

    Raises:
        ConfigError: ``root`` is a file, or a file stands where a folder above it would be.
        OutputPathError: the folder (or the nearest one above it) cannot be written.
    """
    if root.exists() and not root.is_dir():
        raise ConfigError(f"output {root} is a file, not a folder; a training run needs a "
                          f"folder ({'-o' if cli else 'run_dir'})")
    above = root.absolute()
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise ConfigError(f"cannot create the run folder {root}: {above} is a file "
                          f"({'-o' if cli else 'run_dir'} takes a folder)")
    check_writable(root / "config.yaml")


def changed_settings(old: dict, new: dict, free: Iterable[str] = FREE) -> list[str]:
    """Names of the settings that differ between a run's ``old`` settings (its folder's
    ``config.yaml``, a checkpoint's) and ``new``, sorted: every setting of either (one that
    only one side has differs, unless it is ``None``, unset, there). Settings in ``free`` may
    differ; paths (:data:`PATH_KEYS`) are compared resolved."""
    free = set(free)
    return sorted(k for k in old.keys() | new.keys()
                  if k not in free and _norm(k, old.get(k)) != _norm(k, new.get(k)))


def _data_hint(old: dict, cli: bool) -> str:
    """What to do when a run's ``data_dir`` differs: a relative one is resolved against the
    current directory, not the one the run was started from."""
    where = old.get("data_dir")
    if not isinstance(where, str):
        return ""
    rel = (" (relative to the directory the run was started from)"
           if not Path(where).is_absolute() else "")
    arg = "DATA_DIR" if cli else "data_dir"
    return (f"it was trained on {where}{rel}: to resume it, run from that directory or pass "
            f"that corpus as {arg}; else ")


def _norm(key: str, value: Any) -> Any:
    if key in PATH_KEYS and isinstance(value, str) and value:
        return str(Path(value).resolve())
    return value


def _read_config(path: Path, hint: str = FORCE_HINT) -> dict:
    """``config.yaml`` as a dict.

    Raises:
        ConfigError: not a YAML mapping (not a training run's config).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise ConfigError(f"run folder {path.parent}: config.yaml is not a training config; "
                          f"{hint}")
    return data


#: why an SV2TTS run is not resumed on other clips (its refusal says it)
BATCHES = ("its batches are drawn by their place in its list of clips, so it would not "
           "continue the run it started")


def check_resumed_clips(run_dir: str | os.PathLike, clips: ClipList, resume: bool,
                        cli: bool = True) -> None:
    """Refuse to resume the run in ``run_dir`` from its checkpoint on other clips than it
    recorded (:func:`~emovc.training.run_clips.keep_clips`), before the corpus is read: for
    a trainer whose corpus work comes before :func:`prepare_run_dir` (an SV2TTS corpus is
    preprocessed for hours). Nothing to check for a run that starts afresh, or has no
    checkpoint yet.

    Raises:
        ConfigError: clips added, removed or changed (one line naming them).
    """
    if resume and last_checkpoint(run_dir) is not None:
        keep_clips(run_dir, clips, True, FORCE_HINT if cli else PYTHON_FORCE_HINT, BATCHES)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file + rename."""
    write_atomic(path, text)
