"""A device the machine lacks, or more devices than it has, is refused in one line before any
corpus work, by every trainer (review 42 L1: Lightning's multi-line exception came after
the features, minutes into a run). The machine's GPUs are simulated through Lightning's own
availability checks."""

from __future__ import annotations

import pytest

from emovc.cli.main import main
from emovc.errors import ConfigError
from emovc.training.devices import check_devices, cpu_choice


@pytest.fixture
def one_cuda_gpu(monkeypatch):
    monkeypatch.setattr("lightning.pytorch.accelerators.cuda.num_cuda_devices", lambda: 1)


@pytest.fixture
def no_mps(monkeypatch):
    from lightning.fabric.accelerators.mps import MPSAccelerator

    monkeypatch.setattr(MPSAccelerator, "is_available", staticmethod(lambda: False))


@pytest.fixture
def no_gpu(no_mps, monkeypatch):
    monkeypatch.setattr("lightning.pytorch.accelerators.cuda.num_cuda_devices", lambda: 0)


@pytest.fixture
def apple_gpu(monkeypatch):
    from lightning.fabric.accelerators.mps import MPSAccelerator

    monkeypatch.setattr(MPSAccelerator, "is_available", staticmethod(lambda: True))


def _refused(match: str, *args) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        check_devices(*args)
    assert "\n" not in str(err.value)


def test_a_cpu_only_machine(no_gpu):
    assert check_devices("auto", 4) == "cpu"  # 4 CPU processes
    assert check_devices("cpu", 2) == "cpu"
    _refused(r"^accelerator 'cuda' needs a CUDA GPU, and torch sees none", "cuda", 1)
    _refused(r"^CNN accelerator 'gpu' needs a CUDA GPU.*; --accelerator cpu", "gpu", 1,
             "CNN devices", "--accelerator cpu")
    _refused(r"^accelerator 'mps' needs Apple's GPU \(MPS\), and torch sees none", "mps", 1)


def test_a_machine_with_one_cuda_gpu(one_cuda_gpu, no_mps):
    assert check_devices("auto", 1) == check_devices("cuda", 1) == "cuda"
    _refused(r"^--devices 2: the fit trains on CUDA GPUs here, and torch sees 1 on this "
             r"machine: ask for at most 1$", "auto", 2, "--devices")
    assert check_devices("cpu", 2) == "cpu"


def test_an_apple_silicon_mac(apple_gpu):
    assert check_devices("auto", 1) == check_devices("gpu", 1) == "mps"
    _refused(r"^devices 2: the fit trains on Apple's GPU \(mps\) here, which is one device",
             "auto", 2)
    assert check_devices("cpu", 2) == "cpu"
    _refused(r"which is one device: ask for 1; --accelerator cpu trains on the CPU$",
             "auto", 2, "--devices", cpu_choice())


@pytest.mark.parametrize("command", [
    ["train", "--method", "stargan"], ["train", "--method", "cyclegan"],
    ["train", "--method", "spectrogan"], ["train-voice", "synthesizer"],
    ["train-voice", "vocoder"], ["train-voice", "encoder"]])
def test_train_and_train_voice_refuse_devices_the_machine_lacks(command, one_cuda_gpu, no_mps,
                                                                tmp_path, capsys, monkeypatch):
    """The corpus folder is empty: a trainer that looked at it first would say so instead."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    head, *rest = command
    args = [head, rest[0], "corpus"] if head == "train-voice" else [head, "corpus", *rest]
    code = main([*args, "-o", "run", "--devices", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "--devices 2: the fit trains on CUDA GPUs here, and torch sees 1" in err
    # review 42b L9: how to train 2 processes on the CPU instead
    assert err.rstrip().endswith("ask for at most 1; --accelerator cpu trains on the CPU"), err
    assert not (tmp_path / "run").exists()


TRAINERS = [["train", "--method", "stargan"], ["train", "--method", "cyclegan"],
            ["train", "--method", "spectrogan"], ["train-voice", "synthesizer"],
            ["train-voice", "vocoder"], ["train-voice", "encoder"]]


def _train(command: list[str], *options: str) -> int:
    head, *rest = command
    args = [head, rest[0], "corpus"] if head == "train-voice" else [head, "corpus", *rest]
    return main([*args, "-o", "run", *options])


@pytest.mark.parametrize("command", TRAINERS)
def test_every_trainer_takes_an_accelerator(command, apple_gpu, tmp_path, capsys,
                                            monkeypatch):
    """On an Apple-silicon Mac, train and train-voice always trained on Apple's GPU (their
    accelerator was Lightning's auto): --accelerator cpu now keeps them on the CPU, which
    may run several processes; an unknown accelerator is refused in one line. The corpus
    folder is empty: a run that passed the device check says so instead."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    assert _train(command, "--devices", "2") == 2
    err = capsys.readouterr().err
    assert err.rstrip().endswith("ask for 1; --accelerator cpu trains on the CPU"), err
    assert _train(command, "--devices", "2", "--accelerator", "cpu") != 0
    err = capsys.readouterr().err
    assert "Apple's GPU" not in err and "accelerator" not in err, err
    assert _train(command, "--accelerator", "tpu") == 2
    err = capsys.readouterr().err
    assert err == ("emovc: error: unknown --accelerator 'tpu'; valid choices: auto, cpu, gpu, "
                   "cuda, mps\n"), err
    assert _train(command, "--set", "accelerator=cpu") == 2
    assert "--set accelerator is not taken here: use --accelerator" in capsys.readouterr().err


@pytest.mark.parametrize("command", TRAINERS)
def test_a_python_config_names_its_accelerator_field(command, no_gpu, tmp_path):
    """A config built in Python: the refusals name the ``accelerator`` field."""
    import importlib

    head, method = command[0], command[-1]
    name = method if head == "train" else {"encoder": "speaker_encoder"}.get(method, method)
    trainer = importlib.import_module(f"emovc.training.{name}")
    if head == "train":
        cfg = trainer.build_config(str(tmp_path), str(tmp_path / "run"), None, None)
    else:
        cfg = trainer.build_config(str(tmp_path), str(tmp_path / "run"))
    assert cfg.accelerator == "auto"
    cfg.accelerator = "cuda"
    with pytest.raises(ConfigError, match=r"^accelerator 'cuda' needs a CUDA GPU.*; "
                                          r"accelerator='cpu' trains on the CPU$"):
        trainer.train(cfg)
    cfg.accelerator = "xla"
    with pytest.raises(ConfigError, match=r"^unknown accelerator 'xla'; valid choices"):
        trainer.train(cfg)


def test_ser_train_refuses_an_accelerator_the_machine_lacks_before_the_features(
        no_gpu, tmp_path, monkeypatch):
    from emovc.training import ser

    def no_features(*args, **kwargs):
        raise AssertionError("features extracted before the device was checked")

    monkeypatch.setattr(ser, "split_corpus", no_features)
    monkeypatch.setattr(ser, "usable_features", no_features)
    for accelerator, said in (("cuda", "needs a CUDA GPU"), ("mps", "needs Apple's GPU")):
        cfg = ser.build_config(str(tmp_path), str(tmp_path / "run"),
                               {"method": "cnn", "cnn": {"accelerator": accelerator}})
        with pytest.raises(ConfigError, match=f"^CNN accelerator '{accelerator}' {said}.*"
                                              r"--accelerator cpu") as err:
            ser.train(cfg)
        assert "\n" not in str(err.value)
    linear = ser.build_config(str(tmp_path), str(tmp_path / "run"),
                              {"method": "linear", "cnn": {"accelerator": "cuda"}})
    with pytest.raises(AssertionError, match="features extracted"):  # no CNN: not checked
        ser.train(linear)
