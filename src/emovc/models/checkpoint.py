"""Self-describing checkpoints.

A checkpoint is one ``torch.save`` file holding only plain data — so it loads with
``torch.load(weights_only=True)`` — laid out as::

    {"format_version": 1, "kind": "emotion-converter/m2m", "config": {...},
     "extra": {...  feature settings, normalisation statistics, label set ...},
     "state_dict": {name: tensor}}

Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from emovc.errors import ConfigError
from emovc.fileio import atomic_output

FORMAT_VERSION = 1
_SCALARS = (str, int, float, bool, type(None))  # exact types: a numpy float is not one
PLAIN_DATA = "dict, list, tuple, str, int, float, bool, None or a tensor"


def save_checkpoint(path: str | os.PathLike, *, kind: str, config: dict[str, Any],
                    state_dict: dict[str, torch.Tensor], extra: dict[str, Any] | None = None
                    ) -> Path:
    """Atomically write a checkpoint.

    Args:
        path: the file to write (its folder is created).
        kind: the model kind, checked on load (``"emotion-converter/m2m"``).
        config: the model's settings, plain data (:func:`check_plain`).
        state_dict: the weights; stored detached, on the CPU.
        extra: other plain data (feature settings, statistics, label set).

    Raises:
        ConfigError: ``config`` or ``extra`` holds something that is not plain data, which
            would save but then not load with ``weights_only=True``; nothing is written.
    """
    p = Path(path)
    check_plain(config, "config", p)
    check_plain(extra or {}, "extra", p)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": config,
        "extra": extra or {},
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
    }
    with atomic_output(p) as tmp:
        torch.save(payload, tmp)
    return p


def save_checkpoint_if_changed(path: str | os.PathLike, *, kind: str, config: dict[str, Any],
                               state_dict: dict[str, torch.Tensor],
                               extra: dict[str, Any] | None = None,
                               ignore: tuple[str, ...] = (),
                               assumed: dict[str, Any] | None = None) -> Path:
    """:func:`save_checkpoint`, unless ``path`` already holds this checkpoint: the same kind,
    config, weights (dtype, shape and values) and ``extra``, its keys in ``ignore`` aside
    (records of how a run was started: ``"train"``, the settings as typed; a dotted name
    such as ``"encoder.name"`` is a key of a dict in ``extra``; ``assumed``: what a file
    lacking a key of ``extra`` held without recording it, e.g. a setting an earlier emovc
    did not record). Then the file is left as it is, so its bytes — and the SHA-256 other
    files identify it by — stay the same.

    Raises:
        ConfigError: as :func:`save_checkpoint`.
    """
    p = Path(path)
    try:
        old = load_checkpoint(p, kind) if p.is_file() else None
    except ConfigError:  # not a checkpoint of this kind: replaced
        old = None
    if (old is not None and _same(old.get("config"), config)
            and _same(_without({**(assumed or {}), **(old.get("extra") or {})}, ignore),
                      _without(extra, ignore))
            and _same(old.get("state_dict"), state_dict)):
        return p
    return save_checkpoint(p, kind=kind, config=config, state_dict=state_dict, extra=extra)


def _without(data: Any, names: tuple[str, ...]) -> Any:
    """``data`` (a dict) without the keys ``names`` (dotted: a key of a dict in it)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name in names:
        head, _, rest = name.partition(".")
        if not rest:
            out.pop(head, None)
        elif head in out:
            out[head] = _without(out[head], (rest,))
    return out


def _same(a: Any, b: Any) -> bool:
    """Whether two pieces of checkpoint data are equal: tensors of one dtype and shape with
    equal values (on the CPU), dicts with the same keys, lists and tuples item by item (a
    checkpoint may read a tuple back as a list), other values of one type and equal."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(a.detach().cpu(), b.detach().cpu()))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))
                and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    return type(a) is type(b) and a == b


def check_plain(value: Any, where: str, path: str | os.PathLike) -> None:
    """Raise unless ``value`` is plain data that ``torch.load(weights_only=True)`` reads back:
    dicts (with str, int, float, bool or None keys), lists and tuples of it, str, int,
    float, bool, None and tensors.

    Args:
        value: what to check.
        where: its name in messages (``"extra"``); items add ``['key']``/``[i]`` to it.
        path: the checkpoint file, for messages.

    Raises:
        ConfigError: one line naming the first value that is not plain data and its type.
    """
    if isinstance(value, torch.Tensor) or type(value) in _SCALARS:
        return
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]", path)
        return
    if type(value) is not dict:
        raise _not_plain(where, value, path)
    for key, item in value.items():
        if type(key) not in _SCALARS:
            raise _not_plain(f"a key of {where}", key, path)
        check_plain(item, f"{where}[{key!r}]", path)


def _not_plain(where: str, value: Any, path: str | os.PathLike) -> ConfigError:
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}." \
        f"{kind.__qualname__}"
    return ConfigError(f"cannot save checkpoint {path}: {where} is a {name}, not plain data "
                       f"({PLAIN_DATA})")


def checkpoint_file(path: str | os.PathLike) -> Path:
    """``path`` as a checkpoint file: a run folder stands for the ``model.pt`` it holds.

    Raises:
        ConfigError: a folder without a ``model.pt``.
    """
    p = Path(path)
    if not p.is_dir():
        return p
    if not (p / "model.pt").is_file():
        raise ConfigError(f"{p} is a folder without a model.pt; give a checkpoint file (.pt) "
                          "or a run folder that holds its model.pt")
    return p / "model.pt"


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``) and check its kind and version.
    ``path``: the checkpoint file, or a run folder holding it as ``model.pt`` (as ``emovc ser
    predict -m RUN_DIR`` takes one).

    Raises:
        ConfigError: missing file, a folder without a model.pt, not an emovc checkpoint, wrong
            kind or newer format.
    """
    p = checkpoint_file(path)
    if not p.is_file():
        raise ConfigError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"not a readable emovc checkpoint: {p} ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or "format_version" not in ckpt:
        raise ConfigError(f"not an emovc checkpoint: {p}")
    if ckpt["format_version"] > FORMAT_VERSION:
        raise ConfigError(
            f"checkpoint {p} has format {ckpt['format_version']}, this emovc reads "
            f"≤ {FORMAT_VERSION}; upgrade emovc"
        )
    if kind is not None and ckpt.get("kind") != kind:
        raise ConfigError(f"checkpoint {p} is a {ckpt.get('kind')!r} model, expected {kind!r}")
    return ckpt


def checkpoint_kind(path: str | os.PathLike) -> str | None:
    """The ``kind`` of an emovc checkpoint at ``path`` (``"synthesizer/tacotron"``), read
    without loading its tensors; ``None``: no file there, or not an emovc checkpoint."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - not a readable checkpoint: the callers say what to do
        return None
    kind = ckpt.get("kind") if isinstance(ckpt, dict) else None
    return kind if isinstance(kind, str) else None


def float_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Float32 copy of a stored state dict: bundled models keep their weights in float16;
    integer buffers are returned as they are."""
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
