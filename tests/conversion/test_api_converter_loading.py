"""EmotionConverter.from_pretrained as a library call: what it leaves alone and what it refuses."""

from __future__ import annotations

import pytest
import torch

from emovc.errors import ConfigError
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


@pytest.mark.parametrize("name", [None, 3])
def test_a_model_that_is_not_a_name_or_path_lists_the_bundled_ones(name) -> None:
    with pytest.raises(ConfigError, match=f"model must be a bundled model name or a path to a "
                       f"checkpoint, got {name} .*bundled models: default, cyclegan-calm-angry"):
        EmotionConverter.from_pretrained(name)


@pytest.mark.parametrize("which", ["in_path", "out_path"])
def test_convert_file_paths_that_are_not_paths_are_config_errors(tmp_path, speech_file,
                                                                 which: str) -> None:
    conv = EmotionConverter.from_pretrained("cyclegan-calm-angry")
    paths = {"in_path": speech_file, "out_path": tmp_path / "out.wav", which: None}
    with pytest.raises(ConfigError, match=f"^{which} must be a file path .*got None"):
        conv.convert_file(paths["in_path"], paths["out_path"], "angry")
