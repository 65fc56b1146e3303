"""SpectroGAN emotion conversion: STFT log-magnitude → CycleGAN generator → fast Griffin-Lim.

Pipeline for one waveform (any length, any sample rate)::

    resample to 16 kHz → loudness to -23 dBFS → STFT (log-magnitude + source phase)
    → per-bin normalisation to [-1, 1] → generator, window by window over frames with
      overlap-add cross-fades (emovc.audio.chunking) → log-magnitude correction
    → fast Griffin-Lim (momentum 0.99) initialised with the SOURCE phase
    → undo the loudness gain → resample back; output has the input's length.

Input at a sample rate other than the model's (16 kHz) is resampled to it and the output
resampled back, so the output is at the input's rate.

``intensity`` (0..1, as for every emovc converter) scales the generator's log-magnitude change:
0 = resynthesised input, 1 = the trained conversion.

A many-to-many model (one target-conditioned generator for all emotions of the corpus) may
carry a prosody stage (:mod:`emovc.models.spectrogan.prosody`): it first moves log-F0 and
tempo to the target emotion's averages by WORLD resynthesis, then the generator converts the
magnitude; the output is then longer or shorter by the tempo factor. Its level offsets are
applied by :class:`emovc.pipelines.conversion.EmotionConverter` (``normalizer``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import torch

from emovc.audio import normalize_loudness, process_in_windows
from emovc.audio.io import resample
from emovc.audio.processing import as_mono, check_float_samples, check_sample_rate
from emovc.data.emotions import check_model_emotion, normalize_emotion
from emovc.errors import AudioError, ConfigError
from emovc.features.spectral import griffin_lim
from emovc.features.stats import FeatureStats
from emovc.features.world import WorldConfig
from emovc.models.checkpoint import load_checkpoint
from emovc.models.conversion.converters import StarGANFeatureConverter, check_intensity
from emovc.models.conversion.normalizer import EmotionNormalizer
from emovc.models.spectrogan.networks import Generator, GeneratorConfig
from emovc.models.spectrogan.prosody import ProsodyShift
from emovc.models.spectrogan.representation import (
    Normalizer,
    SpecConfig,
    activity,
    analyze,
    lifter,
)
from emovc.pretrained.registry import resolve

KIND = "emotion-converter/spectrogan"


@dataclass(frozen=True)
class InferenceConfig:
    """Inference settings stored with the model (overridable per converter).

    Attributes:
        window_frames: generator window along time, in STFT frames.
        overlap_frames: cross-faded overlap between windows, in frames.
        gl_iters: Griffin-Lim iterations.
        gl_momentum: fast Griffin-Lim momentum (0 = plain Griffin-Lim).
        source_phase: initialise Griffin-Lim with the source phase (else random).
        spectrum_shift: strength of the prosody stage's average-spectrum change (1 = the
            full measured difference between the emotions, 0 = off; scaled by intensity).
            Measured with spectrogan-ravdess v2 (added after the generator) on 192 RAVDESS
            conversions (actors 17-20), judge-E mirror rate / speaker similarity: 0 -> 24 % /
            0.706, 0.5 -> 29 % / 0.699, 1 -> 28 % / 0.688; v3 (trained with the full change
            on its input) 1 -> 28 % / 0.728 (docs/spectrogan.md).
        spectrum_lifter: cosine coefficients kept when smoothing that change along
            frequency (0 = per-bin as measured). On 48 of those conversions 8 coefficients
            kept most of the judged emotion (27 % vs 31 %) at a higher speaker similarity
            (0.699 vs 0.667) than the per-bin change.
        shift_input: add that change to the generator's *input* (the generator then adds only
            what it learned on top); set for models trained with ``input_shift``, whose
            generator learned the residual from shifted inputs. Off: the change is added to
            the generator's output (models trained without it).
        f0_model: bundled name or path of a WORLD-feature many-to-many emotion converter
            whose converted log-F0 contour the prosody stage uses instead of its per-emotion
            mean/spread shift ("" = that shift). Only for models with a prosody stage. With
            ``m2m-ravdess`` (spectrogan-ravdess v4) on 192 RAVDESS conversions (actors 17-20):
            recogniser 17 % -> 22 %, judge-E mirror 28 % -> 28 %, speaker similarity 0.728 ->
            0.739, log-F0 RMSE 704 -> 675 cents (docs/spectrogan.md).
        f0_model_envelope: low-order mel-cepstral coefficients (c0 = energy, c1... = coarse
            spectral tilt) on which the prosody stage also applies that F0 model's envelope
            change, frame by frame (0 = the source envelope; needs ``f0_model``).
        f0_model_envelope_strength: fraction of that change (1 = the F0 model's coefficients).
            spectrogan-ravdess v5 (5 coefficients at 0.6) on 192 RAVDESS conversions (actors
            17-20), recogniser / judge-E mirror / speaker similarity: v4 (none) 21 % / 33 % /
            0.740, 0.6 -> 27 % / 41 % / 0.721, 1 -> 36 % / 43 % / 0.703 (docs/spectrogan.md).
    """

    window_frames: int = 256
    overlap_frames: int = 32
    gl_iters: int = 32
    gl_momentum: float = 0.99
    source_phase: bool = True
    spectrum_shift: float = 0.5
    spectrum_lifter: int = 8
    shift_input: bool = False
    f0_model: str = ""
    f0_model_envelope: int = 0
    f0_model_envelope_strength: float = 1.0

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


def average_spectrum_shift(prosody: ProsodyShift | None, source: str, target: str,
                           strength: float, lifter_coefs: int) -> np.ndarray | None:
    """``(n_bins,)`` natural-log magnitude change from ``source`` to ``target`` speech: the
    prosody stage's per-emotion average-spectrum offsets times ``strength``, smoothed along
    frequency to ``lifter_coefs`` cosine coefficients; ``None`` without such offsets."""
    if prosody is None:
        return None
    shift = prosody.spectral_shift(source, target, strength)
    return None if shift is None else lifter(shift, lifter_coefs)


def with_f0_model(prosody: ProsodyShift | None, f0_model: str, envelope_coefs: int = 0,
                  envelope_strength: float = 1.0) -> ProsodyShift | None:
    """``prosody`` with the learned F0 stage ``f0_model`` (bundled name or checkpoint path of a
    WORLD-feature many-to-many converter; "" = unchanged) and its envelope change on
    ``envelope_coefs`` low-order cepstra at ``envelope_strength`` (:class:`ProsodyShift`).

    Raises:
        ConfigError: ``f0_model`` set on a model without a prosody stage, not a many-to-many
            WORLD-feature converter, or not matching the prosody stage's frames or emotions;
            ``envelope_coefs`` without ``f0_model`` or beyond its envelope size.
    """
    if not f0_model:
        if envelope_coefs:
            raise ConfigError("f0_model_envelope needs an F0 model (inference f0_model)")
        return prosody
    if prosody is None:
        raise ConfigError("f0_model needs a prosody stage (many-to-many SpectroGAN models)")
    ckpt = load_checkpoint(resolve(f0_model, "emotion-converter/"))
    if ckpt.get("kind") != StarGANFeatureConverter.kind:
        raise ConfigError(f"f0_model {f0_model!r} is a {ckpt.get('kind')!r} model, not a "
                          f"{StarGANFeatureConverter.kind!r} converter")
    return ProsodyShift(prosody.normalizer, prosody.world, StarGANFeatureConverter(ckpt),
                        envelope_coefs, envelope_strength)


def _stretched(n: int, tempo: float) -> int:
    """Length of the prosody stage's output for ``n`` samples in (:meth:`ProsodyShift.apply`)."""
    return n if tempo == 1.0 else int(round(n * tempo))


class SpectroGANConverter:
    """Emotion converter built from a trained SpectroGAN.

    Pairwise (``a ↔ b``): two one-way generators. Many-to-many: one generator conditioned on
    the target emotion (``g_ba=None`` and ``g_ab.cfg.n_domains == len(emotions)``).

    Args:
        emotions: ``(a, b)`` canonical names of the two domains, or all emotions of a
            many-to-many model in the generator's condition order.
        g_ab: generator ``a → b`` (or the many-to-many generator); g_ba: generator ``b → a``.
        spec: STFT/image settings; stats: per-bin log-magnitude statistics.
        inference: windowing and Griffin-Lim settings.
        prosody: optional prosody stage applied before the generator (many-to-many models).
    """

    def __init__(self, emotions: tuple[str, ...], g_ab: Generator, g_ba: Generator | None,
                 spec: SpecConfig, stats: FeatureStats,
                 inference: InferenceConfig = InferenceConfig(),
                 prosody: ProsodyShift | None = None) -> None:
        self.emotions = tuple(normalize_emotion(e) for e in emotions)
        if g_ba is None:
            if g_ab.cfg.n_domains != len(self.emotions):
                raise ConfigError(f"many-to-many generator has {g_ab.cfg.n_domains} conditions "
                                  f"but {len(self.emotions)} emotions were given")
            self.generators = {e: g_ab.eval() for e in self.emotions}
        else:
            if len(self.emotions) != 2:
                raise ConfigError("a pairwise SpectroGAN converts between exactly 2 emotions")
            self.generators = {self.emotions: g_ab.eval(), self.emotions[::-1]: g_ba.eval()}
        self.many_to_many = g_ba is None
        self.spec = spec
        self.norm = Normalizer(spec, stats)
        self.inference = inference
        self.prosody = prosody
        if prosody is not None and prosody.spectrum_bins not in (0, spec.n_bins):
            raise ConfigError(f"spectral offsets have {prosody.spectrum_bins} bins, the STFT has "
                              f"{spec.n_bins}: model/feature mismatch")

    @property
    def normalizer(self) -> EmotionNormalizer | None:
        """Per-emotion level offsets for :class:`~emovc.pipelines.conversion.EmotionConverter`
        (``None`` without a prosody stage: the output keeps the input's level)."""
        return self.prosody.normalizer if self.prosody is not None else None

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_checkpoint(cls, ckpt: dict, inference: InferenceConfig | None = None
                        ) -> SpectroGANConverter:
        """Build from a loaded ``emotion-converter/spectrogan`` checkpoint dictionary."""
        if ckpt.get("kind") != KIND:
            raise ConfigError(f"expected a {KIND!r} checkpoint, got {ckpt.get('kind')!r}")
        cfg, extra = ckpt["config"], ckpt["extra"]
        gcfg = GeneratorConfig.from_dict(cfg["generator"])
        gens = []
        for prefix in ("g.",) if gcfg.n_domains else ("g_ab.", "g_ba."):
            g = Generator(gcfg)
            g.load_state_dict({k[len(prefix):]: v for k, v in ckpt["state_dict"].items()
                               if k.startswith(prefix)})
            gens.append(g)
        inf = inference or InferenceConfig(**extra.get("inference", {}))
        prosody = None
        if extra.get("prosody"):
            prosody = ProsodyShift(EmotionNormalizer.from_dict(extra["prosody"]["normalizer"]),
                                   WorldConfig.from_dict(extra["prosody"]["world"]))
        prosody = with_f0_model(prosody, inf.f0_model, inf.f0_model_envelope,
                                inf.f0_model_envelope_strength)
        return cls(tuple(cfg["emotions"]), gens[0], gens[1] if len(gens) > 1 else None,
                   SpecConfig.from_dict(cfg["spec"]), FeatureStats.from_dict(extra["stats"]),
                   inf, prosody)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike) -> SpectroGANConverter:
        """Load a bundled model name (e.g. ``"spectrogan-ravdess"``) or a ``.pt`` path."""
        return cls.from_checkpoint(load_checkpoint(resolve(name_or_path, KIND), KIND))

    @property
    def source_emotions(self) -> list[str]:
        """Emotions this model converts from."""
        return list(self.emotions)

    @property
    def target_emotions(self) -> list[str]:
        """Emotions this model converts to."""
        return list(self.emotions)

    # --- conversion ---------------------------------------------------------------------
    def _direction(self, target: str, source: str | None) -> tuple[str | None, str]:
        tgt = check_model_emotion(target, list(self.emotions), "target")
        if self.many_to_many:
            if source is None:
                return None, tgt
            return check_model_emotion(source, list(self.emotions), "source"), tgt
        src = self.emotions[1] if tgt == self.emotions[0] else self.emotions[0]
        if source is not None and normalize_emotion(source) != src:
            raise ConfigError(f"this model converts {src} -> {tgt}, not {source} -> {target}; "
                              f"pairs: {self.emotions[0]} <-> {self.emotions[1]}")
        return src, tgt

    def _generator(self, src: str | None, tgt: str):
        """``(1, 1, F, T) tensor -> same`` for the direction ``src -> tgt``."""
        if not self.many_to_many:
            return self.generators[(src, tgt)]
        gen, idx = self.generators[tgt], torch.tensor([self.emotions.index(tgt)])
        return lambda x: gen(x, domain=idx)

    @torch.no_grad()
    def convert_log_mag(self, log_mag: np.ndarray, target: str, source: str | None = None,
                        intensity: float = 1.0) -> np.ndarray:
        """Convert a ``(n_bins, T)`` natural-log magnitude; returns the same shape.

        Raises:
            ConfigError: ``intensity`` outside [0, 1] (or NaN), or target/source not handled.
        """
        intensity = check_intensity(intensity)
        src, tgt = self._direction(target, source)
        gen = self._generator(src, tgt)
        shift = self._spectral_shift(log_mag, src, tgt, intensity)
        base = log_mag + shift if self.inference.shift_input else log_mag
        clipped = self.norm.clipped(base)
        image = self.norm.to_image(base)

        def run(frames: np.ndarray) -> np.ndarray:  # (t, freq_size) -> (t, freq_size)
            x = torch.from_numpy(np.ascontiguousarray(frames.T))[None, None]
            return gen(x)[0, 0].numpy().T

        inf = self.inference
        out = process_in_windows(image.T, run, inf.window_frames, inf.overlap_frames).T
        delta = self.norm.from_image(out, clipped) - self.norm.from_image(image, clipped)
        out = base + float(intensity) * delta
        return out if inf.shift_input else out + shift

    def _spectral_shift(self, log_mag: np.ndarray, source: str | None, target: str,
                        intensity: float) -> np.ndarray | float:
        """The prosody stage's average-spectrum change on the speech frames of ``log_mag``
        (``(n_bins, T)``), or 0 without one."""
        if source is None:
            return 0.0
        shift = average_spectrum_shift(self.prosody, source, target,
                                       intensity * self.inference.spectrum_shift,
                                       self.inference.spectrum_lifter)
        if shift is None:
            return 0.0
        return (shift[:, None] * activity(log_mag)[None]).astype(np.float32)

    @property
    def min_model_samples(self) -> int:
        """Fewest samples at the model's rate that the STFT (reflect padding of ``n_fft // 2``
        at each end) and the generators (:attr:`Generator.min_frames` STFT frames) take."""
        frames = max(g.min_frames for g in self.generators.values())
        return max(self.spec.n_fft // 2 + 1, (frames - 1) * self.spec.hop_length)

    def min_samples(self, sr: int, tempo: float = 1.0) -> int:
        """Fewest input samples at ``sr`` Hz that :meth:`convert` takes, with the prosody
        stage's duration factor ``tempo`` (:meth:`ProsodyShift.tempo`; 1 without one)."""
        model_sr = self.spec.sample_rate
        n = max(1, int((self.min_model_samples - 1 - tempo) / tempo * sr / model_sr) - 1)
        while _stretched(len(resample(np.zeros(n, np.float32), sr, model_sr)), tempo
                         ) < self.min_model_samples:  # the rounding of both steps, exactly
            n += 1
        return n

    def convert(self, wav: np.ndarray, sr: int, target: str, source: str | None = None,
                intensity: float = 1.0, pitch_level: float = 1.0) -> np.ndarray:
        """Convert ``wav`` to ``target``.

        Args:
            wav: mono float samples in [-1, 1], ``(n,)`` (``(n, channels)`` is mixed down, see
                :func:`~emovc.audio.processing.as_mono`).
            sr: its sample rate in Hz; other rates than the model's 16 kHz are resampled to
                it for the conversion and the output is resampled back to ``sr``.
            target, source: emotions (``source`` is required with a prosody stage).
            intensity: 0..1, share of the conversion (0 = resynthesised input).
            pitch_level: 0..1, share of the prosody stage's change of mean log-F0 that is kept.

        Returns:
            float32 audio at ``sr`` of the input's length (times the prosody stage's tempo
            factor, if any).

        Raises:
            AudioError: not a mono waveform, integer PCM or samples far beyond full scale,
                NaN/Inf samples, ``sr`` not a positive integer, or shorter than
                :meth:`min_samples` (512 samples at 16 kHz for the usual 128-sample hop).
            ConfigError: ``intensity`` or ``pitch_level`` outside [0, 1] or NaN, target/source
                not handled by this model, a prosody stage without a ``source`` emotion, or
                ``pitch_level`` below 1 without one.
        """
        wav = check_float_samples(as_mono(wav))
        sr = check_sample_rate(sr)
        intensity = check_intensity(intensity)
        pitch_level = check_intensity(pitch_level, "pitch level")
        src, tgt = self._direction(target, source)
        if pitch_level != 1.0 and self.prosody is None:
            raise ConfigError("pitch level applies to models that convert F0 (WORLD models and "
                              "SpectroGANs with a prosody stage); this SpectroGAN has none")
        x = resample(wav, sr, self.spec.sample_rate)
        tempo = (1.0 if self.prosody is None or src is None
                 else self.prosody.tempo(src, tgt, intensity))
        if _stretched(len(x), tempo) < self.min_model_samples:
            raise AudioError(f"audio too short for SpectroGAN: {len(wav)} samples at {sr} Hz "
                             f"(need at least {self.min_samples(sr, tempo)})")
        n_out = len(wav)
        if self.prosody is not None:
            if src is None:
                raise ConfigError("this model shifts prosody from the source emotion: pass "
                                  f"source= one of {', '.join(self.emotions)}")
            n_out = int(round(len(wav) * self.prosody.tempo(src, tgt, intensity)))
            x = self.prosody.apply(x, src, tgt, intensity, pitch_level)
        xn = normalize_loudness(x, self.spec.sample_rate)
        gain = float(np.dot(xn, x) / max(float(np.dot(x, x)), 1e-20))
        log_mag, phase = analyze(xn, self.spec)
        log_out = self.convert_log_mag(log_mag, tgt, src, intensity)
        y = self.synthesize(log_out, phase, len(xn))
        y = y / gain if gain > 0 else y
        y = resample(y, self.spec.sample_rate, sr)[:n_out]
        y = np.pad(y, (0, n_out - len(y)))
        peak = float(np.max(np.abs(y))) if y.size else 0.0
        return (y * (0.99 / peak) if peak > 0.99 else y).astype(np.float32)

    def synthesize(self, log_mag: np.ndarray, phase: np.ndarray | None, length: int
                   ) -> np.ndarray:
        """Waveform of ``length`` samples from a log-magnitude by fast Griffin-Lim."""
        inf = self.inference
        init = phase if (inf.source_phase and phase is not None) else None
        return griffin_lim(np.exp(log_mag), self.spec.stft, n_iter=inf.gl_iters,
                           momentum=inf.gl_momentum, init_phase=init, length=length)
