"""Speaker-consistency loss: the envelope decoder matrix and the GE2E proxy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emovc.features.world import WorldConfig, analyze, decode_envelope, encode_envelope


@pytest.fixture(scope="module")
def envelope():
    """``(T, 513)`` WORLD envelope of a synthetic vowel-like voice (16 kHz)."""
    from emovc.data.synthetic import synthesize

    return analyze(synthesize(duration=0.6, seed=3), WorldConfig()).sp


@pytest.mark.parametrize("coding", ["pyworld", "pysptk"])
def test_envelope_decoder_matrix_is_the_decoder(envelope, coding):
    """``exp(c @ A + b)`` reproduces ``decode_envelope(c)`` for both codings."""
    from emovc.training.speaker_loss import envelope_decoder

    world = WorldConfig(envelope_coding=coding)
    coded = encode_envelope(envelope, world, dim=24)
    a, b = envelope_decoder(world, 24)
    np.testing.assert_allclose(np.exp(coded @ a + b), decode_envelope(coded, world), rtol=1e-6)


@pytest.fixture(scope="module")
def proxy(envelope):
    from emovc.pipelines.speaker import SpeakerEncoder
    from emovc.training.speaker_loss import SpeakerProxy

    world = WorldConfig()
    ref = encode_envelope(envelope, world, dim=24).mean(0)
    return SpeakerProxy(SpeakerEncoder.from_pretrained().model, world, np.full(24, 0.3), ref,
                        (np.log(150.0), 0.2))


def _features(seed: int = 0) -> torch.Tensor:
    """``(2, 25, 128)`` smooth normalised features (24 mcep + log-F0)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 25, 128 + 15, generator=g)
    return torch.nn.functional.avg_pool1d(x, 16, 1) * 2.0


def test_speaker_proxy_loss_grows_with_the_envelope_change(proxy):
    """0 for the source itself, small for a slight perturbation, large for a shifted tilt."""
    x, voiced = _features(), torch.ones(2, 128)
    assert float(proxy.loss(x, x, voiced)) < 1e-5
    g = torch.Generator().manual_seed(1)
    slight = proxy.loss(x + 0.02 * torch.randn(x.shape, generator=g), x, voiced)
    tilted = x.clone()
    tilted[:, 1:5] += 3.0
    big = proxy.loss(tilted, x, voiced)
    assert float(big) > 5 * float(slight)
    assert float(big) > 0.005


def test_speaker_proxy_loss_trains_the_input_only(proxy):
    """Gradients reach the converted features, never the frozen encoder; a segment without
    voiced frames contributes nothing (loss 0, still differentiable)."""
    x = _features(2)
    fake = (x + 0.5).requires_grad_(True)
    proxy.loss(fake, x, torch.ones(2, 128)).backward()
    assert fake.grad is not None and float(fake.grad[:, :24].abs().sum()) > 0
    assert all(p.grad is None for p in proxy.encoder.parameters())
    silent = proxy.loss(fake, x, torch.zeros(2, 128))
    assert float(silent.detach()) == 0.0
    silent.backward()
