"""Optional CWT log-energy of the CycleGAN-EmoVC model (``energy_cwt``)."""

import numpy as np
import pytest
import torch

from emovc.audio.processing import speech_bounds
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.features.world import WorldConfig
from emovc.models.checkpoint import load_checkpoint, save_checkpoint
from emovc.models.conversion.cyclegan import (
    CycleGANModelConfig,
    contour_cwt,
    contour_from_cwt,
    rescale_contour,
)
from emovc.models.conversion.features import analyze_for_conversion
from emovc.pipelines.conversion import EmotionConverter


@pytest.fixture(scope="module")
def calm() -> np.ndarray:
    return synthesize(EMOTION_VOICES["calm"], duration=1.5, seed=99)


def _voiced_fit(ref: np.ndarray, est: np.ndarray, vuv: np.ndarray) -> tuple[float, float]:
    """Correlation and RMSE of ``est`` against ``ref`` on voiced frames."""
    return float(np.corrcoef(ref[vuv], est[vuv])[0, 1]), float(np.sqrt(((est - ref)[vuv] ** 2)
                                                                        .mean()))


@pytest.mark.parametrize("emotion,seed", [("calm", 1), ("angry", 2), ("sad", 3)])
def test_energy_cwt_round_trip_reconstructs_log_energy(emotion, seed):
    feats, _, _ = analyze_for_conversion(synthesize(EMOTION_VOICES[emotion], 1.5, seed=seed),
                                         WorldConfig())
    c0, vuv = feats.mcep[:, 0].astype(np.float64), feats.vuv
    c = contour_cwt(c0, vuv, 10)
    assert c.shape == (10, c0.shape[0])
    z = contour_from_cwt(c, np.ones(10), vuv)
    back = rescale_contour(z, c0, vuv, 1.0, 0.0, 0.0)
    corr, rmse = _voiced_fit(c0, back, vuv)
    # c0 is in natural-log power units: 0.15 ≈ 0.65 dB; its voiced std is ~1
    assert corr > 0.99 and rmse < 0.15, (corr, rmse)


def test_energy_run_writes_energy_channels(cyclegan_energy_run):
    ck = load_checkpoint(cyclegan_energy_run, "emotion-converter/cyclegan")
    cfg = CycleGANModelConfig.from_dict(ck["config"])
    assert cfg.energy_cwt and cfg.n_spec == 35 and cfg.n_out == 35 + 20
    assert len(ck["extra"]["cwt_std"]) == 20 and len(ck["extra"]["energy_off_lstd"]) == 2
    assert ck["state_dict"]["g_ab.out.weight"].shape[0] == 55


def test_energy_model_reloads_and_converts(cyclegan_energy_run, calm):
    conv = EmotionConverter.from_pretrained(str(cyclegan_energy_run))
    assert conv.backend.cfg.energy_cwt
    feats, _, _ = analyze_for_conversion(calm, conv.backend.world)
    tempo = conv.backend.convert(feats, "calm", "angry").tempo
    y = conv.convert(calm, 16000, "angry", source="calm")
    assert y.dtype == np.float32 and np.isfinite(y).all()
    start, end = speech_bounds(calm)  # the tempo applies to the speech, not to the pauses
    assert y.shape[0] == pytest.approx(calm.shape[0] + (end - start) * (tempo - 1), abs=2)
    out0 = conv.backend.convert(feats, "calm", "angry", 0.0)  # intensity 0 = identity
    np.testing.assert_allclose(out0.mcep, feats.mcep, atol=1e-4)


def _energy_rows(conv) -> tuple[torch.nn.Conv1d, slice]:
    """Output layer of the calm -> angry generator and its log-energy CWT rows."""
    c = conv.backend.cfg
    return conv.backend.generators[("calm", "angry")].out, slice(c.n_spec + c.n_scales, c.n_out)


def test_identity_energy_generator_gives_back_the_source_energy(cyclegan_energy_run, calm):
    conv = EmotionConverter.from_pretrained(str(cyclegan_energy_run))
    b = conv.backend
    out_layer, rows = _energy_rows(conv)
    with torch.no_grad():  # residual generator: zero output rows = identity on those channels
        out_layer.weight[rows] = 0.0
        out_layer.bias[rows] = 0.0
    b.normalizer.off_mcep[:, 0] = 0.0
    b.energy_off_lstd[:] = 0.0
    feats, _, _ = analyze_for_conversion(calm, b.world)
    c0 = b.convert(feats, "calm", "angry").mcep[:, 0]
    corr, rmse = _voiced_fit(feats.mcep[:, 0], c0, feats.vuv)
    assert corr > 0.99 and rmse < 0.15, (corr, rmse)
    np.testing.assert_array_equal(c0[~feats.vuv], feats.mcep[~feats.vuv, 0])


def _level_contour(y: np.ndarray, n: int = 320) -> np.ndarray:
    """Frame level (dB, 20 ms frames) relative to its median."""
    db = 10.0 * np.log10((y[: y.size // n * n].reshape(-1, n) ** 2).mean(1) + 1e-10)
    return db - np.median(db)


def test_output_energy_contour_comes_from_the_energy_generator(cyclegan_energy_run, calm,
                                                              monkeypatch):
    # channel routing only: the guard (which couples the channels on frames where any of them
    # departs far from the input) is tested in test_cyclegan_guard.py
    monkeypatch.setattr("emovc.models.conversion.cyclegan.GUARD_STD", np.inf)
    conv = EmotionConverter.from_pretrained(str(cyclegan_energy_run))
    feats, _, _ = analyze_for_conversion(calm, conv.backend.world)
    before = conv.backend.convert(feats, "calm", "angry")
    y1 = conv.convert(calm, 16000, "angry", source="calm")
    out_layer, rows = _energy_rows(conv)
    torch.manual_seed(0)
    with torch.no_grad():
        out_layer.weight[rows] += 0.05 * torch.randn_like(out_layer.weight[rows])
    after = conv.backend.convert(feats, "calm", "angry")
    y2 = conv.convert(calm, 16000, "angry", source="calm")
    # only c0 moves: the rest of the envelope and F0 come from other generator rows
    np.testing.assert_array_equal(before.mcep[:, 1:], after.mcep[:, 1:])
    np.testing.assert_array_equal(before.lf0, after.lf0)
    v = feats.vuv
    assert np.abs(before.mcep[v, 0] - after.mcep[v, 0]).max() > 0.2
    l1, l2 = _level_contour(y1), _level_contour(y2)
    active = l1 > -30.0
    assert np.abs(l1 - l2)[active].max() > 1.0  # dB


def test_old_checkpoint_without_the_field_loads_with_energy_off(cyclegan_run, calm, tmp_path):
    ck = load_checkpoint(cyclegan_run)
    config = {k: v for k, v in ck["config"].items() if k != "energy_cwt"}
    old = save_checkpoint(tmp_path / "old.pt", kind=ck["kind"], config=config,
                          state_dict=ck["state_dict"], extra=ck["extra"])
    a = EmotionConverter.from_pretrained(str(old))
    assert a.backend.cfg.energy_cwt is False and a.backend.cfg.n_out == 36 + 10
    b = EmotionConverter.from_pretrained(str(cyclegan_run))
    np.testing.assert_array_equal(a.convert(calm, 16000, "angry"), b.convert(calm, 16000, "angry"))
