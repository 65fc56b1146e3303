"""Self-describing checkpoints hold plain data only, checked when they are saved."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from emovc.errors import ConfigError
from emovc.models.checkpoint import load_checkpoint, save_checkpoint

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
