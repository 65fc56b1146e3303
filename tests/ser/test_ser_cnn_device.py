"""Where the SER CNN fit trains: chosen on the command line (``--accelerator``), said in one
line, and its device's random generator kept across a resume (review 42 M1)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from emovc.models.ser.cnn import CnnConfig, EmotionCNN
from emovc.training.progress import quiet_lightning
from emovc.training.ser_cnn import CnnTrainConfig, _trainer, device_line, train_cnn
from emovc.training.ser_cnn_module import CnnFit

NET = CnnConfig(channels=(4, 8), attention_dim=8)


def _mels(n: int = 8, n_mels: int = 16) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=(n_mels, 60)).astype(np.float32) for _ in range(n)], np.arange(n) % 2


@pytest.fixture
def apple_gpu(monkeypatch):
    """Lightning sees an Apple GPU (MPS) here, as on an Apple-silicon Mac."""
    from lightning.fabric.accelerators.mps import MPSAccelerator

    monkeypatch.setattr(MPSAccelerator, "is_available", staticmethod(lambda: True))


def test_on_a_mac_auto_is_the_apple_gpu_and_the_line_says_so(apple_gpu):
    """Lightning's "auto" takes MPS before CUDA, so CUDA_VISIBLE_DEVICES= cannot keep a Mac's
    fit on the CPU; accelerator "cpu" does, and the fit's line says where it trains."""
    auto = _trainer(CnnTrainConfig(), 2, False, None, None)
    assert auto.strategy.root_device.type == "mps"
    assert device_line(auto).startswith("training the CNN on Apple's GPU (mps), not bit for bit")
    assert "--accelerator cpu" in device_line(auto)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_lightning():  # as train_cnn builds it
            cpu = _trainer(CnnTrainConfig(accelerator="cpu"), 2, False, None, None)
    assert cpu.strategy.root_device.type == "cpu"
    # not Lightning's "GPU available but not used. You can set it by doing Trainer(...)"
    assert not [w for w in caught if "GPU available" in str(w.message)]
    assert device_line(cpu) == "training the CNN on the CPU"


def test_the_fit_says_where_it_trains_in_one_line(capsys):
    """Review 42b L6: the line was printed also with progress=False, which Python callers
    use for silence; it follows progress unless say_device says (the CLI: also --quiet)."""
    mels, y = _mels()
    cfg = CnnTrainConfig(epochs=1, batch_size=4, crop_frames=40, threads=1, accelerator="cpu")
    train_cnn(mels, y, 2, None, NET, cfg, progress=False)
    assert capsys.readouterr().err == ""
    train_cnn(mels, y, 2, None, NET, cfg, progress=False, say_device=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines.count("training the CNN on the CPU") == 1


def test_an_mps_fit_saves_and_restores_its_generator(monkeypatch):
    """The dropout masks of a fit on MPS come from the MPS generator, which Lightning does
    not checkpoint: the fit saves it, and a resumed fit on MPS restores it (torch's MPS calls
    replaced: no Mac here)."""
    saved = torch.arange(8, dtype=torch.uint8)
    restored = []
    monkeypatch.setattr(torch.mps, "get_rng_state", lambda *a, **k: saved.clone())
    monkeypatch.setattr(torch.mps, "set_rng_state", lambda state, *a, **k: restored.append(state))
    mels, y = _mels()
    cfg = CnnTrainConfig(batch_size=4, threads=torch.get_num_threads())

    def module() -> CnnFit:
        fit = CnnFit(EmotionCNN(CnnConfig.from_dict({**NET.to_dict(), "n_classes": 2,
                                                     "n_mels": 16})), mels, None, y, 2, cfg)
        fit._device = torch.device("mps")  # where Lightning would have moved it
        return fit

    checkpoint: dict = {}
    module().on_save_checkpoint(checkpoint)
    assert torch.equal(checkpoint["mps_rng"], saved) and "cuda_rng" not in checkpoint
    resumed = module()
    resumed.on_load_checkpoint(checkpoint)
    resumed.on_fit_start()
    assert len(restored) == 1 and torch.equal(restored[0], saved)


def test_ser_train_accelerator_option(tmp_path, monkeypatch):
    """`emovc ser train --accelerator cpu` keeps the CNN on the CPU on any machine; with
    --method linear, which trains no CNN, it is refused rather than ignored."""
    import typer
    from typer.testing import CliRunner

    from emovc.cli import ser_cmds
    from emovc.errors import EmovcError
    from emovc.training import ser

    app = typer.Typer()
    ser_cmds.register(app)
    seen = {}

    def fake_train(cfg, progress=True, force=False, say_device=None):
        seen["cfg"], seen["say_device"] = cfg, say_device
        raise EmovcError("stop here")

    monkeypatch.setattr(ser, "train", fake_train)
    args = ["ser", "train", str(tmp_path), "-o", str(tmp_path / "r")]
    CliRunner().invoke(app, [*args, "--accelerator", "cpu"])
    assert seen.pop("cfg").cnn.accelerator == "cpu"
    CliRunner().invoke(app, [*args, "--quiet"])
    assert seen.pop("say_device") is True  # where it trains: also with --quiet
    CliRunner().invoke(app, args)
    assert seen.pop("cfg").cnn.accelerator == "auto"
    res = CliRunner().invoke(app, [*args, "--method", "linear", "--accelerator", "cpu"])
    assert "cfg" not in seen and "--method linear trains no CNN" in str(res.exception)
