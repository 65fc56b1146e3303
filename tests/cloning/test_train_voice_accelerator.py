"""``emovc train-voice --accelerator``: the fit trains where it is told (on a simulated
Apple-silicon Mac, Lightning's ``auto`` was the only choice and meant Apple's GPU), says so
in one line, records the choice, and a run resumed with another accelerator continues."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from emovc.cli.main import main
from emovc.models.vocoder import WaveRNNConfig

VOC = ["--set", "model=" + json.dumps(WaveRNNConfig.tiny(n_mels=80, hop_length=200).to_dict()),
       "--set", "seq_frames=4", "--set", "val_seconds=0", "--set", "batch_size=2",
       "--set", "threads=1"]


def _step(run: Path) -> int:
    from emovc.training.run_dir import checkpoint_step

    return checkpoint_step(run / "checkpoints" / "last.ckpt")


def _accelerator(run: Path) -> str:
    return yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))["accelerator"]


def test_a_mac_trains_on_the_cpu_when_asked_and_resumes_on_another_accelerator(
        tmp_path, capsys, monkeypatch, transcribed_corpus) -> None:
    from lightning.fabric.accelerators.mps import MPSAccelerator

    corpus, run = transcribed_corpus(tmp_path / "corpus"), tmp_path / "voc"
    voc = ["train-voice", "vocoder", str(corpus), "-o", str(run), *VOC]
    with monkeypatch.context() as mac:
        mac.setattr(MPSAccelerator, "is_available", staticmethod(lambda: True))
        assert main([*voc, "--max-steps", "1", "--accelerator", "cpu"]) == 0
        err = capsys.readouterr().err
    assert "training on the CPU\n" in err and "mps" not in err.lower(), err
    assert _step(run) == 1 and _accelerator(run) == "cpu"
    # resumed with Lightning's auto on this CPU machine: a free setting, as the thread count
    monkeypatch.setattr(MPSAccelerator, "is_available", staticmethod(lambda: False))
    monkeypatch.setattr("lightning.pytorch.accelerators.cuda.num_cuda_devices", lambda: 0)
    assert main([*voc, "--max-steps", "2"]) == 0, capsys.readouterr().err
    assert _step(run) == 2 and _accelerator(run) == "auto"


def test_the_device_line_names_a_gpu_and_how_to_stay_on_the_cpu() -> None:
    """Off the CPU the line adds the option that keeps the run on it."""
    from types import SimpleNamespace

    import torch

    from emovc.training.devices import cpu_choice, device_line

    def trainer(kind: str, n: int = 1):
        return SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device(kind)),
                               num_devices=n)

    assert device_line(trainer("cpu"), hint=cpu_choice()) == "training on the CPU"
    assert device_line(trainer("cpu", 2), hint=cpu_choice()) == \
        "training on the CPU (2 processes)"
    assert device_line(trainer("mps"), hint=cpu_choice(False)) == \
        "training on Apple's GPU (mps) (accelerator='cpu' trains on the CPU)"
    assert device_line(trainer("cuda", 2), hint=cpu_choice()) == \
        "training on 2 CUDA GPUs (--accelerator cpu trains on the CPU)"

