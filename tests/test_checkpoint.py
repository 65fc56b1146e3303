"""Self-describing checkpoints hold plain data only, checked when they are saved."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from emovc.errors import ConfigError
from emovc.models.checkpoint import load_checkpoint, save_checkpoint, save_checkpoint_if_changed

STATE = {"w": torch.ones(3)}


def test_plain_data_and_tensors_round_trip(tmp_path):
    extra = {"stats": {"mean": [0.5, 1.5], "std": torch.ones(2)}, "emotions": ("calm",),
             "steps": 3, "note": None, "ok": True, 4: "int key"}
    path = save_checkpoint(tmp_path / "m.pt", kind="toy", config={"dim": 2}, state_dict=STATE,
                           extra=extra)
    back = load_checkpoint(path, kind="toy")
    assert back["extra"]["stats"]["mean"] == [0.5, 1.5] and back["extra"][4] == "int key"
    assert torch.equal(back["extra"]["stats"]["std"], torch.ones(2))


@pytest.mark.parametrize(("config", "extra", "where", "kind"), [
    ({"dim": 2}, {"stats": {"mean": np.zeros(2)}}, "extra['stats']['mean']", "numpy.ndarray"),
    ({"rate": np.float32(0.5)}, None, "config['rate']", "numpy.float32"),
    ({"dims": [2, np.int64(3)]}, None, "config['dims'][1]", "numpy.int64"),
    ({"dim": 2}, {np.str_("a"): 1}, "a key of extra", "numpy.str_"),
    ({"speakers": {"01", "02"}}, None, "config['speakers']", "set"),
])
def test_what_is_not_plain_data_is_refused_before_writing(tmp_path, config, extra, where,
                                                          kind):
    """A numpy value in config/extra saved fine, then failed to load with weights_only=True
    (possibly on another machine); it is now refused at save time, naming where it is. A set
    is refused too (not plain data here, whatever a given torch version loads)."""
    path = tmp_path / "sub" / "m.pt"
    with pytest.raises(ConfigError, match=re.escape(f"{where} is a {kind}, not plain data")) as err:
        save_checkpoint(path, kind="toy", config=config, state_dict=STATE, extra=extra)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "sub").exists()


def _one_line_error(path, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_unreadable_and_foreign_files_are_one_line_errors(tmp_path):
    """A truncated download, a file that is not a torch pickle, a pickle of arbitrary objects
    (refused by weights_only=True) and a torch file that is not an emovc checkpoint each give
    one line naming the file, not a traceback from torch."""
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    _one_line_error(garbage, re.escape(f"not a readable emovc checkpoint: {garbage} ("))
    good = save_checkpoint(tmp_path / "good.pt", kind="toy", config={}, state_dict=STATE)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    _one_line_error(truncated, re.escape(f"not a readable emovc checkpoint: {truncated} ("))
    objects = tmp_path / "objects.pt"
    torch.save({"format_version": 1, "config": np.zeros(2)}, objects)  # needs full unpickling
    _one_line_error(objects, re.escape(f"not a readable emovc checkpoint: {objects} ("))
    for name, payload in (("dict.pt", {"a": 1}), ("tensor.pt", torch.ones(2)),
                          ("state.pt", {"w": torch.ones(2)})):
        path = tmp_path / name
        torch.save(payload, path)
        _one_line_error(path, re.escape(f"not an emovc checkpoint: {path}") + "$")


def test_a_newer_format_asks_to_upgrade(tmp_path):
    from emovc.models.checkpoint import FORMAT_VERSION

    path = save_checkpoint(tmp_path / "m.pt", kind="toy", config={}, state_dict=STATE)
    payload = torch.load(path, weights_only=True)
    assert load_checkpoint(path)["format_version"] == FORMAT_VERSION  # the current one loads
    payload["format_version"] = FORMAT_VERSION + 1
    torch.save(payload, path)
    _one_line_error(path, re.escape(f"checkpoint {path} has format {FORMAT_VERSION + 1}, this "
                                    f"emovc reads ≤ {FORMAT_VERSION}; upgrade emovc"))


def test_a_corrupt_model_file_is_one_line_from_the_converter(tmp_path):
    """The public loaders pass the checkpoint's message on (a user path, not a bundled name)."""
    from emovc import EmotionConverter

    bad = tmp_path / "model.pt"
    bad.write_bytes(b"<html>a download that went wrong</html>")
    with pytest.raises(ConfigError, match=re.escape(f"not a readable emovc checkpoint: {bad}")):
        EmotionConverter.from_pretrained(bad)


def test_a_checkpoint_saved_again_unchanged_keeps_its_file(tmp_path):
    """A trainer writing the same model again (a finished run exported again, its settings
    typed otherwise) rewrote the file: new bytes, a new SHA-256 for what identifies it."""
    from emovc.fileio import file_sha256

    extra = {"train": {"run_dir": "runs/a"}, "encoder": {"name": "e.pt", "w": torch.ones(2)},
             "mel": (16000, 80)}

    def save(state=STATE, extra=extra):
        return save_checkpoint_if_changed(tmp_path / "m.pt", kind="toy", config={"dim": 2},
                                          state_dict=state, extra=extra,
                                          ignore=("train", "encoder.name"))

    path = save()
    first = file_sha256(path)
    save(extra={**extra, "train": {"run_dir": "/abs/runs/a"},
                "encoder": {**extra["encoder"], "name": "/abs/e.pt"}})
    assert file_sha256(path) == first  # the records of paths as typed are not the model
    assert load_checkpoint(path)["extra"]["train"] == {"run_dir": "runs/a"}
    for changed in ({"state": {"w": torch.ones(3) * 2}},
                    {"state": {"w": torch.ones(3, dtype=torch.float64)}},
                    {"extra": {**extra, "encoder": {"name": "e.pt", "w": torch.zeros(2)}}},
                    {"extra": {**extra, "mel": (22050, 80)}}):
        save()
        first = file_sha256(path)
        save(**changed)
        assert file_sha256(path) != first, changed
    path.write_bytes(b"not a checkpoint")
    save()
    assert load_checkpoint(path, "toy")["config"] == {"dim": 2}
    # a record an earlier version did not write: what it was made with is assumed
    first = file_sha256(path)
    for voice, same in (("en-us", True), ("de", False)):
        save_checkpoint_if_changed(path, kind="toy", config={"dim": 2}, state_dict=STATE,
                                   extra={**extra, "frontend": {"voice": voice}},
                                   ignore=("train", "encoder.name"),
                                   assumed={"frontend": {"voice": "en-us"}})
        assert (file_sha256(path) == first) is same
