"""Temporal smoothing of the converted envelope's change (``envelope_smoothing_ms``)."""

import json
import shutil

import numpy as np
import pytest

from emovc.errors import EmovcError
from emovc.models.conversion.converters import smooth_envelope_change
from emovc.pipelines.conversion import EmotionConverter


def _voicing(t: int = 300) -> np.ndarray:
    vuv = np.ones(t)
    vuv[:40] = 0
    vuv[150:170] = 0
    return vuv


def test_smoothing_averages_the_fast_change_and_keeps_the_slow_one():
    rng = np.random.default_rng(0)
    t, d = 300, 25
    src = rng.standard_normal((t, d))
    vuv = _voicing(t)
    v = vuv > 0
    slow = 0.8 * np.sin(np.arange(t) / 60.0)[:, None] * np.ones(d)  # ≈ 1.9 s period at 5 ms
    fast = 0.5 * np.where(np.arange(t) % 2 == 0, 1.0, -1.0)[:, None] * np.ones(d)
    conv = src + (slow + fast) * v[:, None]
    out = smooth_envelope_change(conv, src, vuv, 20)
    change = out - src
    assert out.shape == (t, d)
    np.testing.assert_array_equal(out[~v], src[~v])  # unvoiced frames: the source's own
    # the alternating part averages out; the slow part stays (within the window's blur)
    assert np.abs(change[v] - slow[v]).max() < 0.1
    assert np.abs((conv - src)[v] - slow[v]).max() == pytest.approx(0.5)


def test_smoothing_keeps_a_constant_change_at_voiced_edges_and_width_one_is_identity():
    src = np.zeros((300, 4))
    vuv = _voicing()
    conv = src + 0.7 * (vuv > 0)[:, None]
    out = smooth_envelope_change(conv, src, vuv, 20)
    np.testing.assert_allclose(out, conv, atol=1e-12)  # mask-normalised: no edge dilution
    assert smooth_envelope_change(conv, src, vuv, 1) is conv
    assert smooth_envelope_change(conv, src, vuv, 0) is conv


def test_model_meta_sets_the_envelope_smoothing(stargan_run, calm, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(stargan_run, folder / "model.pt")
    plain = EmotionConverter.from_pretrained(str(folder))
    assert plain.envelope_smoothing_ms == 0.0  # no meta.json: off
    (folder / "meta.json").write_text(json.dumps({"inference": {"envelope_smoothing_ms": 100}}))
    smoothed = EmotionConverter.from_pretrained(str(folder))
    assert smoothed.envelope_smoothing_ms == 100.0
    y0 = plain.convert(calm, 16000, "angry", source="calm")
    y1 = smoothed.convert(calm, 16000, "angry", source="calm")
    assert y0.shape == y1.shape and not np.array_equal(y0, y1)
    for bad in (-5, 5000, "soft"):
        (folder / "meta.json").write_text(json.dumps({"inference": {"envelope_smoothing_ms": bad}}))
        with pytest.raises(EmovcError, match="smoothing must be between 0 and 1000 ms") as e:
            EmotionConverter.from_pretrained(str(folder))
        assert "\n" not in str(e.value)


def test_non_numeric_pitch_level_is_a_one_line_error(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    with pytest.raises(EmovcError, match="pitch level must be between 0 and 1"):
        conv.convert(calm, 16000, "angry", source="calm", pitch_level="high")


def test_envelope_gain_scales_the_change_only():
    from emovc.models.conversion.converters import scale_envelope_change

    rng = np.random.default_rng(1)
    src = rng.standard_normal((50, 6))
    change = rng.standard_normal((50, 6))
    conv = src + change
    np.testing.assert_allclose(scale_envelope_change(conv, src, 1.5) - src, 1.5 * change)
    np.testing.assert_allclose(scale_envelope_change(conv, src, 0.0), src)
    assert scale_envelope_change(conv, src, 1.0) is conv


def test_envelope_gain_setting_changes_the_output_and_is_checked(stargan_run, calm, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(stargan_run, folder / "model.pt")
    conv = EmotionConverter.from_pretrained(str(folder))
    assert conv.envelope_gain == 1.0
    y1 = conv.convert(calm, 16000, "angry", source="calm")
    (folder / "meta.json").write_text(json.dumps({"inference": {"envelope_gain": 2.0}}))
    louder = EmotionConverter.from_pretrained(str(folder))
    assert louder.envelope_gain == 2.0
    y2 = louder.convert(calm, 16000, "angry", source="calm")
    assert y1.shape == y2.shape and not np.array_equal(y1, y2)
    conv.envelope_gain = 0.0  # no envelope change: only prosody, level and tempo remain
    out = conv.convert_file(_wav(tmp_path, calm), tmp_path / "g0.wav", "angry", source="calm")[0]
    import soundfile as sf

    assert sf.SoundFile(str(out)).comment.endswith("intensity 1.0, envelope gain 0)")
    for bad in (-0.5, 4, "big"):
        with pytest.raises(EmovcError, match="envelope gain must be between 0 and 3") as e:
            conv.envelope_gain = bad
        assert "\n" not in str(e.value)


def _wav(folder, x):
    from emovc.audio import save_audio

    return save_audio(folder / "in.wav", x, 16000)


def test_envelope_gain_per_call_overrides_the_default(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    per_call = conv.convert(calm, 16000, "angry", source="calm", envelope_gain=1.5)
    conv.envelope_gain = 1.5
    np.testing.assert_array_equal(per_call, conv.convert(calm, 16000, "angry", source="calm"))
    with pytest.raises(EmovcError, match="envelope gain must be between 0 and 3"):
        conv.convert(calm, 16000, "angry", source="calm", envelope_gain=-1)
