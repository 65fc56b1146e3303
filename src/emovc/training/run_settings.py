"""The settings of the trainers' configs: ``--set`` overrides merged key by key into dict
settings (``model={width: 64}``), the shared WORLD-feature GAN run settings
(:func:`apply_run_settings`, :data:`RUN_RANGES`), and one-line
:class:`~emovc.errors.ConfigError` checks of ranges, keys, paths, speaker ids, corpus names and
the SV2TTS mel recipes, made before any corpus work."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

from emovc.config import apply_overrides, same_kind
from emovc.errors import ConfigError
from emovc.features.world import WorldConfig

MIN_SEGMENT = 16  # frames: the discriminator's and classifier's 3 stride-2 layers need > 8
WORLD_KEYS = WorldConfig().to_dict()  # the keys a --set world={...} may change
# minimum values of the settings every WORLD-feature GAN run has (StarGAN and CycleGAN)
RUN_RANGES = {"batch_size": 1, "segment": MIN_SEGMENT, "max_steps": 1, "val_every": 1,
              "ckpt_every": 1, "ckpt_minutes": 0, "devices": 1, "threads": 1, "workers": 1,
              "seed": 0, "model.width": 2, "model.n_blocks": 0, "model.n_down": 1,
              "model.d_width": 1, "model.c_width": 1}
LEARNING_RATES = ("lr_g", "lr_d", "lr_c")


def apply_run_settings(cfg: Any, overrides: dict | None, what: str, max_steps: int | None,
                       model_keys: dict) -> Any:
    """Apply ``--set`` ``overrides`` (and ``max_steps``) to a WORLD-feature GAN run config:
    ``model``/``world`` merged key by key into the preset's values (:func:`merge_nested`,
    ``model_keys`` = the model sizes that may change), speaker ids as text, the WORLD
    settings checked; returns ``cfg``.

    Raises:
        ConfigError: an unknown or ill-typed setting or key, or WORLD settings it refuses.
    """
    cfg = apply_nested_overrides(cfg, overrides, {"model": model_keys, "world": WORLD_KEYS},
                                 what, max_steps)
    cfg.train_speakers = speaker_ids(cfg.train_speakers, "train_speakers")
    cfg.val_speakers = speaker_ids(cfg.val_speakers, "val_speakers")
    WorldConfig.from_dict(cfg.world)  # its own checks (e.g. an unknown f0_method)
    return cfg


def merge_nested(cfg: Any, overrides: dict | None, nested: dict[str, dict], what: str,
                 ) -> dict | None:
    """``overrides`` with every dict-valued setting named in ``nested`` merged key by key
    into ``cfg``'s current value (a preset's model sizes, the WORLD settings), so
    ``model={width: 64}`` changes the width alone.

    Args:
        cfg: the config whose current values the overrides are merged into.
        overrides: ``{setting: value}`` (``--set``); ``None`` = nothing.
        nested: ``{setting: {key: default value}}``: the valid keys of each dict setting, and
            the kind each value must have (see :func:`emovc.config.same_kind`).
        what: name for error messages, e.g. ``"StarGAN training"``.

    Raises:
        ConfigError: a value that is not a mapping, or an unknown key (the valid ones listed).
    """
    if not overrides:
        return overrides
    out = dict(overrides)
    for name, valid in nested.items():
        if name in out:
            out[name] = merge_mapping(what, name, out[name], getattr(cfg, name), valid)
    return out


def merge_mapping(what: str, name: str, value: Any, current: dict,
                  valid: dict | None = None) -> dict:
    """``value`` (``--set name={...}``) merged key by key into the dict setting ``current``.

    Args:
        what: name for error messages, e.g. ``"StarGAN training"``.
        name: the setting's name.
        value: the override; must be a mapping.
        current: the setting's value now.
        valid: ``{key: default value}``: the valid keys and the kind each value must have
            (:func:`emovc.config.same_kind`); default ``current``.

    Raises:
        ConfigError: a value that is not a mapping, an unknown key (the valid ones listed), or
            a value of another kind.
    """
    valid = current if valid is None else valid
    if not isinstance(value, dict):
        raise ConfigError(f"{what} setting {name} must be a mapping such as "
                          f"{name}={{{next(iter(valid))}: ...}}, got {value!r}")
    for key in value:
        if key not in valid:
            raise ConfigError(f"unknown {what} setting {name}.{key}; valid keys: "
                              f"{', '.join(sorted(valid))}")
    merged = dict(current)
    for key, v in value.items():
        merged[key] = same_kind(f"{what} setting {name}.{key}", v, valid[key])
    return merged


def apply_nested_overrides(cfg: Any, overrides: dict | None, nested: dict[str, dict],
                           what: str, max_steps: int | None = None) -> Any:
    """:func:`~emovc.config.apply_overrides` of ``overrides`` (and ``max_steps``) to ``cfg``,
    the dict settings named in ``nested`` merged key by key into their current values first
    (:func:`merge_nested`); returns ``cfg``.

    Raises:
        ConfigError: an unknown or ill-typed setting or key.
    """
    return apply_overrides(cfg, merge_nested(cfg, overrides, nested, what), what, max_steps)


def check_ranges(cfg: Any, what: str, at_least: dict[str, float] | None = None,
                 positive: Iterable[str] = (), fractions: Iterable[str] = (),
                 at_most: dict[str, float] | None = None) -> None:
    """Check numeric settings of ``cfg`` (dotted names reach into dict settings, e.g.
    ``model.width``).

    Args:
        cfg: the config.
        what: name for error messages.
        at_least: ``{setting: minimum}``.
        positive: settings that must be above 0 (learning rates).
        fractions: settings within 0..1 (probabilities).
        at_most: ``{setting: maximum}``.

    Raises:
        ConfigError: one line naming the first setting out of its range, and the range.
    """
    def value(name: str):
        head, _, key = name.partition(".")
        v = getattr(cfg, head)
        return v.get(key) if key else v

    for name, low in (at_least or {}).items():
        v = value(name)
        if v is not None and v < low:
            raise ConfigError(f"{what} setting {name} must be at least {low}, got {v}")
    for name, high in (at_most or {}).items():
        v = value(name)
        if v is not None and v > high:
            raise ConfigError(f"{what} setting {name} must be at most {high}, got {v}")
    for name in positive:
        v = value(name)
        if not 0 < v < math.inf:  # NaN fails too
            finite = "" if math.isfinite(v) else " and finite"
            raise ConfigError(f"{what} setting {name} must be above 0{finite}, got {v}")
    for name in fractions:
        if not 0.0 <= value(name) <= 1.0:
            raise ConfigError(f"{what} setting {name} must be between 0 and 1, got "
                              f"{value(name)}")


def check_keys(cfg: Any, name: str, valid: dict, what: str, complete: bool = False) -> None:
    """Check the keys of the dict setting ``name`` of a config that may have been built by
    hand (without ``build_config``, which merges a partial dict into the defaults).

    Args:
        cfg: the config.
        name: the dict setting, e.g. ``"mel"``.
        valid: its valid keys (a dict of defaults).
        what: name for error messages.
        complete: every key of ``valid`` must be given (no defaults fill the gaps).

    Raises:
        ConfigError: not a mapping, an unknown key (the valid ones listed) or, with
            ``complete``, a missing one.
    """
    value = getattr(cfg, name)
    if not isinstance(value, dict):
        raise ConfigError(f"{what} setting {name} must be a mapping, got {value!r}")
    unknown = sorted(set(value) - set(valid))
    if unknown:
        raise ConfigError(f"unknown {what} setting {name}.{unknown[0]}; valid keys: "
                          f"{', '.join(sorted(valid))}")
    missing = [k for k in valid if k not in value] if complete else []
    if missing:
        raise ConfigError(f"{what} setting {name} lacks {', '.join(missing)}; give all of "
                          f"{', '.join(valid)} (build_config merges a partial {name} into the "
                          "defaults)")


def model_sizes(model_keys: dict, low: int = 1) -> dict[str, int]:
    """``{"model.KEY": low}`` for every integer setting of a model config (as a dict of its
    defaults): the layer sizes and counts, none of which may be 0 or negative (they failed
    with a traceback once the corpus was read)."""
    return {f"model.{k}": low for k, v in model_keys.items()
            if isinstance(v, int) and not isinstance(v, bool)}


def check_paths(cfg: Any, what: str, names: Iterable[str]) -> None:
    """The settings ``names`` of ``cfg`` are paths (text), ``None`` or ``""``.

    Raises:
        ConfigError: another kind of value (``cache_dir=[a, b]`` made a folder of that name).
    """
    for name in names:
        v = getattr(cfg, name)
        if v is not None and not isinstance(v, (str, os.PathLike)):
            raise ConfigError(f"{what} setting {name} must be a path, got {v!r}")


def check_mel_recipe(cfg: Any, what: str, model_keys: dict, mel: dict,
                     ranges: dict[str, float], tied: dict[str, str],
                     at_most: dict[str, float] | None = None) -> Any:
    """The checks of an SV2TTS recipe config with ``model`` and ``mel`` dict settings (also
    one built by hand): known ``model`` keys, all ``mel`` keys, counts in ``ranges`` (and
    ``at_most``), ``lr`` > 0, ``cache_dir`` a path, and ``model[k] == mel[k]`` for each
    ``k`` of ``tied`` (its value says why). Returns ``cfg``.

    Raises:
        ConfigError: one line naming the setting.
    """
    check_keys(cfg, "model", model_keys, what)
    check_keys(cfg, "mel", mel, what, complete=True)
    check_ranges(cfg, what, at_least=ranges, positive=("lr",), at_most=at_most)
    check_paths(cfg, what, ("cache_dir",))
    if cfg.mel["n_fft"] < cfg.mel["hop_length"]:
        raise ConfigError(f"{what} setting mel.n_fft ({cfg.mel['n_fft']}) must be at least "
                          f"mel.hop_length ({cfg.mel['hop_length']}): frames would skip samples")
    for key, why in tied.items():
        value = cfg.model.get(key, model_keys[key])
        if value != cfg.mel[key]:
            raise ConfigError(f"{what} setting model.{key} ({value}) must equal mel.{key} "
                              f"({cfg.mel[key]}): {why}")
    return cfg




def check_corpus(value: Any) -> None:
    """A ``corpus`` setting (an SV2TTS recipe's) is ``"auto"`` or a catalog name
    (:data:`~emovc.data.catalogs.CATALOGS`), checked before any corpus work.

    Raises:
        ConfigError: another value (the message lists the valid ones, as ``emovc catalog
            --corpus`` does).
    """
    from emovc.data.catalogs import CATALOGS
    from emovc.errors import choice_error

    if not isinstance(value, str) or value not in ("auto", *CATALOGS):
        raise choice_error("corpus", value, ["auto", *CATALOGS])



def speaker_ids(value: Any, name: str) -> list[str] | None:
    """A ``train_speakers``/``val_speakers`` setting as a list of strings (``None`` kept; one
    id becomes a list of one): Python callers may give numbers; corpora spell ids as strings.

    Raises:
        ConfigError: not a list.
    """
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name} must be a list of speaker ids, e.g. [\"01\", \"02\"], "
                          f"got {value!r}")
    return [str(v) for v in value]
