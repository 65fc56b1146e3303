"""Plain-data round trip shared by the typed config dataclasses.

Checkpoints and run folders store configs as plain Python data (dicts of numbers, strings and
lists) so that they load with ``torch.load(weights_only=True)`` and read as YAML/JSON.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, fields
from typing import ClassVar

from emovc.errors import ConfigError


class PlainConfig:
    """Mixin for config dataclasses: ``to_dict()`` / ``from_dict()``.

    ``from_dict`` rejects unknown keys with a one-line :class:`ConfigError` listing the valid
    ones, unless the class sets ``ignore_unknown = True`` (configs whose older checkpoints carry
    retired keys). Lists are turned back into tuples for fields whose default is a tuple.
    """

    ignore_unknown: ClassVar[bool] = False

    def to_dict(self) -> dict:
        """Plain-data copy (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in asdict(self).items()}  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, d: dict):
        """Inverse of :meth:`to_dict`."""
        known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - set(known))
        if unknown and not cls.ignore_unknown:
            raise ConfigError(f"unknown {cls.__name__} keys {unknown}; "
                              f"valid keys: {sorted(known)}")
        kw = {k: v for k, v in d.items() if k in known}
        for k, v in kw.items():
            if isinstance(v, list) and known[k].default is not MISSING \
                    and isinstance(known[k].default, tuple):
                kw[k] = tuple(v)
        return cls(**kw)


# fields the training commands set from their own arguments (-o, DATA_DIR, --max-steps,
# --preset, --corpus, --accelerator), not from a --set: left out of the valid settings an
# unknown one's message lists
ARGUMENT_FIELDS = ("run_dir", "data_dir", "max_steps", "preset", "corpus", "accelerator")


def apply_overrides(cfg, overrides: dict | None, what: str, max_steps: int | None = None):
    """Set dataclass fields of ``cfg`` from ``overrides`` (and ``max_steps`` when given).

    Args:
        cfg: a config dataclass instance (changed in place and returned).
        overrides: ``{field: value}``; ``None`` = nothing to change.
        what: name for error messages, e.g. ``"StarGAN training"``.
        max_steps: shortcut for the ``max_steps`` field.

    Raises:
        ConfigError: a key that is not a field of ``cfg`` (the message lists the valid ones;
            a typo must not be ignored silently), or a value of the wrong kind for a
            boolean or numeric field (e.g. ``w_cls=abc``).
    """
    names = {f.name for f in fields(cfg)}
    for key, value in (overrides or {}).items():
        if key not in names:  # the listed ones: those a --set may change
            raise ConfigError(f"unknown {what} setting {key!r}; valid settings: "
                              f"{', '.join(sorted(names - set(ARGUMENT_FIELDS)))}")
        setattr(cfg, key, same_kind(f"{what} setting {key}", value, getattr(cfg, key)))
    if max_steps is not None:
        cfg.max_steps = int(max_steps)
    return cfg


def same_kind(name: str, value, current):
    """``value`` checked against the kind of the field's ``current`` value: booleans stay
    booleans, integers integers, floats numbers (an integer becomes a float). Other fields
    (strings, lists, dicts, optional ones) are validated where they are used.

    Raises:
        ConfigError: a value of another kind, named with the setting.
    """
    def bad(kind: str) -> ConfigError:
        return ConfigError(f"{name} must be {kind}, got {value!r}")

    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
    elif isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
    elif isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    return value


def canonical(value):
    """``value`` (nested dicts/lists of plain data) with every whole-number float written as an
    int, so that equal settings (``71`` and ``71.0``) hash to one cache key."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
