"""Bundled-model registry: a damaged or trimmed ``pretrained/`` folder gives one-line errors
(tests work on a copy: ``registry.ROOT`` is pointed at ``tmp_path``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from emovc.errors import ConfigError
from emovc.pretrained import registry

BUNDLED = Path(registry.__file__).resolve().parent


def _bundle_copy(tmp_path: Path, monkeypatch, *names: str) -> Path:
    root = tmp_path / "pretrained"
    for name in names:
        shutil.copytree(BUNDLED / name, root / name)
    root.mkdir(exist_ok=True)
    monkeypatch.setattr(registry, "ROOT", root)
    return root


def test_a_corrupted_bundled_model_is_named_by_its_checksum(tmp_path, monkeypatch):
    from emovc import EmotionConverter

    root = _bundle_copy(tmp_path, monkeypatch, "spectrogan-ravdess")
    model = root / "spectrogan-ravdess" / "model.pt"
    assert registry.resolve("spectrogan-ravdess", "emotion-converter") == model  # intact
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the weights
    model.write_bytes(bytes(data))
    said = re.escape(f"bundled model spectrogan-ravdess is corrupted (checksum mismatch): {model}")
    with pytest.raises(ConfigError, match=said):
        registry.resolve("spectrogan-ravdess", "emotion-converter")
    with pytest.raises(ConfigError, match=said):
        EmotionConverter.from_pretrained("spectrogan-ravdess")
    assert registry.resolve("spectrogan-ravdess", "emotion-converter", verify=False) == model


def test_no_default_model_lists_the_bundled_ones(tmp_path, monkeypatch):
    """An install without the default converter (m2m-ravdess) and with two others: "default"
    cannot pick one and says which there are; with one other, that one is the default."""
    _bundle_copy(tmp_path, monkeypatch, "spectrogan-ravdess", "cyclegan-calm-angry")
    with pytest.raises(ConfigError, match=re.escape(
            "no default model for 'emotion-converter'; bundled models: cyclegan-calm-angry, "
            "spectrogan-ravdess")):
        registry.resolve("default", "emotion-converter")
    shutil.rmtree(registry.ROOT / "cyclegan-calm-angry")
    assert registry.default_model("emotion-converter") == "spectrogan-ravdess"
    with pytest.raises(ConfigError, match=re.escape(
            "no default model for 'emotion-recognizer'; bundled models: (none bundled)")):
        registry.default_model("emotion-recognizer")


@pytest.mark.parametrize(("meta", "said"), [
    ("{not json", "unreadable model metadata {meta}: "),
    ('{"inference": [1, 2]}', "{meta}: 'inference' must map setting names to values"),
])
def test_unreadable_model_metadata_is_one_line(tmp_path, meta, said):
    """A meta.json beside a user's model.pt that is not JSON (a hand edit gone wrong), or whose
    inference settings are not a mapping."""
    from emovc import EmotionConverter

    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(BUNDLED / "spectrogan-ravdess" / "model.pt", folder / "model.pt")
    (folder / "meta.json").write_text(meta)
    with pytest.raises(ConfigError, match=re.escape(said.format(meta=folder / "meta.json"))) \
            as err:
        EmotionConverter.from_pretrained(folder)
    assert "\n" not in str(err.value)
