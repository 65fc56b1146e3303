"""The public list of bundled models (:func:`available_models`, ``emovc models``).

A thin layer over :func:`emovc.pretrained.registry.available`: each bundled model with its
kind, the class that loads it and a one-line description from its ``meta.json``.

>>> [m.name for m in available_models("emotion-recognizer")]
['ser-ravdess']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from emovc.errors import choice_error
from emovc.pretrained.registry import DEFAULT_MODELS, available

#: the class whose ``from_pretrained`` loads a model, by the family of its kind
LOADERS = {"emotion-converter": "EmotionConverter", "emotion-recognizer": "EmotionRecognizer"}


@dataclass(frozen=True)
class ModelInfo:
    """One bundled model.

    Attributes:
        name: what ``from_pretrained`` takes (case-sensitive), e.g. ``"m2m-ravdess"``.
        kind: its checkpoint kind, e.g. ``"emotion-converter/stargan"``.
        loader: the class that loads it, e.g. ``"EmotionConverter"``.
        description: one line: what it does (and for which emotions).
        card: path of its model card (data, license, metrics, how it was trained).
        default: whether ``"default"`` names it for its loader.
    """

    name: str
    kind: str
    loader: str
    description: str
    card: Path
    default: bool


def available_models(kind: str | None = None) -> list[ModelInfo]:
    """The bundled models, sorted by name.

    Args:
        kind: only those of this kind: a family (``"emotion-converter"``,
            ``"emotion-recognizer"``) or a full kind (``"emotion-converter/stargan"``);
            ``None``: all.

    Raises:
        ConfigError: an unknown ``kind`` (the message lists the valid ones).
    """
    models = available()
    if kind is not None:
        kinds = sorted({m.kind for m in models} | {m.kind.split("/")[0] for m in models})
        if kind not in kinds:
            raise choice_error("model kind", kind, kinds)
        models = [m for m in models if m.kind == kind or m.kind.split("/")[0] == kind]
    return [_info(m.name, m.kind, m.summary, m.card) for m in models]


def _info(name: str, kind: str, summary: str, card: Path) -> ModelInfo:
    family = kind.split("/")[0]
    return ModelInfo(name, kind, LOADERS.get(family, ""), one_line(summary), card,
                     DEFAULT_MODELS.get(family) == name)


def one_line(summary: str) -> str:
    """The head of a model's summary: up to its first ``" ("``, ``";"`` or ``":"``.

    >>> one_line("RAVDESS 8-emotion recogniser: ComParE-2016 functionals + ...")
    'RAVDESS 8-emotion recogniser'
    """
    return re.split(r" \(|;|:", summary.strip(), maxsplit=1)[0].strip()


def models_table(models: list[ModelInfo]) -> str:
    """``models`` as a plain-text table: name (``*``: the default), kind, what it does and
    its card, one row each, columns padded to line up; a last line says what ``*`` means."""
    rows = [("NAME", "KIND", "WHAT IT DOES", "CARD")]
    rows += [(m.name + (" *" if m.default else ""), m.kind, m.description, str(m.card))
             for m in models]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:3], widths, strict=True)) + "  "
             + r[3] for r in rows]
    return "\n".join([*lines, '* what "default" names (for its loading class)'])
