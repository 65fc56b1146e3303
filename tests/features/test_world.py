"""WORLD analysis/synthesis and coded parameters on synthetic speech with known F0."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.data.synthetic import EMOTION_VOICES, f0_contour
from emovc.data.synthetic import synthesize as speech
from emovc.errors import AudioError, ConfigError
from emovc.features.world import (
    WorldConfig,
    analyze,
    analyze_f0,
    decode_aperiodicity,
    decode_envelope,
    encode_aperiodicity,
    encode_envelope,
    resynthesize,
    synthesize,
)

SR = 16000
DUR = 1.5
SEED = 3


def _true_f0(voice_name: str, n_frames: int) -> np.ndarray:
    """Ground-truth F0 of ``speech(voice, DUR, seed=SEED)`` sampled at the 5 ms frame centres."""
    n = int(DUR * SR)
    f0 = f0_contour(EMOTION_VOICES[voice_name], n, SR, np.random.default_rng(SEED))
    return f0[np.minimum(np.arange(n_frames) * 80, n - 1)]


def _true_voicing(voice_name: str, n_frames: int, margin: float = 0.02) -> np.ndarray:
    """Frames inside the glottal-pulse part of each synthetic syllable (see data.synthetic)."""
    voice = EMOTION_VOICES[voice_name]
    n, edge, syl = int(DUR * SR), int(0.15 * SR), int(SR / voice.rate)
    centres = np.arange(n_frames) * 80
    mask = np.zeros(n_frames, dtype=bool)
    for start in range(edge, n - edge, syl):
        end = min(start + syl, n - edge)
        onset = start + int((end - start) * voice.unvoiced_ratio)
        mask |= (centres >= onset + margin * SR) & (centres < end - margin * SR)
    return mask


def _mcd(sp_a: np.ndarray, sp_b: np.ndarray, mask: np.ndarray) -> float:
    """Mean mel-cepstral distortion (dB, c0 excluded, SPTK mel-cepstrum) over masked frames."""
    cfg = WorldConfig(envelope_coding="pysptk", mcep_dim=25)
    diff = encode_envelope(sp_a[mask], cfg)[:, 1:] - encode_envelope(sp_b[mask], cfg)[:, 1:]
    return float(np.mean(10.0 / np.log(10.0) * np.sqrt(2.0 * np.sum(diff**2, axis=1))))


@pytest.fixture(scope="module")
def wav() -> np.ndarray:
    return speech(EMOTION_VOICES["neutral"], duration=DUR, seed=SEED)


@pytest.fixture(scope="module")
def feats(wav):
    return analyze(wav, WorldConfig())


def test_shapes_and_ranges(wav, feats):
    cfg = WorldConfig()
    t = cfg.n_frames(wav.shape[0])
    assert feats.f0.shape == (t,) and feats.sp.shape == (t, 513) and feats.ap.shape == (t, 513)
    assert feats.f0.dtype == np.float64
    assert np.all(feats.f0 >= 0) and np.all(feats.sp > 0)
    assert np.all((feats.ap >= 0) & (feats.ap <= 1 + 1e-9))
    # 0.15 s of near-silence at both ends must be unvoiced; most of the middle voiced
    assert not feats.f0[:20].any() and 0.4 < np.mean(feats.f0 > 0) < 0.9


@pytest.mark.parametrize("method", ["dio", "harvest"])
@pytest.mark.parametrize("voice", ["neutral", "sad", "angry"])
def test_f0_matches_ground_truth(method, voice):
    wav = speech(EMOTION_VOICES[voice], duration=DUR, seed=SEED)
    f0, times = analyze_f0(wav, WorldConfig(f0_method=method), sr=SR)
    assert np.allclose(np.diff(times), 0.005)
    true, voiced = _true_f0(voice, f0.shape[0]), _true_voicing(voice, f0.shape[0])
    assert np.mean(f0[voiced] > 0) > 0.7  # voicing recall (DIO ≈ 0.8, Harvest 1.0)
    v = voiced & (f0 > 0)
    rel = np.abs(f0[v] / true[v] - 1.0)
    assert np.median(rel) < 0.01  # < 1 % (≈ 0.17 semitone) typical error
    assert np.mean(rel < 0.05) > 0.95  # few gross errors


def test_resynthesis_preserves_f0_and_envelope(wav, feats):
    cfg = WorldConfig()
    y = resynthesize(wav, cfg)
    assert y.shape == wav.shape and y.dtype == np.float32
    again = analyze(y, cfg)
    both = (feats.f0 > 0) & (again.f0 > 0)
    assert both.sum() > 100
    assert np.mean((feats.f0 > 0) == (again.f0 > 0)) > 0.85
    assert np.median(np.abs(again.f0[both] / feats.f0[both] - 1)) < 0.01
    assert _mcd(feats.sp, again.sp, both) < 3.5  # dB; measured ≈ 1.9


def test_synthesis_follows_modified_f0(feats):
    cfg = WorldConfig()
    y = synthesize(feats.f0 * 1.25, feats.sp, feats.ap, cfg)
    f0 = analyze_f0(y, cfg)[0]
    t = min(f0.shape[0], feats.f0.shape[0])
    both = (f0[:t] > 0) & (feats.f0[:t] > 0)
    assert np.median(f0[:t][both] / feats.f0[:t][both]) == pytest.approx(1.25, abs=0.02)


@pytest.mark.parametrize("coding", ["pyworld", "pysptk"])
def test_envelope_coding_fidelity(feats, coding):
    cfg = WorldConfig(envelope_coding=coding)
    mc = encode_envelope(feats.sp, cfg)
    assert mc.shape == (feats.n_frames, 36)
    sp = decode_envelope(mc, cfg)
    assert sp.shape == feats.sp.shape and np.all(sp > 0)
    lsd = np.sqrt(np.mean((10 * np.log10(sp / feats.sp)) ** 2, axis=1))
    assert lsd.mean() < 3.0  # dB; measured ≈ 1.5-2.0 for both coders
    # more coefficients -> closer envelope
    sp60 = decode_envelope(encode_envelope(feats.sp, cfg, dim=60), cfg)
    assert np.sqrt(np.mean((10 * np.log10(sp60 / feats.sp)) ** 2)) < np.sqrt(np.mean(lsd**2))


@pytest.mark.parametrize("coding", ["pyworld", "pysptk"])
def test_envelope_coefficients_out_of_range_are_refused(feats, coding):
    """An envelope (T, 513) given to decode_envelope crashed the interpreter in pyworld
    (malloc: invalid size); no coefficient at all raised an IndexError."""
    cfg = WorldConfig(envelope_coding=coding)
    for bad in (feats.sp, np.zeros((10, 0))):
        with pytest.raises(ConfigError, match=r"1 to 512 coefficients .*got mcep of shape "
                                              rf"\(\d+, {bad.shape[1]}\)"):
            decode_envelope(bad, cfg)
    with pytest.raises(ConfigError, match="got dim 0"):
        encode_envelope(feats.sp, cfg, dim=0)
    assert decode_envelope(np.zeros((10, 512)), cfg).shape == (10, 513)  # the most allowed
    assert decode_envelope(encode_envelope(feats.sp, cfg, dim=24), cfg).shape == feats.sp.shape


def test_aperiodicity_coding_round_trip(feats):
    coded = encode_aperiodicity(feats.ap)
    assert coded.shape == (feats.n_frames, 1)  # one band at 16 kHz
    ap = decode_aperiodicity(coded)
    assert ap.shape == feats.ap.shape and np.all((ap >= 0) & (ap <= 1))
    inner = coded[:, 0] < -1.0  # away from the 0 dB clip
    assert np.allclose(encode_aperiodicity(ap)[inner], coded[inner], atol=1e-6)


def test_config_dict_round_trip():
    cfg = WorldConfig(f0_method="harvest", envelope_coding="pysptk", mcep_alpha=0.42)
    assert WorldConfig.from_dict(cfg.to_dict()) == cfg
    assert WorldConfig().alpha == pytest.approx(0.41)
    with pytest.raises(ConfigError, match="unknown WorldConfig keys"):
        WorldConfig.from_dict({**cfg.to_dict(), "bogus": 1})


@pytest.mark.parametrize("kwargs, match", [
    ({"f0_method": "yin"}, "valid choices: dio, harvest"),
    ({"envelope_coding": "lpc"}, "valid choices: pyworld, pysptk"),
    ({"f0_floor": 900.0}, "f0_floor < f0_ceil"),
    ({"fft_size": 1000}, "power of two"),
    ({"f0_floor": 30.0}, "too small for f0_floor"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        WorldConfig(**kwargs)


def test_bad_audio(wav, feats):
    with pytest.raises(ConfigError, match="sample rate 22050"):
        analyze(wav, WorldConfig(), sr=22050)
    with pytest.raises(AudioError, match="too short"):
        analyze(wav[:300])
    with pytest.raises(AudioError, match="mono"):
        analyze(np.stack([wav, wav]))
    with pytest.raises(AudioError, match="NaN"):
        analyze(np.full(4000, np.nan))
    with pytest.raises(AudioError, match="float"):
        analyze((wav * 1000).astype(np.int16))
    with pytest.raises(ConfigError, match="frame counts differ"):
        synthesize(feats.f0[:-1], feats.sp, feats.ap)
    with pytest.raises(ConfigError, match="shape"):
        synthesize(feats.f0, feats.sp[:, :100], feats.ap)


def test_parallel_synthesis_splits_only_in_unvoiced_frames(feats):
    from emovc.features.world_parallel import _unvoiced_split, synthesize_parallel

    f0 = feats.f0.copy()
    t = f0.shape[0]
    f0[t // 2 - 10: t // 2 + 10] = 0.0  # a 100 ms pause in the middle
    serial = synthesize(f0, feats.sp, feats.ap)
    split = _unvoiced_split(f0, 5)
    assert split is not None and f0[split - 5: split + 5].max() == 0.0
    both = synthesize_parallel(f0, feats.sp, feats.ap)
    assert both.shape == serial.shape and np.isfinite(both).all()
    x0 = int((split - 3) * 80)
    np.testing.assert_array_equal(both[:x0], serial[:x0])  # first piece is the serial start
    voiced = np.full_like(f0, 150.0)  # no pause: one piece, identical to serial
    np.testing.assert_array_equal(synthesize_parallel(voiced, feats.sp, feats.ap),
                                  synthesize(voiced, feats.sp, feats.ap))


def test_world_pool_works_in_forked_children(feats):
    """Process pools fork after the thread pool exists; the child must get its own threads."""
    import multiprocessing as mp

    from emovc.features.world_parallel import synthesize_parallel, world_pool

    world_pool()  # make sure the parent's pool exists before forking
    f0 = feats.f0.copy()
    f0[f0.shape[0] // 2 - 10: f0.shape[0] // 2 + 10] = 0.0
    with mp.get_context("fork").Pool(1) as pool:
        res = pool.apply_async(synthesize_parallel, (f0, feats.sp, feats.ap))
        out = res.get(timeout=60)
    np.testing.assert_array_equal(out, synthesize_parallel(f0, feats.sp, feats.ap))


def test_resynthesis_never_overwrites_its_input(tmp_path) -> None:
    """It raised AudioError, as if the audio were bad; now ConfigError, as every command."""
    from emovc.audio import save_audio
    from emovc.pipelines.analysis import resynthesize_file

    src = save_audio(tmp_path / "a.wav", speech(EMOTION_VOICES["calm"], duration=1.0), 16000)
    with pytest.raises(ConfigError, match=r"^output would overwrite the input file: "):
        resynthesize_file(src, src, force=True)



@pytest.mark.parametrize("kwargs, match, edge", [
    ({"sample_rate": 2000}, r"sample_rate must be >= 4000 Hz, got 2000$", 4000),
    ({"frame_period": 0.0}, r"frame_period must be in \(0, 50\] ms, got 0.0$", 0.1),
    ({"frame_period": 60.0}, r"frame_period must be in \(0, 50\] ms, got 60.0$", 50.0),
    ({"mcep_dim": 1}, r"mcep_dim must be in \[2, 512\], got 1$", 2),
    ({"mcep_dim": 513}, r"mcep_dim must be in \[2, 512\], got 513$", 512),
])
def test_out_of_range_settings_are_refused(kwargs, match, edge):
    with pytest.raises(ConfigError, match=match):
        WorldConfig(**kwargs)
    name = next(iter(kwargs))
    assert getattr(WorldConfig(**{name: edge}), name) == edge  # the limit itself is allowed


@pytest.mark.parametrize("shape", [(36,), (2, 10, 36)])
def test_decode_refuses_an_mcep_that_is_not_frames_by_coefficients(shape):
    """A 1-D or 3-D array is one line, not a pyworld crash or a silent reinterpretation."""
    import re

    with pytest.raises(ConfigError, match=re.escape(f"mcep must have shape (T, D), got {shape}")):
        decode_envelope(np.zeros(shape))
