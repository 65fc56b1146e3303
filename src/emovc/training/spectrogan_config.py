"""SpectroGAN training settings: :class:`TrainConfig`, the presets and :func:`build_config`.

Presets: ``compact`` (CPU, pairwise), ``m2m`` (CPU, many-to-many with a prosody stage;
:mod:`emovc.training.spectrogan_m2m`), ``faithful``/``full`` (the published 260×260 system) and
``faithful-520``. The training loops live in :mod:`emovc.training.spectrogan`, which re-exports
these names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from emovc.config import ARGUMENT_FIELDS, same_kind
from emovc.data.emotions import EMOTIONS, emotion_list, normalize_emotion
from emovc.errors import ConfigError, choice_error
from emovc.models.spectrogan.networks import DiscriminatorConfig, GeneratorConfig
from emovc.models.spectrogan.representation import SpecConfig
from emovc.pipelines.spectrogan import InferenceConfig
from emovc.training.common import CKPT_MINUTES, check_ranges, merge_mapping

PRESETS = ("compact", "m2m", "faithful", "full", "faithful-520")


@dataclass
class TrainConfig:
    """Everything a SpectroGAN run needs (saved as ``run_dir/config.yaml``)."""

    data_dir: str
    run_dir: str
    source: str = "calm"
    target: str = "angry"
    preset: str = "compact"
    spec: dict = field(default_factory=lambda: SpecConfig().to_dict())
    generator: dict = field(default_factory=lambda: GeneratorConfig().to_dict())
    discriminator: dict = field(default_factory=lambda: DiscriminatorConfig().to_dict())
    inference: dict = field(default_factory=lambda: InferenceConfig().to_dict())
    train_actors: list = field(default_factory=lambda: list(range(1, 17)))
    val_actors: list = field(default_factory=lambda: [17, 18, 19, 20])
    batch_size: int = 1
    crop_frames: int = 256
    crop_rows: int | None = None
    max_steps: int = 20000
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_cycle: float = 10.0
    lambda_identity: float = 5.0
    paired_steps: int = 0
    # many-to-many (preset m2m; emovc.training.spectrogan_m2m): the condition order (empty =
    # pairwise source/target), the weight of the L1 to the DTW-aligned parallel take after
    # average-pooling over paired_pool frequency bins, the discriminator's weight for calling a
    # real take of another emotion fake, the prosody stage, and the gradient-norm clip (0 = off)
    emotions: list = field(default_factory=list)
    lambda_paired: float = 0.0
    paired_pool: int = 9
    lambda_mismatch: float = 0.0
    prosody: bool = True
    grad_clip: float = 0.0
    # many-to-many with a prosody stage: move the generator's input by the stage's
    # average-spectrum offsets (strength/smoothing: inference spectrum_shift/spectrum_lifter,
    # on speech frames) in training and at conversion, so the generator learns only the rest
    input_shift: bool = False
    decay_from: float = 0.5
    ckpt_every: int = 200
    ckpt_minutes: float = CKPT_MINUTES  # last.ckpt also every this many minutes (0: never)
    val_every: int = 500
    log_every: int = 20
    n_val_clips: int = 2
    seed: int = 0
    num_threads: int = 1
    devices: int = 1
    accelerator: str = "auto"  # Lightning's: auto, cpu, gpu, cuda or mps (training.devices)

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


# the other trainers' speaker split, named as SpectroGAN names it
_ACTOR_KEYS = {"train_speakers": "train_actors", "val_speakers": "val_actors"}

def _preset(name: str) -> dict:
    if name == "compact":  # CPU: narrow, 3 blocks, identity-initialised residual, 8 ms hop
        return dict(spec=SpecConfig(n_fft=512, hop_length=128, freq_size=256).to_dict(),
                    generator=GeneratorConfig((16, 32, 64), 3, residual=True,
                                              residual_scale=1.0, freq_coord=True).to_dict(),
                    discriminator=DiscriminatorConfig(16, 3, freq_coord=True,
                                                      norm="none").to_dict(),
                    batch_size=2, crop_rows=128, crop_frames=64, max_steps=1000, lr=4e-4,
                    lambda_identity=0.5, decay_from=0.7, ckpt_every=50, val_every=250)
    if name == "m2m":  # CPU, one target-conditioned generator for all 8 RAVDESS emotions
        n = len(EMOTIONS)
        return dict(spec=SpecConfig(n_fft=512, hop_length=128, freq_size=256).to_dict(),
                    generator=GeneratorConfig((16, 32, 64), 3, residual=True, freq_coord=True,
                                              n_domains=n).to_dict(),
                    discriminator=DiscriminatorConfig(16, 3, freq_coord=True, norm="none",
                                                      n_domains=n).to_dict(),
                    emotions=list(EMOTIONS), batch_size=2, crop_rows=None, crop_frames=64,
                    max_steps=3000, lr=5e-4, lambda_cycle=2.0, lambda_identity=0.5,
                    lambda_paired=10.0, lambda_mismatch=0.5, grad_clip=5.0, decay_from=0.7,
                    input_shift=True,
                    inference=InferenceConfig(spectrum_shift=1.0, f0_model="m2m-ravdess",
                                              f0_model_envelope=5,
                                              f0_model_envelope_strength=0.6).to_dict(),
                    ckpt_every=200, val_every=1000, num_threads=2)
    if name in ("faithful", "full"):  # published: 512/256, 257 -> 260 rows, 6 blocks, tanh
        return dict(spec=SpecConfig(n_fft=512, hop_length=256, freq_size=260).to_dict(),
                    generator=GeneratorConfig((64, 128, 256), 6).to_dict(),
                    discriminator=DiscriminatorConfig(64, 3).to_dict(),
                    batch_size=1, crop_frames=260, max_steps=40000, num_threads=4)
    if name == "faithful-520":  # 1024/128 -> 513 -> 520 rows
        return dict(spec=SpecConfig(n_fft=1024, hop_length=128, freq_size=520).to_dict(),
                    generator=GeneratorConfig((64, 128, 256), 6).to_dict(),
                    discriminator=DiscriminatorConfig(64, 3).to_dict(),
                    batch_size=1, crop_frames=520, max_steps=40000, num_threads=4)
    raise choice_error("preset", name, PRESETS)


def build_config(data_dir: str, run_dir: str, source: str | None, target: str | None,
                 preset: str = "compact", max_steps: int | None = None, devices: int = 1,
                 overrides: dict | None = None) -> TrainConfig:
    """Resolve a preset plus overrides into a :class:`TrainConfig`.

    Args:
        data_dir: RAVDESS-layout corpus folder.
        run_dir: output folder of the run.
        source, target: the two emotions (default calm → angry); with ``emotions`` set
            (preset ``m2m``: many-to-many) ``source`` only picks the validation clips
            (default: calm, else neutral, else the first of ``emotions``) and ``target`` is
            refused.
        preset: ``compact`` (CPU) | ``m2m`` (CPU, many-to-many) | ``faithful``/``full``
            (published 260×260) | ``faithful-520``.
        max_steps: training iterations (one G and one D update each).
        devices: Lightning devices.
        overrides: top-level TrainConfig fields; nested ``spec``/``generator``/
            ``discriminator``/``inference`` dicts are merged key by key.

    Raises:
        ConfigError: unknown preset, emotion or override key; ``emotions`` that are not a
            list of 2 or more distinct labels.
    """
    values = _preset(preset)
    defaults = asdict(TrainConfig("", ""))
    for key, val in (overrides or {}).items():
        if key not in defaults:
            hint = (f" (SpectroGAN splits RAVDESS by actor number: {_ACTOR_KEYS[key]}=[1, 2])"
                    if key in _ACTOR_KEYS else "")
            raise ConfigError(f"unknown SpectroGAN setting {key!r}{hint}; valid keys: "
                              f"{', '.join(sorted(set(defaults) - set(ARGUMENT_FIELDS)))}")
        if key in NESTED:
            val = _nested(key, val, values.get(key) or defaults[key])
        elif key in _ACTOR_KEYS.values():
            val = _actors(key, val)
        values[key] = same_kind(f"SpectroGAN setting {key}", val, values.get(key, defaults[key]))
    if max_steps is not None:
        values["max_steps"] = int(max_steps)
    # the arguments, unless an override sets them (--set target=sad)
    args = {"data_dir": str(data_dir), "run_dir": str(run_dir), "source": source,
            "target": target, "preset": preset, "devices": int(devices)}
    args.update({k: values.pop(k) for k in list(values) if k in args})
    emotions = values.get("emotions")
    if emotions:  # many-to-many: one condition / discriminator map per emotion
        emotions = values["emotions"] = emotion_list(emotions)
        if target is not None:  # it would be stored and ignored
            raise ConfigError("--to names the target of a pairwise model; a many-to-many "
                              f"SpectroGAN converts between all of its emotions "
                              f"({', '.join(emotions)}; --set emotions=[...]), and --from "
                              "only picks its validation clips")
    args["source"], args["target"] = _pair(args["source"], args["target"], emotions)
    cfg = TrainConfig(**args, **values)
    if cfg.emotions:
        cfg.generator = {**cfg.generator, "n_domains": len(cfg.emotions)}
        cfg.discriminator = {**cfg.discriminator, "n_domains": len(cfg.emotions)}
    off = "--set 'inference={f0_model: \"\", f0_model_envelope: 0}'"
    if cfg.inference.get("f0_model") and not (cfg.emotions and cfg.prosody):
        raise ConfigError("the F0 model (inference f0_model) needs the many-to-many prosody "
                          f"stage; turn it off with {off}")
    if cfg.inference.get("f0_model_envelope") and not cfg.inference.get("f0_model"):
        raise ConfigError("inference f0_model_envelope takes the F0 model's envelope and "
                          f"needs inference f0_model; turn both off with {off}")
    SpecConfig.from_dict(cfg.spec), GeneratorConfig.from_dict(cfg.generator)
    valid = InferenceConfig().to_dict()
    unknown = sorted(set(cfg.inference) - set(valid))
    if unknown:
        raise ConfigError(f"unknown SpectroGAN inference setting {unknown[0]!r}; valid keys: "
                          f"{', '.join(sorted(valid))}")
    _check_ranges(cfg, DiscriminatorConfig.from_dict(cfg.discriminator))
    return cfg


NESTED = ("spec", "generator", "discriminator", "inference")


def _pair(source: str | None, target: str | None, emotions: list[str] | None,
          ) -> tuple[str, str]:
    """The run's source and target emotion, normalised: those given, else calm → angry; a
    many-to-many run (``emotions``; the source only picks its validation clips) takes them
    from its own emotions: calm, else neutral, else the first listed → angry, else the
    first other one.

    Raises:
        ConfigError: an unknown emotion, a source a many-to-many run lacks, or the same
            emotion twice.
    """
    if not emotions:
        src, tgt = normalize_emotion(source or "calm"), normalize_emotion(target or "angry")
    else:
        src = normalize_emotion(source) if source is not None else next(
            (e for e in ("calm", "neutral") if e in emotions), emotions[0])
        if src not in emotions:
            raise choice_error("validation source emotion", src, emotions)
        others = [e for e in emotions if e != src]
        tgt = normalize_emotion(target) if target is not None else (
            "angry" if "angry" in others else others[0])
    if src == tgt:
        raise ConfigError(f"source and target emotion are both {src!r}")
    return src, tgt


def _nested(key: str, value, base: dict) -> dict:
    """``value`` (``--set key={...}``) merged into the nested setting ``base``
    (:func:`~emovc.training.common.merge_mapping`); a list of integers must stay one, as long
    as the one it replaces.

    Raises:
        ConfigError: not a mapping, an unknown key, or a value of another kind (named).
    """
    out = merge_mapping("SpectroGAN", key, value, base)
    for k, v in value.items():
        current = base[k]
        if isinstance(current, list | tuple) and current and all(
                isinstance(c, int) and not isinstance(c, bool) for c in current):
            if not (isinstance(v, list | tuple) and len(v) == len(current) and all(
                    isinstance(c, int) and not isinstance(c, bool) for c in v)):
                raise ConfigError(f"SpectroGAN setting {key}.{k} must be a list of "
                                  f"{len(current)} integers such as {list(current)}, got {v!r}")
            out[k] = list(v)
    return out


def _actors(key: str, value) -> list:
    """``train_actors``/``val_actors``: a list of RAVDESS actor numbers.

    Raises:
        ConfigError: anything else (named, with an example).
    """
    if not (isinstance(value, list | tuple) and all(
            isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in value)):
        raise ConfigError(f"SpectroGAN setting {key} must be a list of RAVDESS actor numbers "
                          f"(integers from 1) such as {key}=[1, 2], got {value!r}")
    return list(value)


RANGES = {"batch_size": 1, "max_steps": 1, "lambda_cycle": 0, "lambda_identity": 0,
          "lambda_paired": 0, "lambda_mismatch": 0, "paired_steps": 0, "paired_pool": 1,
          "grad_clip": 0, "ckpt_every": 1, "ckpt_minutes": 0, "val_every": 1, "log_every": 1,
          "n_val_clips": 0, "seed": 0, "num_threads": 1, "devices": 1}


def _check_ranges(cfg: TrainConfig, disc: DiscriminatorConfig) -> None:
    """Numeric settings within their ranges; crops at least the PatchGAN's smallest input
    (``3 · 2 ** n_layers``: its stride-2 layers, then two 4-wide convolutions).

    Raises:
        ConfigError: one line naming the setting and its valid range.
    """
    check_ranges(cfg, "SpectroGAN", at_least=RANGES, positive=("lr",),
                 fractions=("decay_from",))
    if not 0.0 <= cfg.beta1 < 1.0:
        raise ConfigError(f"SpectroGAN setting beta1 must be at least 0 and below 1, got "
                          f"{cfg.beta1}")
    least = 3 * 2 ** disc.n_layers
    rows = cfg.spec.get("freq_size", least)
    if cfg.crop_frames < least:
        raise ConfigError(f"SpectroGAN setting crop_frames must be at least {least} (the "
                          f"discriminator's {disc.n_layers} stride-2 layers), got "
                          f"{cfg.crop_frames}")
    if cfg.crop_rows is not None and not least <= cfg.crop_rows <= rows:
        raise ConfigError(f"SpectroGAN setting crop_rows must be {least} to {rows} (freq_size) "
                          f"or null (whole images), got {cfg.crop_rows}")


def scheduled_lr(it: int, lr: float, decay_from: float, max_steps: int) -> float:
    """Learning rate of iteration ``it``: ``lr`` until ``decay_from * max_steps``, then linear
    decay to 0 at ``max_steps``."""
    start = int(decay_from * max_steps)
    if it < start:
        return lr
    return lr * max(0.0, (max_steps - it) / max(1, max_steps - start))


# settings that do not change what is learned may differ on resume (inference: new inference
# fields get their defaults; re-running a finished run re-exports model.pt; max_steps: see
# check_schedule)
RESUME_FREE = ("max_steps", "devices", "accelerator", "num_threads", "ckpt_every",
               "ckpt_minutes", "val_every", "log_every", "inference")


def resume_free(cfg: TrainConfig) -> tuple[str, ...]:
    """The settings that may differ on resuming ``cfg``'s run: :data:`RESUME_FREE`, and for a
    many-to-many run its ``target``, which it does not use (its validation clips go to every
    other emotion; earlier versions stored angry even for a run without it)."""
    return (*RESUME_FREE, "target") if cfg.emotions else RESUME_FREE


def check_schedule(cfg: TrainConfig, old: dict, done: int) -> None:
    """Refuse a ``max_steps`` that changes the learning rate of the ``done`` iterations a run
    has trained (the rate decays over the last ``1 - decay_from`` of ``max_steps``): the
    resumed run would not be the run an uninterrupted one with the new ``max_steps`` is.
    Before the decay starts a run may be extended or shortened freely.

    Raises:
        ConfigError: the schedules differ on an iteration already trained.
    """
    old_max = int(old.get("max_steps", cfg.max_steps))
    if old_max == cfg.max_steps:
        return
    rates = (cfg.lr, cfg.decay_from)
    if all(scheduled_lr(it, *rates, old_max) == scheduled_lr(it, *rates, cfg.max_steps)
           for it in range(done)):
        return
    start = int(cfg.decay_from * old_max)
    raise ConfigError(
        f"run {cfg.run_dir} has trained {done} of {old_max} iterations and its learning rate "
        f"decays from iteration {start} (decay_from {cfg.decay_from}); max_steps "
        f"{cfg.max_steps} would change the rate of iterations already trained, so the "
        f"resumed run would not be exact: keep --max-steps {old_max}, or start a new run "
        "(another -o, or --force)")
