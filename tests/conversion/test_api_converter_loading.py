"""EmotionConverter.from_pretrained as a library call: what it leaves alone and what it refuses."""

from __future__ import annotations

import pytest
import torch

from emovc.pipelines.conversion import EmotionConverter


def _next_draws(load) -> torch.Tensor:
    """Three draws of torch's global stream after seeding it and calling ``load()``."""
    torch.manual_seed(1234)
    load()
    return torch.rand(3)


@pytest.mark.parametrize("name", ["default", "cyclegan-calm-angry", "spectrogan-ravdess"])
def test_loading_leaves_the_torch_random_stream_alone(name: str) -> None:
    """Building the modules drew their random initial weights from the caller's stream."""
    untouched = _next_draws(lambda: None)
    assert torch.equal(_next_draws(lambda: EmotionConverter.from_pretrained(name)), untouched)


def test_loading_the_recogniser_for_detection_leaves_the_stream_alone(calm) -> None:
    conv = EmotionConverter.from_pretrained()
    untouched = _next_draws(lambda: None)
    assert torch.equal(_next_draws(lambda: conv.detect_source(calm, 16000)), untouched)
