"""Registry of the pretrained models bundled inside the package.

Each bundled model is a folder ``src/emovc/pretrained/<name>/`` holding

- ``model.pt``   — a checkpoint written by :func:`emovc.models.checkpoint.save_checkpoint`;
- ``card.md``    — the model card (data, license, steps, metrics, reproduce command);
- ``meta.json``  — ``{"kind": ..., "sha256": ..., "summary": ...}`` and optionally
  ``"inference": {setting: value}``, the model's default inference settings (e.g.
  ``pitch_level`` of an emotion converter), which explicit arguments override.

``resolve(name_or_path, kind)`` accepts a bundled name, ``"default"`` (the kind's default model,
:data:`DEFAULT_MODELS`) or a path to a ``.pt`` file / folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from emovc.errors import ConfigError
from emovc.fileio import file_sha256, write_atomic

ROOT = Path(__file__).resolve().parent
DEFAULT = "default"
#: the bundled model that ``"default"`` names, by the checkpoint-kind prefix asked for; a kind
#: not listed here (e.g. ``"emotion-converter/spectrogan"``) defaults to its only bundled model
DEFAULT_MODELS = {"emotion-converter": "m2m-ravdess", "emotion-recognizer": "ser-ravdess"}


@dataclass(frozen=True)
class PretrainedModel:
    """One bundled model: its name, kind, checkpoint path and card."""

    name: str
    kind: str
    path: Path
    card: Path
    summary: str
    sha256: str


def available(kind: str | None = None) -> list[PretrainedModel]:
    """Bundled models, optionally filtered by checkpoint ``kind`` prefix."""
    out = []
    for meta_file in sorted(ROOT.glob("*/meta.json")):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if kind is None or meta["kind"].startswith(kind):
            folder = meta_file.parent
            out.append(PretrainedModel(folder.name, meta["kind"], folder / "model.pt",
                                       folder / "card.md", meta.get("summary", ""),
                                       meta.get("sha256", "")))
    return out


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file ``path`` (:func:`emovc.fileio.file_sha256`)."""
    return file_sha256(path)


def _kind_words(kind: str | None) -> str:
    """``"emotion-converter/stargan"`` -> ``"stargan emotion converter"``."""
    family, _, sub = str(kind).partition("/")
    return f"{sub} {family}".strip().replace("-", " ")


def _article(words: str) -> str:
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"


def resolve(name_or_path: str | os.PathLike, kind: str | None = None,
            verify: bool = True) -> Path:
    """Return the checkpoint file for a bundled model name, ``"default"`` (see
    :func:`default_model`) or a user path.

    Raises:
        ConfigError: neither a string nor a path (``None``, a number), unknown name (both
            list the bundled ones), missing path, checksum mismatch.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ConfigError(f"model must be a bundled model name or a path to a checkpoint, got "
                          f"{name_or_path!r} ({type(name_or_path).__name__}); bundled models: "
                          f"{_bundled_names(kind)}")
    if str(name_or_path) == DEFAULT and kind is not None:
        name_or_path = default_model(kind)
    p = Path(name_or_path)
    if p.suffix == ".pt" or p.exists():
        if p.is_dir():
            p = p / "model.pt"
        if not p.is_file():
            raise ConfigError(f"model file not found: {p}")
        return p
    models = {m.name: m for m in available(kind)}
    if str(name_or_path) not in models:
        names = _bundled_names(kind)
        other = {m.name: m for m in available(None)}.get(str(name_or_path))
        if other is not None:  # bundled, but of another kind
            raise ConfigError(f"{other.name} is a bundled {_kind_words(other.kind)}, not "
                              f"{_article(_kind_words(kind))}; bundled ones: {names}")
        hint = _did_you_mean(str(name_or_path), names.split(", "))
        raise ConfigError(f"unknown model {str(name_or_path)!r}{hint}; bundled models: {names}")
    m = models[str(name_or_path)]
    if verify and m.sha256 and sha256_of(m.path) != m.sha256:
        raise ConfigError(f"bundled model {m.name} is corrupted (checksum mismatch): {m.path}")
    return m.path


def _did_you_mean(name: str, valid: list[str]) -> str:
    """`` (names are case-sensitive: did you mean 'x'?)`` for one of the ``valid`` names
    that ``name`` spells in other case; else ``""``."""
    same = [v for v in valid if v.casefold() == name.casefold()]
    return f" (names are case-sensitive: did you mean {same[0]!r}?)" if same else ""


def _bundled_names(kind: str | None) -> str:
    """The bundled models of ``kind`` for a message: ``"default, cyclegan-calm-angry, ..."``
    (``"default"`` first where the kind has one)."""
    models = {m.name: m for m in available(kind)}
    names = ", ".join(models) or "(none bundled)"
    if models and kind is not None and _default_name(kind, models):
        names = f"{DEFAULT}, {names}"
    return names


def default_model(kind: str) -> str:
    """Name of the bundled model ``"default"`` stands for among models of ``kind`` (a
    checkpoint-kind prefix such as ``"emotion-converter"``).

    Raises:
        ConfigError: no default for ``kind``; the message lists the bundled models.
    """
    models = {m.name: m for m in available(kind)}
    name = _default_name(kind, models)
    if name is None:
        names = ", ".join(models) or "(none bundled)"
        raise ConfigError(f"no default model for {kind!r}; bundled models: {names}")
    return name


def _default_name(kind: str, models: dict[str, PretrainedModel]) -> str | None:
    """:data:`DEFAULT_MODELS`' entry for ``kind`` if bundled, else the only bundled model."""
    name = DEFAULT_MODELS.get(kind.rstrip("/"))
    if name in models:
        return name
    return next(iter(models)) if len(models) == 1 else None


def bundled_twin(checkpoint: str | os.PathLike) -> PretrainedModel | None:
    """The bundled model whose ``model.pt`` has the same bytes as ``checkpoint`` (same
    SHA-256 as its ``meta.json`` records), else ``None``. Only a file of a bundled model's
    size is hashed, so a training run's checkpoint costs one ``stat``."""
    p = Path(checkpoint)
    size = p.stat().st_size
    digest = None
    for m in available(None):
        if not m.sha256 or not m.path.is_file() or m.path.stat().st_size != size:
            continue
        digest = digest or sha256_of(p)
        if digest == m.sha256:
            return m
    return None


def inference_defaults(checkpoint: Path) -> dict:
    """Default inference settings of the model whose checkpoint is ``checkpoint``: the
    ``"inference"`` entry of the ``meta.json`` beside it.

    Without a ``meta.json``, a byte-identical copy of a bundled model's ``model.pt``
    (:func:`bundled_twin`) gets that model's settings, so a copy in a run folder or on another
    machine converts as the bundled model does; any other checkpoint gets ``{}`` (the
    pipeline's plain defaults)."""
    meta_file = Path(checkpoint).with_name("meta.json")
    if not meta_file.is_file():
        twin = bundled_twin(checkpoint)
        return inference_defaults(twin.path) if twin is not None else {}
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"unreadable model metadata {meta_file}: {exc}") from None
    settings = meta.get("inference", {}) if isinstance(meta, dict) else {}
    if not isinstance(settings, dict):
        raise ConfigError(f"{meta_file}: 'inference' must map setting names to values")
    return settings


def write_meta(folder: Path, kind: str, summary: str, inference: dict | None = None) -> None:
    """Write ``meta.json`` for a bundled model folder (after ``model.pt`` is final);
    ``inference``: the model's default inference settings, if any."""
    meta = {"kind": kind, "summary": summary, "sha256": sha256_of(folder / "model.pt")}
    if inference:
        meta["inference"] = dict(inference)
    write_atomic(folder / "meta.json", json.dumps(meta, indent=2) + "\n")
