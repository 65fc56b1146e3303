"""What a training run prints: progress-line timing, Lightning's device lines, TensorBoard
interval."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from emovc.training import progress


def _run(callback: progress.LogProgress, times: list[float], monkeypatch, start: int = 0,
         total: int = 20) -> None:
    """Drive ``callback`` through one step per entry of ``times`` (the clock at each step's
    end; the session starts at 0 s)."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    trainer = SimpleNamespace(global_step=start, max_steps=total, is_global_zero=True,
                              progress_bar_metrics={"g": 1.5})
    callback.on_train_start(trainer, None)
    for i, t in enumerate(times):
        callback.on_train_batch_start(trainer, None, None, i)
        now[0] = t
        trainer.global_step += 1
        callback.on_train_batch_end(trainer, None, None, None, i)


def test_first_line_estimates_and_the_speed_leaves_out_the_first_step(monkeypatch,
                                                                      capsys) -> None:
    """'step 1/20 (5%), 18.4 s/step, 0:05:50 left' counted the first batch's one-off setup
    as a step of a run done 50 s later."""
    _run(progress.LogProgress(1), [18.0, 20.0, 22.0], monkeypatch)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["step 1/20 (5%), estimating the time left; g 1.5",
                     "step 2/20 (10%), 2.0 s/step, 0:00:36 left; g 1.5",
                     "step 3/20 (15%), 2.0 s/step, 0:00:34 left; g 1.5"]


def test_a_one_step_session_reports_its_only_step(monkeypatch, capsys) -> None:
    _run(progress.LogProgress(1), [4.0], monkeypatch, start=9, total=10)
    assert capsys.readouterr().out == "step 10/10 (100%), 4.0 s/step, 0:00:00 left; g 1.5\n"


def _fake_clock(monkeypatch) -> list[float]:
    """A clock that moves only when a test says (``now[0] += seconds``)."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    return now


def test_validation_and_checkpoint_saves_are_left_out_of_the_speed(tmp_path, monkeypatch,
                                                                   capsys) -> None:
    """The WORLD trainers' fit: 1 s steps, and every 2 steps a 100 s validation and two
    50 s checkpoint writes (the step file and last.ckpt). The line after the first validation
    said '101.0 s/step, 0:03:22 left': the speed counted them."""
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from emovc.training.checkpointing import checkpoint_callback

    now = _fake_clock(monkeypatch)

    class Toy(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch, _):
            now[0] += 1.0
            return self.layer(batch[0]).pow(2).mean()

        def validation_step(self, batch, _):
            now[0] += 100.0

        def on_save_checkpoint(self, checkpoint):
            now[0] += 50.0

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = DataLoader(TensorDataset(torch.ones(8, 2)), batch_size=1)
    trainer = L.Trainer(max_steps=5, logger=False, enable_progress_bar=False,
                        callbacks=[checkpoint_callback(tmp_path, 2, -1, 0),
                                   progress.LogProgress(1)],
                        enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=1, accelerator="cpu", val_check_interval=2,
                        check_val_every_n_epoch=None)  # as common.fit
    trainer.fit(Toy(), data, data)
    assert sorted(p.name for p in tmp_path.glob("step*.ckpt")) == [  # they did happen
        "step000002.ckpt", "step000004.ckpt"]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step")]
    assert lines == ["step 1/5 (20%), estimating the time left",
                     "step 2/5 (40%), 1.0 steps/s, 0:00:03 left",
                     "step 3/5 (60%), 1.0 steps/s, 0:00:02 left",
                     "step 4/5 (80%), 1.0 steps/s, 0:00:01 left",
                     "step 5/5 (100%), 1.0 steps/s, 0:00:00 left"]


def test_spectrogan_saves_and_validation_audio_are_left_out_of_the_speed(tmp_path,
                                                                          monkeypatch,
                                                                          capsys) -> None:
    """SpectroGAN saves, exports and writes its validation audio in its own callback, in the
    step whose line follows: a 2-step run ended with '25.0 s/step' for 0.3 s steps."""
    from emovc.training.spectrogan_run import RunCallback

    now = _fake_clock(monkeypatch)
    cfg = SimpleNamespace(run_dir=str(tmp_path), ckpt_minutes=0, ckpt_every=2, val_every=2,
                          max_steps=4)
    run = RunCallback(cfg, None, [("clip", None)], 0.0, 0.0)
    monkeypatch.setattr(run, "save", lambda *a: now.__setitem__(0, now[0] + 40.0))
    monkeypatch.setattr(run, "validate", lambda *a: now.__setitem__(0, now[0] + 60.0))
    bar = progress.LogProgress(1, optimizer_steps=2)
    trainer = SimpleNamespace(global_step=0, max_steps=8, is_global_zero=True,
                              progress_bar_metrics={}, callbacks=[run, bar])  # as train()
    module = SimpleNamespace(iteration=0)
    bar.on_train_start(trainer, module)
    for i in range(4):
        bar.on_train_batch_start(trainer, module, None, i)
        now[0] += 0.5
        trainer.global_step += 2
        module.iteration += 1
        for callback in trainer.callbacks:
            callback.on_train_batch_end(trainer, module, None, None, i)
    assert now[0] == 4 * 0.5 + 2 * (40 + 60)  # the saves and validations ran
    assert capsys.readouterr().out.splitlines() == [
        "step 1/4 (25%), estimating the time left",
        "step 2/4 (50%), 2.0 steps/s, 0:00:01 left",
        "step 3/4 (75%), 2.0 steps/s, 0:00:00 left",
        "step 4/4 (100%), 2.0 steps/s, 0:00:00 left"]


def test_an_untimed_section_nests_and_counts_once(monkeypatch) -> None:
    now = _fake_clock(monkeypatch)
    bar = progress.LogProgress(1)
    trainer = SimpleNamespace(callbacks=[bar])
    with progress.untimed(trainer):
        now[0] += 3.0
        with progress.untimed(trainer):
            now[0] += 4.0
        now[0] += 5.0
    now[0] += 2.0
    assert bar._clock() == 2.0


def test_lines_of_an_absent_accelerator_are_dropped(caplog) -> None:
    """Every CPU run printed 'GPU available: False, used: False' and 'TPU available: False,
    using: 0 TPU cores'; a GPU's line stays (it says whether the GPU is used)."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_info

    caplog.set_level(logging.INFO, logger="lightning.pytorch.utilities.rank_zero")
    with progress.quiet_lightning():
        rank_zero_info("GPU available: False, used: False")
        rank_zero_info("TPU available: False, using: 0 TPU cores")
        rank_zero_info("GPU available: True (cuda), used: True")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: True (cuda), used: True"]


@pytest.mark.parametrize(("max_steps", "most", "every"),
                         [(1500, 25, 25), (40, 25, 4), (20, 20, 2), (3, 25, 1), (100, 2, 2)])
def test_short_runs_log_about_ten_tensorboard_points(max_steps, most, every) -> None:
    """A 20-step SpectroGAN run logged its first step only; a run resumed for its last 10 of
    40 steps logged none (every 25)."""
    assert progress.log_interval(max_steps, most) == every


@pytest.mark.parametrize(("train", "val", "note"), [
    (["01", "02", "17"], ["17", "18"], "validation on training speakers: 17 of val_speakers "
     "also in train_speakers, so the validation audio says nothing about speakers the model "
     "has not heard; to hold them out: --set train_speakers=[01,02]"),
    (["17"], ["17"], "validation on training speakers: 17 of val_speakers also in "
     "train_speakers, so the validation audio says nothing about speakers the model has not "
     "heard")])
def test_validation_speakers_that_also_train_get_one_note(train, val, note) -> None:
    from emovc.errors import EmovcWarning
    from emovc.training.validation_audio import warn_if_validating_on_training

    with pytest.warns(EmovcWarning) as caught:
        warn_if_validating_on_training(train, val, "train_speakers", "val_speakers")
    assert [str(w.message) for w in caught] == [note]
