"""SpectroGAN training settings: :class:`TrainConfig`, the presets and :func:`build_config`.

Presets: ``compact`` (CPU, pairwise), ``m2m`` (CPU, many-to-many with a prosody stage;
:mod:`emovc.training.spectrogan_m2m`), ``faithful``/``full`` (the published 260×260 system) and
``faithful-520``. The training loops live in :mod:`emovc.training.spectrogan`, which re-exports
these names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from emovc.config import same_kind
from emovc.data.emotions import EMOTIONS, normalize_emotion
from emovc.errors import ConfigError, choice_error
from emovc.models.spectrogan.networks import DiscriminatorConfig, GeneratorConfig
from emovc.models.spectrogan.representation import SpecConfig
from emovc.pipelines.spectrogan import InferenceConfig

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
    val_every: int = 500
    log_every: int = 20
    n_val_clips: int = 2
    seed: int = 0
    num_threads: int = 1
    devices: int = 1

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


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
            (preset ``m2m``: many-to-many) ``source`` only picks the validation clips.
        preset: ``compact`` (CPU) | ``m2m`` (CPU, many-to-many) | ``faithful``/``full``
            (published 260×260) | ``faithful-520``.
        max_steps: training iterations (one G and one D update each).
        devices: Lightning devices.
        overrides: top-level TrainConfig fields; nested ``spec``/``generator``/
            ``discriminator``/``inference`` dicts are merged key by key.

    Raises:
        ConfigError: unknown preset, emotion or override key.
    """
    src = normalize_emotion(source or "calm")
    tgt = normalize_emotion(target or "angry")
    if src == tgt:
        raise ConfigError(f"source and target emotion are both {src!r}")
    values = _preset(preset)
    defaults = asdict(TrainConfig("", ""))
    for key, val in (overrides or {}).items():
        if key not in defaults:
            raise ConfigError(f"unknown SpectroGAN setting {key!r}; valid: {sorted(defaults)}")
        if isinstance(val, dict) and key in ("spec", "generator", "discriminator", "inference"):
            val = {**(values.get(key) or defaults[key]), **val}
        values[key] = same_kind(f"SpectroGAN setting {key}", val, values.get(key, defaults[key]))
    if max_steps is not None:
        values["max_steps"] = int(max_steps)
    cfg = TrainConfig(data_dir=str(data_dir), run_dir=str(run_dir), source=src, target=tgt,
                      preset=preset, devices=int(devices), **values)
    if cfg.emotions:  # many-to-many: one condition / discriminator map per emotion
        cfg.emotions = [normalize_emotion(e) for e in cfg.emotions]
        if len(set(cfg.emotions)) != len(cfg.emotions) or len(cfg.emotions) < 2:
            raise ConfigError(f"emotions must be 2 or more distinct labels, got {cfg.emotions}")
        if src not in cfg.emotions:
            raise choice_error("validation source emotion", src, cfg.emotions)
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
    DiscriminatorConfig.from_dict(cfg.discriminator)
    return cfg
