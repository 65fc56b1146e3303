"""Shapes and identity-at-init of the conversion networks."""

import numpy as np
import torch

from emovc.models.conversion.cyclegan import CycleGANModelConfig, make_generator
from emovc.models.conversion.networks import EmotionClassifier, ProjectionDiscriminator
from emovc.models.conversion.stargan import StarGANGenerator, StarGANModelConfig


def test_stargan_generator_shapes_and_identity_at_init():
    cfg = StarGANModelConfig(n_feat=12, n_emotions=3, width=16, n_blocks=2, emb_dim=4)
    g = StarGANGenerator(cfg)
    for t in (37, 64):  # odd lengths are padded internally and cropped back
        x = torch.randn(2, 12, t)
        y = g(x, torch.tensor([0, 2]))
        assert y.shape == (2, 11, t)
        # the output layer starts at zero: an untrained generator is the identity
        assert torch.allclose(y, x[:, :11])


def test_stargan_intensity_scales_the_change_linearly():
    cfg = StarGANModelConfig(n_feat=6, n_emotions=2, width=8, n_blocks=1, emb_dim=2)
    g = StarGANGenerator(cfg)
    torch.nn.init.normal_(g.net.out.weight)
    x, t = torch.randn(1, 6, 16), torch.tensor([1])
    full = g.convert(x, t, 1.0) - x[:, :5]
    half = g.convert(x, t, 0.5) - x[:, :5]
    assert full.abs().sum() > 0
    assert torch.allclose(half, 0.5 * full, atol=1e-6)
    assert torch.allclose(g.convert(x, t, 0.0), x[:, :5])


def test_cyclegan_generator_shapes():
    cfg = CycleGANModelConfig(n_mcep=8, n_scales=10, width=16, n_blocks=1)
    g = make_generator(cfg)
    assert g(torch.randn(3, 19, 50)).shape == (3, 18, 50)


def test_discriminators_and_classifier_shapes():
    x = torch.randn(4, 10, 64)
    d = ProjectionDiscriminator(10, n_classes=5, width=16)
    assert d(x, torch.tensor([0, 1, 2, 4])).shape == (4,)
    d1 = ProjectionDiscriminator(10, n_classes=1, width=16)
    assert d1(x).shape == (4,)
    c = EmotionClassifier(10, n_classes=5, width=16)
    assert c(x).shape == (4, 5)


def test_level_offsets_are_speaker_centred_means():
    from emovc.models.conversion.normalizer import fit_level_offsets

    rows = [("a", "calm", -40.0), ("a", "angry", -20.0),   # speaker a: centre -30
            ("b", "calm", -10.0), ("b", "angry", 0.0)]     # speaker b: centre -5 (louder mic)
    off = fit_level_offsets(rows, ["calm", "angry", "sad"])
    np.testing.assert_allclose(off, [-7.5, 7.5, 0.0])
