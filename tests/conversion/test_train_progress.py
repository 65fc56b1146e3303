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
