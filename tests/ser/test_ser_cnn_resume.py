"""The SER CNN fit saves a checkpoint every epoch and an interrupted run resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emovc.errors import ConfigError, EmovcError
from emovc.models.ser.cnn import CnnConfig
from emovc.training import ser_checkpoint
from emovc.training.ser_checkpoint import CnnCheckpoint
from emovc.training.ser_cnn import CnnTrainConfig, train_cnn

from .conftest import stop_after

NET = CnnConfig(channels=(4, 8))
FIT = CnnTrainConfig(epochs=4, batch_size=4, crop_frames=40, threads=1, seed=3,
                     accelerator="cpu")  # exact: a GPU's kernels need not be deterministic


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    mels = [rng.normal(size=(16, int(rng.integers(30, 80)))).astype(np.float16)
            for _ in range(10)]
    world = [(m + rng.normal(scale=0.1, size=m.shape)).astype(np.float16) for m in mels]
    return mels, np.arange(10) % 3, world



def _weights(model) -> dict[str, torch.Tensor]:
    return model.net.state_dict()


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_an_interrupted_fit_resumes_to_the_uninterrupted_weights(tmp_path, monkeypatch):
    mels, y, world = _data()
    straight = train_cnn(mels, y, 3, world, NET, FIT, progress=False)
    ckpt = CnnCheckpoint(tmp_path / "checkpoints" / "cnn.ckpt", {"method": "cnn"})
    with monkeypatch.context() as m:
        stop_after(m, 2)
        with pytest.raises(KeyboardInterrupt):
            train_cnn(mels, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)
    assert torch.load(ckpt.path, weights_only=True)["epochs_done"] == 2
    resumed = train_cnn(mels, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)
    assert _same(_weights(straight), _weights(resumed))
    np.testing.assert_array_equal(straight.mel_mean, resumed.mel_mean)
    # a finished fit's checkpoint: nothing left to train, the same model
    again = train_cnn(mels, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)
    assert _same(_weights(straight), _weights(again))


def test_a_checkpoint_of_another_fit_is_refused_unless_started_afresh(tmp_path, monkeypatch):
    mels, y, world = _data()
    ckpt = CnnCheckpoint(tmp_path / "checkpoints" / "cnn.ckpt", {"method": "cnn"})
    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train_cnn(mels, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)
    other = CnnTrainConfig(**{**FIT.__dict__, "lr": 1e-3})
    with pytest.raises(ConfigError, match=r"other settings \(cnn.lr\); choose another --out"):
        train_cnn(mels, y, 3, world, NET, other, progress=False, checkpoint=ckpt)
    with pytest.raises(ConfigError, match=r"other settings \(method\)"):
        train_cnn(mels, y, 3, world, NET, FIT, progress=False,
                  checkpoint=CnnCheckpoint(ckpt.path, {"method": "ensemble"}))
    changed, _, _ = _data(seed=1)
    with pytest.raises(ConfigError, match="other training clips"):
        train_cnn(changed, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)
    # threads do not change what is learned: a resumed run may use others
    more = CnnTrainConfig(**{**FIT.__dict__, "threads": 2})
    train_cnn(mels, y, 3, world, NET, more, progress=False, checkpoint=ckpt)
    # resume=False starts afresh over the checkpoint: the uninterrupted fit of `other`
    fresh = train_cnn(mels, y, 3, world, NET, other, progress=False,
                      checkpoint=CnnCheckpoint(ckpt.path, {"method": "cnn"}, resume=False))
    assert _same(_weights(fresh), _weights(train_cnn(mels, y, 3, world, NET, other,
                                                     progress=False)))
    ckpt.path.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="cannot resume from .*cnn.ckpt"):
        train_cnn(mels, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)


def test_ser_train_resumes_an_interrupted_cnn_run(ser_corpus, tmp_path, monkeypatch, capsys):
    """`ser train --method cnn` interrupted after epoch 1 of 3: only checkpoints/cnn.ckpt and
    the TensorBoard log are in the run folder (config.yaml, metrics.json and model.pt are
    written at the end); the same call resumes it to the model of an uninterrupted run and
    removes the checkpoint."""
    from emovc.models.checkpoint import load_checkpoint
    from emovc.training.ser import build_config, train

    def cfg(run, epochs=3):
        return build_config(str(ser_corpus), str(tmp_path / run), {
            "val_speakers": ["val"], "method": "cnn", "world_augment": False,
            "cache_dir": str(tmp_path / "cache"), "net": {"channels": [4, 8]},
            "cnn": {"epochs": epochs, "batch_size": 8, "threads": 1, "accelerator": "cpu"}})

    straight = train(cfg("a"), progress=False)
    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train(cfg("b"), progress=False)
    run = tmp_path / "b"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "tb"]
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["cnn.ckpt"]
    assert "the same command resumes" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"other settings \(cnn.epochs\); .*--force"):
        train(cfg("b", epochs=4), progress=False)
    resumed = train(cfg("b"), progress=False)
    a, b = load_checkpoint(straight)["state_dict"], load_checkpoint(resumed)["state_dict"]
    assert a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k]), np.asarray(b[k]))
                                        for k in a)
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "metrics.json", "model.pt",
                                                     "tb"]
    # a forced retraining, interrupted, resumes without --force over the finished model
    with monkeypatch.context() as m:
        stop_after(m, 2)
        with pytest.raises(KeyboardInterrupt):
            train(cfg("b"), progress=False, force=True)
    assert "same command without --force resumes" in capsys.readouterr().err
    assert (run / "model.pt").read_bytes() == resumed.read_bytes()  # untouched until the end
    with pytest.raises(EmovcError, match=r"other settings \(cnn.epochs\)"):
        train(cfg("b", epochs=4), progress=False)
    assert load_checkpoint(train(cfg("b"), progress=False))["state_dict"].keys() == a.keys()
    assert not (run / "checkpoints").exists()


def test_interrupted_ser_train_says_resume_only_for_its_own_checkpoint(
        ser_corpus, tmp_path, monkeypatch, capsys):
    """A --force run interrupted before its first checkpoint promised a resume from an
    earlier run's checkpoint of other settings, which was then refused; an interrupt after
    the last checkpoint (in validation) gave no note; a resumed fit says it resumed."""
    from emovc.training import ser as tser
    from emovc.training.ser import build_config, train

    def cfg(epochs):
        return build_config(str(ser_corpus), str(tmp_path / "run"), {
            "val_speakers": ["val"], "method": "cnn", "world_augment": False,
            "cache_dir": str(tmp_path / "cache"), "net": {"channels": [4, 8]},
            "cnn": {"epochs": epochs, "batch_size": 8, "threads": 1, "accelerator": "cpu"}})

    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train(cfg(3), progress=False)
    capsys.readouterr()
    with monkeypatch.context() as m:  # --force with other settings, stopped before epoch 1
        m.setattr(ser_checkpoint, "save_state", lambda ckpt, state: (_ for _ in ()).throw(
            KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            train(cfg(2), progress=False, force=True)
    assert "resumes" not in capsys.readouterr().err
    assert not (tmp_path / "run" / "checkpoints" / "cnn.ckpt").exists()
    with monkeypatch.context() as m:  # stopped in validation, after the last checkpoint
        def stop(*args, **kwargs):
            raise KeyboardInterrupt

        m.setattr(tser, "evaluate", stop)
        with pytest.raises(KeyboardInterrupt):
            train(cfg(2), progress=False)
    assert "emovc: training interrupted: the same command resumes" in capsys.readouterr().err
    with monkeypatch.context() as m:
        stop_after(m, 1)
        train(cfg(2), progress=True)  # resumes after epoch 2 of 2: nothing left to train
    assert "resuming the CNN fit after epoch 2/2" in capsys.readouterr().err


def test_the_linear_heads_settings_do_not_stop_a_resume(ser_corpus, tmp_path) -> None:
    """The checkpoint holds the CNN fit alone, but `--feature-set egemaps` on resume was
    refused ("other settings (feature_set)"); the CNN's own settings still count."""
    from emovc.training.ser import build_config
    from emovc.training.ser_checkpoint import run_settings

    def settings(**extra):
        return run_settings(build_config(str(ser_corpus), str(tmp_path / "run"), {
            "val_speakers": ["val"], "method": "cnn", **extra}).to_dict())

    assert settings() == settings(feature_set="egemaps", c_utterance=0.1, cnn_weight=0.3)
    assert settings() != settings(seed=1)
    assert settings() != settings(cnn={"epochs": 7})


def test_ser_train_checks_its_run_folder_before_the_features(ser_corpus, tmp_path,
                                                             monkeypatch) -> None:
    """`-o` that is a file, or lies under one, failed only after every clip's features were
    extracted (minutes on a corpus), with a bare OS error."""
    from emovc.training import ser as tser
    from emovc.training.ser import build_config, train

    def boom(*args, **kwargs):
        raise AssertionError("features were extracted before the run folder was checked")

    monkeypatch.setattr(tser, "split_corpus", boom)
    (tmp_path / "afile").write_text("x")
    for out, said in ((tmp_path / "afile", "is a file, not a folder"),
                      (tmp_path / "afile" / "run", "cannot create the run folder")):
        cfg = build_config(str(ser_corpus), str(out), {"val_speakers": ["val"]})
        with pytest.raises(ConfigError, match=said):
            train(cfg, progress=False)


def test_the_checkpoint_names_each_setting_once(tmp_path, monkeypatch):
    """The identity held the fit's net/cnn settings twice: flattened in the run's settings
    and again as "net"/"cnn" entries (a change was reported as "(cnn)"). A fit of a run's
    settings is identified by them alone; a fit used by itself by its own settings."""
    from emovc.training.ser_cnn import fit_settings

    mels, y, world = _data()
    run = {"method": "cnn", "seed": 3, "net.channels": [4, 8], "cnn.lr": FIT.lr}
    ckpt = CnnCheckpoint(tmp_path / "cnn.ckpt", run)
    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train_cnn(mels, y, 3, world, NET, FIT, progress=False, checkpoint=ckpt)
    identity = torch.load(ckpt.path, weights_only=True)["identity"]
    assert sorted(identity) == ["data", "settings"]
    settings = identity["settings"]
    assert settings == fit_settings(NET, FIT, run) and settings["net.channels"] == [4, 8]
    assert "cnn.threads" not in settings and "net.n_classes" not in settings
    assert settings["cnn.epochs"] == FIT.epochs


def _interrupted_with_corpus_auto(ser_corpus, tmp_path, monkeypatch):
    """A CNN run started with `-c auto`, interrupted after its first epoch; returns the
    config builder ``corpus -> config`` of the same run."""
    from emovc.training.ser import build_config, train

    def cfg(corpus):
        return build_config(str(ser_corpus), str(tmp_path / "run"), {
            "val_speakers": ["val"], "method": "cnn", "world_augment": False, "corpus": corpus,
            "cache_dir": str(tmp_path / "cache"), "net": {"channels": [4, 8]},
            "cnn": {"epochs": 2, "batch_size": 8, "threads": 1, "accelerator": "cpu"}})

    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train(cfg("auto"), progress=False)
    return cfg


def test_a_resume_compares_the_corpus_layout_not_its_spelling(ser_corpus, tmp_path,
                                                             monkeypatch):
    """A run started with `-c auto` was refused ("other settings (corpus)") when resumed with
    the layout auto finds (`-c folders` here, `-c ravdess` on RAVDESS), and the other way
    round; another layout is still another corpus."""
    from emovc.training.ser import train

    cfg = _interrupted_with_corpus_auto(ser_corpus, tmp_path, monkeypatch)
    with pytest.raises(ConfigError, match=r"other settings \(corpus\)"):
        train(cfg("ravdess"), progress=False)
    assert (train(cfg("folders"), progress=False).parent / "metrics.json").is_file()


def test_a_checkpoint_of_an_earlier_emovc_storing_corpus_auto_resumes(ser_corpus, tmp_path,
                                                                      monkeypatch):
    """The previous version stored `corpus: auto` as written; the new code compared it with
    the resolved layout and refused the run ("other settings (corpus)")."""
    from emovc.training.ser import train
    from emovc.training.ser_checkpoint import checkpoint_path

    cfg = _interrupted_with_corpus_auto(ser_corpus, tmp_path, monkeypatch)
    path = checkpoint_path(tmp_path / "run")
    state = torch.load(path, weights_only=True)
    assert state["identity"]["settings"]["corpus"] == "folders"
    state["identity"]["settings"]["corpus"] = "auto"  # as the earlier emovc saved it
    torch.save(state, path)
    with pytest.raises(ConfigError, match=r"other settings \(corpus\)"):
        train(cfg("ravdess"), progress=False)  # another layout: still another corpus
    assert (train(cfg("auto"), progress=False).parent / "metrics.json").is_file()


def test_a_resumed_runs_train_seconds_count_every_session(ser_corpus, tmp_path, monkeypatch):
    """metrics.json's and the model card's train_seconds counted the last session only."""
    import json

    from emovc.models.checkpoint import load_checkpoint
    from emovc.training.ser import build_config, train

    cfg = build_config(str(ser_corpus), str(tmp_path / "run"), {
        "val_speakers": ["val"], "method": "cnn", "world_augment": False,
        "cache_dir": str(tmp_path / "cache"), "net": {"channels": [4, 8]},
        "cnn": {"epochs": 2, "batch_size": 8, "threads": 1, "accelerator": "cpu"}})
    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train(cfg, progress=False)
    path = tmp_path / "run" / "checkpoints" / "cnn.ckpt"
    state = torch.load(path, weights_only=True)
    assert 0 < state["train_seconds"] < 600
    state["train_seconds"] = 5000.0  # as if the first session had trained for long
    torch.save(state, path)
    model = train(cfg, progress=False)
    seconds = json.loads((model.parent / "metrics.json").read_text())["train_seconds"]
    assert 5000 < seconds < 5600
    assert load_checkpoint(model)["config"]["info"]["train_seconds"] == seconds
