"""Checks and helpers of :class:`~emovc.pipelines.conversion.EmotionConverter`: input and
argument validation (one-line errors naming the argument), a checkpoint's backend, its
identity for provenance tags, and the note on a model from an unfinished training run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from emovc.audio import check_speech, check_voiced_speech
from emovc.data.emotions import normalize_emotion
from emovc.errors import ConfigError
from emovc.pretrained.registry import available, sha256_of

KIND_PREFIX = "emotion-converter/"


def unfinished_note(ckpt: dict, path) -> str:
    """A note when ``ckpt`` was exported by a training run before its last step (``model.pt``
    is written at every validation, so an interrupted run leaves one); else ``""``."""
    extra = ckpt.get("extra") or {}
    training = extra.get("training") or {}
    steps, total = training.get("steps"), training.get("max_steps")
    if steps is None:  # SpectroGAN exports: iterations done, and the run's settings
        steps, total = extra.get("iterations"), (extra.get("train") or {}).get("max_steps")
    if isinstance(steps, int) and isinstance(total, int) and steps < total:
        return (f"{path} comes from an unfinished training run (step {steps} of {total}); "
                "re-run its training command to finish it")
    return ""


def check_different(source: str | None, target: str) -> None:
    """Refuse ``source == target`` (aliases included): the generator would only re-render
    the input, which is not what a caller asking for that emotion expects."""
    if source is None:
        return
    try:
        same = normalize_emotion(source) == normalize_emotion(target)
    except ValueError:
        return  # unknown names: the emotion checks name the valid ones
    if same:
        raise ConfigError(f"source and target are both {normalize_emotion(target)}: nothing "
                          "to convert; give another target emotion")


#: the end of :class:`EmotionConverter`'s warning about a noisy input, a file or samples
#: (:func:`~emovc.audio.noise.warn_if_noisy`; measured in docs/conversion.md, "Noisy input")
NOISY_INPUT = ("the conversion keeps the noise, its target emotion is heard far less often "
               "and its voice matches the speaker less well: use a quieter recording, or "
               "denoise it first")

#: the end of :class:`EmotionConverter`'s warning about a band-limited input, e.g. telephone
#: speech (:func:`~emovc.audio.bandwidth.warn_if_band_limited`): its samples are converted
#: as they are
BAND_LIMITED_INPUT = ("the output keeps that band limit (it sounds like a phone call), and the "
                      "models were trained on 16 kHz speech; use a recording of 16 kHz or more "
                      "if you have one")


def check_input(wav: np.ndarray, sr: int, name: str = "audio") -> None:
    """Refuse audio a conversion cannot use: mono float ``(n,)`` at ``sr`` Hz that is too
    short, silent or non-finite (:func:`~emovc.audio.check_speech`) or holds no voiced sound
    (:func:`~emovc.audio.check_voiced_speech`: noise has no pitch to change; it would be made
    louder, or fail deep in the analysis)."""
    check_speech(wav, sr, name=name)
    check_voiced_speech(wav, sr, name=name)


def keeping_torch_rng():
    """Context manager under which torch's global CPU random stream is saved and restored:
    building a model's modules draws initial weights from it, which a caller who seeded
    torch does not expect a load to do."""
    import torch

    return torch.random.fork_rng(devices=[])


#: hex digits of the checkpoint's SHA-256 a provenance tag records
DIGEST_CHARS = 12


def model_identity(checkpoint: Path) -> tuple[str, str]:
    """``(canonical name, short SHA-256)`` of a converter checkpoint, as provenance tags
    name it: a bundled model by its name (whatever alias loaded it, e.g. ``"default"``), with
    the digest its ``meta.json`` records (not hashed again); any other file by its resolved
    path, hashed. The digest is the first :data:`DIGEST_CHARS` hex digits."""
    real = Path(os.path.realpath(checkpoint))
    for m in available(KIND_PREFIX):
        if m.sha256 and Path(os.path.realpath(m.path)) == real:
            return m.name, m.sha256[:DIGEST_CHARS]
    return str(real), sha256_of(real)[:DIGEST_CHARS]


def intensity_text(intensity) -> str:
    """``intensity`` as a provenance tag writes it: an integer as a float (``1`` -> ``"1.0"``,
    as the CLI's ``1.0``), so the same setting gives the same tag whatever its Python type."""
    if isinstance(intensity, (int, np.integer)) and not isinstance(intensity, bool):
        return str(float(intensity))
    return str(intensity)


def check_flag(value, name: str) -> bool:
    """``value`` as a bool; anything but ``True``/``False`` (numpy's included) is a one-line
    :class:`ConfigError` naming the argument ``name`` (``"yes"`` would read as true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be True or False, got {value!r} "
                          f"({type(value).__name__})")
    return bool(value)


def file_path(value, name: str) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``) as a :class:`~pathlib.Path`; anything else
    (``None``, a number) is a one-line :class:`ConfigError` naming the argument ``name``."""
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{name} must be a file path (str or os.PathLike), got {value!r} "
                          f"({type(value).__name__})")
    return Path(value)


def load_backend(ckpt: dict):
    """The inference backend of an emotion-converter checkpoint: a WORLD-feature converter
    (many-to-many StarGAN or pairwise CycleGAN) or a SpectroGAN converter."""
    kind = ckpt.get("kind", "")
    if kind == "emotion-converter/stargan":
        from emovc.models.conversion.converters import StarGANFeatureConverter
        return StarGANFeatureConverter(ckpt)
    if kind == "emotion-converter/cyclegan":
        from emovc.models.conversion.cyclegan import CycleGANFeatureConverter
        return CycleGANFeatureConverter(ckpt)
    if kind == "emotion-converter/spectrogan":
        from emovc.pipelines.spectrogan import SpectroGANConverter
        return SpectroGANConverter.from_checkpoint(ckpt)
    raise ConfigError(f"not an emotion-converter checkpoint (kind {kind!r})")
