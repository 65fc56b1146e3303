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


def apply_overrides(cfg, overrides: dict | None, what: str, max_steps: int | None = None):
    """Set dataclass fields of ``cfg`` from ``overrides`` (and ``max_steps`` when given).

    Args:
        cfg: a config dataclass instance (changed in place and returned).
        overrides: ``{field: value}``; ``None`` = nothing to change.
        what: name for error messages, e.g. ``"StarGAN training"``.
        max_steps: shortcut for the ``max_steps`` field.

    Raises:
        ConfigError: a key that is not a field of ``cfg`` (the message lists the valid ones;
            a typo must not be ignored silently).
    """
    names = {f.name for f in fields(cfg)}
    for key, value in (overrides or {}).items():
        if key not in names:
            raise ConfigError(f"unknown {what} setting {key!r}; valid settings: "
                              f"{', '.join(sorted(names))}")
        setattr(cfg, key, value)
    if max_steps is not None:
        cfg.max_steps = int(max_steps)
    return cfg
