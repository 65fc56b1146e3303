"""The pairwise converter's guard against runs of extreme generator output."""

import numpy as np
import torch

from emovc.models.conversion.cyclegan import (
    CONTOUR_MARGIN,
    GUARD_STD,
    guard_weights,
    rescale_contour,
    standardize,
)


def test_guard_weights_drop_departing_frames_and_ramp_back():
    departure = np.full(100, 0.2)
    departure[40:45] = 3 * GUARD_STD  # a run of extreme output
    w = guard_weights(departure)
    assert np.all(w[38:47] == 0.0)  # the run and `spread` frames around it keep the input
    assert np.all(w[:30] == 1.0) and np.all(w[56:] == 1.0)  # elsewhere the full conversion
    assert np.all((w >= 0) & (w <= 1))
    assert np.all(guard_weights(np.full(50, GUARD_STD * 0.99)) == 1.0)


def test_converted_contour_stays_in_the_source_range():
    rng = np.random.default_rng(0)
    src = np.log(120 + 10 * rng.standard_normal(200))
    vuv = np.ones(200, bool)
    z = standardize(src, vuv)[0].copy()
    z[50:60] = 8.0  # an 8-std peak from the generator
    out = rescale_contour(z, src, vuv, 1.0, 0.0, 0.0)
    zs = standardize(src, vuv)[0]
    top = src.mean() + (zs.max() + CONTOUR_MARGIN) * src.std()
    assert out.max() <= top + 1e-9
    # a per-frame share: 0 keeps the source contour exactly on those frames
    share = np.ones(200)
    share[50:60] = 0.0
    kept = rescale_contour(z, src, vuv, 1.0, 0.0, 0.0, share)
    np.testing.assert_allclose(kept[50:60], src[50:60])


def test_a_generator_spike_does_not_reach_the_converted_features(monkeypatch):
    """End to end on the converter: a generator that adds a 15-std run to every channel
    changes nothing there; the rest of the change goes through."""
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.models.conversion.cyclegan import CycleGANFeatureConverter
    from emovc.models.conversion.features import analyze_for_conversion
    from emovc.pipelines.conversion import EmotionConverter

    conv = EmotionConverter.from_pretrained("cyclegan-calm-angry").backend
    assert isinstance(conv, CycleGANFeatureConverter)
    feats, _, _ = analyze_for_conversion(synthesize(EMOTION_VOICES["calm"], 1.5, seed=3),
                                         conv.world)
    voiced = np.flatnonzero(feats.vuv)
    run = voiced[len(voiced) // 2: len(voiced) // 2 + 10]

    class Spiky(torch.nn.Module):
        def forward(self, x):
            y = x[:, : conv.cfg.n_out].clone()
            y[:, : conv.cfg.n_spec] += 0.3  # a small change everywhere
            y[..., run] += 15.0
            return y

    monkeypatch.setitem(conv.generators, ("calm", "angry"), Spiky())
    out = conv.convert(feats, "calm", "angry")
    np.testing.assert_allclose(out.mcep[run, 1:], feats.mcep[run, 1:], atol=1e-5)
    far = voiced[: len(voiced) // 4]
    assert np.abs(out.mcep[far, 1:] - feats.mcep[far, 1:]).max() > 0.01
