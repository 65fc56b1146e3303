"""The Lightning CNN fit trains, bit for bit, the weights of the hand-written loop that trained
the shipped ``ser-ravdess`` model (whose numbers many documents quote; it is not retrained).

:func:`_old_loop` is a frozen copy of that loop (``emovc.training.ser_cnn.train_cnn`` before
the move to Lightning, its checkpoint code left out), kept here rather than a stored
fingerprint of its weights: float results depend on the CPU's kernels and the torch version,
so the two are compared on the machine that runs the test. It must not be edited to follow
the fit: a change of the fit that changes its weights is a change of the shipped recipe.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emovc.models.ser.cnn import CnnConfig, EmotionCNN
from emovc.training.ser_cnn import CnnTrainConfig, mel_stats, train_cnn

from .conftest import stop_after

NET = CnnConfig(channels=(4, 8), attention_dim=8)


def _old_crops(mels, crop, rng):
    crops = []
    for m in mels:
        start = int(rng.integers(0, m.shape[1] - crop + 1)) if m.shape[1] > crop else 0
        crops.append(m[:, start:start + crop])
    t = max(c.shape[1] for c in crops)
    x = np.zeros((len(crops), crops[0].shape[0], t), np.float32)
    for i, c in enumerate(crops):
        x[i, :, :c.shape[1]] = c
    return torch.from_numpy(x), torch.tensor([c.shape[1] for c in crops])


def _old_spec_augment(x, cfg, rng):
    b, f, t = x.shape
    for i in range(b):
        for _ in range(cfg.freq_masks):
            w = int(rng.integers(0, cfg.freq_mask_width + 1))
            f0 = int(rng.integers(0, max(1, f - w)))
            x[i, f0:f0 + w] = 0.0
        for _ in range(cfg.time_masks):
            w = int(rng.integers(0, cfg.time_mask_width + 1))
            t0 = int(rng.integers(0, max(1, t - w)))
            x[i, :, t0:t0 + w] = 0.0


def _old_loop(mels, labels, n_classes, world_mels, net_cfg, cfg) -> EmotionCNN:
    """The pre-Lightning ``train_cnn`` (no checkpoint, no progress bar), verbatim."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    mean, std = mel_stats(mels)
    norm = [(np.asarray(m, np.float32) - mean[:, None]) / std[:, None] for m in mels]
    wnorm = None if world_mels is None else [
        (np.asarray(m, np.float32) - mean[:, None]) / std[:, None] for m in world_mels]
    net_config = CnnConfig.from_dict({**net_cfg.to_dict(), "n_classes": n_classes,
                                      "n_mels": mels[0].shape[0]})
    net = EmotionCNN(net_config)
    steps = cfg.epochs * int(np.ceil(len(norm) / cfg.batch_size))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    y_all = torch.as_tensor(labels, dtype=torch.long)
    for _ in range(cfg.epochs):
        net.train()
        order = rng.permutation(len(norm))
        for s in range(0, len(order), cfg.batch_size):
            idx = order[s:s + cfg.batch_size]
            use_w = wnorm is not None and cfg.world_prob > 0
            src = [wnorm[i] if use_w and rng.random() < cfg.world_prob else norm[i] for i in idx]
            x, lengths = _old_crops(src, cfg.crop_frames, rng)
            _old_spec_augment(x, cfg, rng)
            target = F.one_hot(y_all[idx], n_classes).float()
            target = target * (1 - cfg.label_smoothing) + cfg.label_smoothing / n_classes
            if cfg.mixup_alpha > 0:
                lam = float(rng.beta(cfg.mixup_alpha, cfg.mixup_alpha))
                perm = torch.from_numpy(rng.permutation(len(idx)))
                x = lam * x + (1 - lam) * x[perm]
                target = lam * target + (1 - lam) * target[perm]
                lengths = torch.maximum(lengths, lengths[perm])
            loss = torch.sum(-target * F.log_softmax(net(x, lengths), -1), -1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    return net


def _data(n: int = 40, n_mels: int = 32, seed: int = 0):
    """``n`` random log-mels ``(n_mels, 150..259)`` (shorter and longer than the default
    200-frame crop), their WORLD stand-ins and 4 classes."""
    rng = np.random.default_rng(seed)
    mels = [rng.normal(size=(n_mels, int(rng.integers(150, 260)))).astype(np.float16)
            for _ in range(n)]
    world = [(m + rng.normal(scale=0.2, size=m.shape)).astype(np.float16) for m in mels]
    return mels, np.arange(n) % 4, world


def _equal(a: dict, b: dict) -> list[str]:
    """Names of the tensors that differ (empty: bit-identical state dicts)."""
    assert a.keys() == b.keys()
    return [k for k in a if not torch.equal(a[k], b[k])]


@pytest.mark.parametrize("world", [True, False], ids=["world_mels", "no_world"])
def test_the_lightning_fit_trains_the_old_loops_weights(world):
    """Default optimisation settings (batch 32, 200-frame crops, SpecAugment, mixup, label
    smoothing, WORLD copies, AdamW + one-cycle) for 3 epochs of 2 batches (32 + 8 clips) on
    the CPU: every weight, BatchNorm statistic and step count is equal to the old loop's —
    a change in what the numpy generator draws, or in what order, or in the optimiser and
    schedule steps, changes them."""
    mels, y, wmels = _data()
    cfg = replace(CnnTrainConfig(), epochs=3, threads=1, accelerator="cpu")
    old = _old_loop(mels, y, 4, wmels if world else None, NET, cfg)
    new = train_cnn(mels, y, 4, wmels if world else None, NET, cfg, progress=False)
    assert new.net.cfg == old.cfg
    assert _equal(old.state_dict(), new.net.state_dict()) == []
    np.testing.assert_array_equal(new.mel_mean, mel_stats(mels)[0])
    # one more epoch is another model: the comparison sees a change of the recipe
    longer = _old_loop(mels, y, 4, wmels if world else None, NET, replace(cfg, epochs=4))
    assert _equal(longer.state_dict(), new.net.state_dict())


def _scalars(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder)).Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}



def test_the_fit_logs_loss_and_learning_rate_to_tensorboard(tmp_path, monkeypatch):
    """The hand-written loop showed a tqdm bar and logged nothing. The fit logs each step's
    loss and learning rate, each epoch's mean loss and the resolved settings; a resumed fit
    continues the log, a fresh one (an earlier fit's log in the folder) starts it anew."""
    import yaml

    from emovc.training.ser_checkpoint import CnnCheckpoint
    from emovc.training.ser_cnn_module import CnnFit

    mels, y, wmels = _data(n=12, n_mels=16)
    cfg = CnnTrainConfig(epochs=3, batch_size=4, crop_frames=40, threads=1, accelerator="cpu")
    logs = tmp_path / "tb" / "version_0"
    ckpt = CnnCheckpoint(tmp_path / "checkpoints" / "cnn.ckpt", {"method": "cnn"})
    train_cnn(mels, y, 4, wmels, NET, replace(cfg, epochs=2), progress=False, log_dir=tmp_path)
    with monkeypatch.context() as m:  # a fresh fit over that log, stopped in epoch 2
        step = CnnFit.training_step

        def stop_at_step_4(module, *args):
            if module.global_step == 4:
                raise KeyboardInterrupt
            return step(module, *args)

        m.setattr(CnnFit, "training_step", stop_at_step_4)
        with pytest.raises(KeyboardInterrupt):
            train_cnn(mels, y, 4, wmels, NET, cfg, progress=False, checkpoint=ckpt,
                      log_dir=tmp_path, hparams={"cnn": {"epochs": 3}})
    train_cnn(mels, y, 4, wmels, NET, cfg, progress=False, checkpoint=ckpt, log_dir=tmp_path,
              hparams={"cnn": {"epochs": 3}})
    assert yaml.safe_load((logs / "hparams.yaml").read_text()) == {"cnn": {"epochs": 3}}
    got = _scalars(logs)
    # 3 epochs of 3 steps, none of the earlier fit's; step 3, which the stopped session
    # trained after its checkpoint (epoch 1), is trained and logged again by the resumed one
    assert [s for s, _ in got["train/loss"]] == [0, 1, 2, 3, 3, 4, 5, 6, 7, 8]
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
    cycle = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=9)
    used = []  # the learning rate of each step: the one-cycle schedule's, stepped per batch
    for _ in range(9):
        used.append(opt.param_groups[0]["lr"])
        opt.step()
        cycle.step()
    assert dict(got["train/lr"]) == pytest.approx(dict(enumerate(used)))
    assert [s for s, _ in got["train/epoch_loss"]] == [2, 5, 8]
    first = np.mean([v for _, v in got["train/loss"][:3]])
    assert got["train/epoch_loss"][0][1] == pytest.approx(first)
    assert dict(got["epoch"]) == {s: s // 3 for s in range(9)}  # the fit's, from 0


def test_a_checkpoint_of_the_loop_before_lightning_is_refused(tmp_path, monkeypatch):
    """An interrupted fit of an earlier emovc left a checkpoint of its own format (no
    Lightning loop state): it is refused in one line naming --force, which starts afresh."""
    from emovc.errors import ConfigError
    from emovc.training.ser_checkpoint import CnnCheckpoint, check_resumable

    mels, y, wmels = _data(n=12, n_mels=16)
    cfg = CnnTrainConfig(epochs=2, batch_size=4, crop_frames=40, threads=1, accelerator="cpu")
    ckpt = CnnCheckpoint(tmp_path / "checkpoints" / "cnn.ckpt", {"method": "cnn"})
    with monkeypatch.context() as m:
        stop_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            train_cnn(mels, y, 4, wmels, NET, cfg, progress=False, checkpoint=ckpt)
    state = torch.load(ckpt.path, weights_only=True)
    torch.save({"identity": state["identity"], "epoch": 1, "net": state["state_dict"],
                "numpy_rng": state["numpy_rng"], "torch_rng": state["torch_rng"]}, ckpt.path)
    run = replace(ckpt, settings=state["identity"]["settings"])  # as `ser train` has them
    for check in (lambda: check_resumable(run),
                  lambda: train_cnn(mels, y, 4, wmels, NET, cfg, progress=False,
                                    checkpoint=ckpt)):
        with pytest.raises(ConfigError, match=r"earlier emovc's CNN fit, which this version "
                                              r"cannot resume; .*--force") as err:
            check()
        assert "\n" not in str(err.value)
    fresh = train_cnn(mels, y, 4, wmels, NET, cfg, progress=False,
                      checkpoint=replace(ckpt, resume=False))
    straight = train_cnn(mels, y, 4, wmels, NET, cfg, progress=False)
    assert _equal(straight.net.state_dict(), fresh.net.state_dict()) == []


def test_ser_train_devices_option(tmp_path, monkeypatch):
    """`emovc ser train --devices N` sets the CNN fit's devices (as `emovc train --devices`);
    with --method linear, which trains no CNN, it is refused rather than ignored."""
    import typer
    from typer.testing import CliRunner

    from emovc.cli import ser_cmds
    from emovc.errors import EmovcError
    from emovc.training import ser

    app = typer.Typer()
    ser_cmds.register(app)

    seen = {}

    def fake_train(cfg, progress=True, force=False, say_device=None):
        seen["cfg"] = cfg
        raise EmovcError("stop here")

    monkeypatch.setattr(ser, "train", fake_train)
    args = ["ser", "train", str(tmp_path), "-o", str(tmp_path / "r")]
    res = CliRunner().invoke(app, [*args, "--method", "linear", "--devices", "2"])
    assert isinstance(res.exception, EmovcError) and "cfg" not in seen
    assert "--devices sets the CNN's devices; --method linear trains no CNN" in str(
        res.exception)
    CliRunner().invoke(app, [*args, "--method", "cnn", "--devices", "2", "--epochs", "3"])
    assert (seen["cfg"].cnn.devices, seen["cfg"].cnn.epochs) == (2, 3)
    CliRunner().invoke(app, args)
    assert seen["cfg"].cnn == CnnTrainConfig()


@pytest.mark.parametrize(("rows", "world"), [(32, 1), (32, 2), (8, 3), (5, 4), (1, 2)])
def test_devices_share_each_batch_so_that_their_average_is_its_mean_loss(rows, world):
    """With --devices N each process trains on its share of every batch; DDP averages their
    gradients, which must be the gradient of the batch's mean loss (the one-device loss):
    every row is some process's, once, and a process left without rows adds nothing."""
    from emovc.training.ser_cnn_module import shard

    per_clip = torch.rand(rows, dtype=torch.float64)
    parts = [shard(rows, world, rank) for rank in range(world)]
    losses = [per_clip[r].mean() if w is None else per_clip[r].sum() * w for r, w in parts]
    assert float(sum(losses) / world) == pytest.approx(float(per_clip.mean()))
    owned = [i for r, w in parts if w != 0.0 for i in np.arange(rows)[r]]
    assert sorted(owned) == list(range(rows))
