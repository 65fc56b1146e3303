"""Public module constants that moved when modules were split stay importable from where they
were (review 42 L7): the same objects, so the two spellings cannot disagree."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(("old", "new", "name"), [
    ("emovc.pipelines.conversion", "emovc.pipelines.conversion_checks", "DIGEST_CHARS"),
    ("emovc.pipelines.conversion", "emovc.pipelines.conversion_checks", "NOISY_INPUT"),
    ("emovc.pipelines.conversion", "emovc.pipelines.conversion_engine", "SEAM_FADE_S"),
    ("emovc.pipelines.augment", "emovc.pipelines.augment_report", "IMBALANCE"),
    ("emovc.training.run_dir", "emovc.training.run_models", "MODELS_FILE"),
])
def test_a_moved_constant_is_importable_from_its_old_module(old, new, name):
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new),
                                                                  name)
