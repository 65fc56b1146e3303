"""Tiny end-to-end training runs on synthetic emotion caricatures (CPU, seconds)."""

from pathlib import Path

import pytest
import torch
import yaml

from emovc.errors import EmovcError
from emovc.models.checkpoint import load_checkpoint

from .conftest import CODES, FAST, TINY_STARGAN, stargan_config


def test_stargan_run_writes_everything(stargan_run: Path):
    run = stargan_run.parent
    ckpt = load_checkpoint(stargan_run, "emotion-converter/stargan")
    assert ckpt["extra"]["training"]["steps"] == 6
    assert ckpt["extra"]["emotions"] == ["calm", "happy", "sad", "angry"]
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert yaml.safe_load((run / "config.yaml").read_text())["max_steps"] == 6
    assert list((run / "audio").glob("*.wav")), "validation audio missing"
    assert list((run / "tb").rglob("events.out.tfevents.*")), "tensorboard log missing"
    # float16 weights keep the shipped file small
    assert all(v.dtype == torch.float16 for k, v in ckpt["state_dict"].items()
               if v.is_floating_point())


def test_cyclegan_run_writes_model(cyclegan_run: Path):
    ckpt = load_checkpoint(cyclegan_run, "emotion-converter/cyclegan")
    assert ckpt["extra"]["emotions"] == ["calm", "angry"]
    assert ckpt["extra"]["training"]["steps"] == 4
    assert len(ckpt["extra"]["cwt_std"]) == 10
    assert any(k.startswith("g_ab.") for k in ckpt["state_dict"])
    assert any(k.startswith("g_ba.") for k in ckpt["state_dict"])


def test_generator_fits_aligned_pairs(corpus, cache_root, tmp_path):
    """The generator + data pipeline can fit real aligned pairs (the supervised part)."""
    from emovc.training.stargan import StarGANModule

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 1)
    module = StarGANModule(cfg, _data(cfg))
    module.sampler.batch_size = 8
    x, y, _, t = (torch.from_numpy(a) for a in module.sampler.pairs(module.sampler.rng(0)))
    n = module.model_cfg.n_out
    opt = torch.optim.Adam(module.G.parameters(), 3e-3)
    first = None
    for _ in range(30):
        loss = torch.nn.functional.l1_loss(module.G(x, t), y[:, :n])
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first


def _data(cfg):
    from emovc.training.common import prepare_features
    from emovc.training.datamodule import ConversionData

    folder, tr, va = prepare_features(cfg.data_dir, cfg.cache_dir, cfg.world, None, None, 1)
    return ConversionData(folder, cfg.emotions, tr, va)


def test_resume_continues_exactly(corpus, stargan_run, cache_root, tmp_path, fit_sessions):
    """4 steps + resume to 6 steps == 6 uninterrupted steps (same batches, same weights), and
    the resumed session trains only steps 5 and 6 (a restart from step 0 ends the same)."""
    from emovc.training.stargan import train

    cache = cache_root
    train(stargan_config(corpus, tmp_path / "b", cache, 4))
    resumed = train(stargan_config(corpus, tmp_path / "b", cache, 6))  # same folder: resumes
    a = load_checkpoint(stargan_run)
    b = load_checkpoint(resumed)
    assert b["extra"]["training"]["steps"] == 6
    assert fit_sessions == [4, 2]
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k


def test_a_stopped_run_resumes_exactly_from_its_timed_checkpoint(corpus, stargan_run, cache_root,
                                                                  tmp_path, monkeypatch, capsys,
                                                                  fit_sessions):
    """last.ckpt is also written every ckpt_minutes between the ckpt_every saves (a Ctrl-C
    used to lose every step since the last of those, up to ~10 minutes by default). A run
    stopped in the middle of a step, after its discriminator and classifier updates, resumes
    from the timed save before that step and ends bit-identical to an uninterrupted run —
    which also shows that the saves do not change what is trained."""
    import signal

    from emovc.training import stargan

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 6)
    cfg.ckpt_every, cfg.ckpt_minutes = 100, 1e-9  # a timed save after every step, no step save
    real, calls = stargan.losses.lsgan_g_loss, []

    def stop_in_step_5(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt  # as Ctrl-C would, half-way through the step
        return real(*args)

    monkeypatch.setattr(stargan.losses, "lsgan_g_loss", stop_in_step_5)
    handler = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):
            stargan.train(cfg)
    finally:
        signal.signal(signal.SIGINT, handler)  # Lightning ignores Ctrl-C once it had one
    assert f"the same command resumes {run} from step 4" in capsys.readouterr().err
    assert sorted(p.name for p in (run / "checkpoints").glob("*.ckpt")) == ["last.ckpt"]
    monkeypatch.undo()
    resumed = load_checkpoint(stargan.train(cfg))["state_dict"]
    for k, v in load_checkpoint(stargan_run)["state_dict"].items():
        assert torch.equal(v, resumed[k]), k
    assert fit_sessions == [4, 2]  # stopped in step 5; the resume trains steps 5 and 6 only


def test_timed_saves_leave_the_kept_step_checkpoints_alone(corpus, cache_root, tmp_path):
    """Timed saves write last.ckpt only: keep_checkpoints still keeps the newest step files,
    across a resume from a timed save."""
    from emovc.training.stargan import train

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 5)
    cfg.keep_checkpoints, cfg.ckpt_minutes = 2, 1e-9
    train(cfg)
    last = run / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 5
    files = sorted(p.name for p in (run / "checkpoints").glob("*.ckpt"))
    assert files == ["last.ckpt", "step000002.ckpt", "step000004.ckpt"]
    cfg.max_steps = 8
    train(cfg)
    files = sorted(p.name for p in (run / "checkpoints").glob("*.ckpt"))
    assert files == ["last.ckpt", "step000006.ckpt", "step000008.ckpt"]
    assert torch.load(last, weights_only=True)["global_step"] == 8


def test_cache_index_keeps_speech_levels(corpus, tmp_path):
    """The source level is stored at extraction; an index from before the column gets it
    measured from the audio once (same value), and speech_levels reads it from the rows."""
    import csv

    import numpy as np

    from emovc.audio import load_audio
    from emovc.audio.processing import active_rms_dbfs
    from emovc.features.world import WorldConfig
    from emovc.training.feature_cache import build_cache, read_index, speech_levels

    folder = build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    rows = read_index(folder)
    levels = speech_levels(rows)
    r = rows[0]
    assert np.isclose(levels[r.key], active_rms_dbfs(load_audio(r.path, sr=16000), 16000))
    # an old-format cache: no level in the index nor in the .npz files
    for row in rows:
        z = dict(np.load(folder / f"{row.key}.npz"))
        z.pop("level_db")
        np.savez_compressed(folder / f"{row.key}.npz", **z)
    with open(folder / "index.csv", newline="") as f:
        old = [{k: v for k, v in d.items() if k != "level_db"} for d in csv.DictReader(f)]
    with open(folder / "index.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(old[0]))
        w.writeheader()
        w.writerows(old)
    assert all(np.isnan(x.level_db) for x in read_index(folder))
    with pytest.raises(EmovcError, match="no speech level"):
        speech_levels(read_index(folder))
    build_cache(corpus, tmp_path / "cache", WorldConfig(), workers=1)
    again = speech_levels(read_index(folder))
    assert again.keys() == levels.keys()
    assert all(np.isclose(again[k], levels[k]) for k in levels)



def test_classifier_can_judge_the_low_order_trajectory_only(corpus, cache_root, tmp_path):
    """``cls_channels=5``: the classifier takes c0-c4 only (real and converted segments)."""
    from emovc.errors import ConfigError
    from emovc.training.stargan import StarGANModule, train

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 2)
    cfg.cls_channels = 5
    module = StarGANModule(cfg, _data(cfg))
    x = torch.from_numpy(module.sampler.pairs(module.sampler.rng(0))[0])
    assert module.C(x[:, :5]).shape == (x.shape[0], len(cfg.emotions))
    with pytest.raises(RuntimeError):  # it cannot take the full feature set any more
        module.C(x[:, : module.model_cfg.n_out])
    ckpt = load_checkpoint(train(cfg), "emotion-converter/stargan")  # trains end to end
    assert ckpt["extra"]["training"]["steps"] == 2
    cfg.cls_channels = 999
    with pytest.raises(ConfigError, match="cls_channels"):
        StarGANModule(cfg, _data(cfg))


def test_global_variance_loss_compares_spread_not_frames():
    """GV loss: 0 for a shifted or time-reversed copy, |s1 - s2| for a scaled one, and
    frames outside the mask do not count."""
    from emovc.training.losses import global_variance_loss

    g = torch.Generator().manual_seed(0)
    real = torch.randn(2, 3, 200, generator=g)
    mask = torch.ones(2, 1, 200)
    assert global_variance_loss(real + 5.0, real, mask) < 1e-4
    assert global_variance_loss(real.flip(-1), real, mask) < 1e-4
    std = real.std(-1, unbiased=False).mean()
    assert torch.isclose(global_variance_loss(2 * real, real, mask), std, rtol=1e-3)
    wild = real.clone()
    wild[..., 150:] = 100.0 * torch.randn(2, 3, 50, generator=g)
    mask[..., 150:] = 0.0
    assert global_variance_loss(wild, real, mask) < 1e-4


def test_gv_loss_trains_and_checks_its_channels(corpus, cache_root, tmp_path):
    """``w_gv`` > 0 trains end to end; a bad ``gv_channels`` or a negative ``w_gv`` is refused."""
    from emovc.errors import ConfigError
    from emovc.training.stargan import StarGANModule, build_config, train

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 2)
    cfg.w_gv, cfg.gv_channels = 5.0, 5
    ckpt = load_checkpoint(train(cfg), "emotion-converter/stargan")
    assert ckpt["extra"]["training"]["steps"] == 2
    cfg.gv_channels = -1
    with pytest.raises(ConfigError, match="gv_channels"):
        StarGANModule(cfg, _data(cfg))
    with pytest.raises(ConfigError, match="w_gv"):
        build_config(corpus, tmp_path / "run2", overrides={"w_gv": -1.0})


def test_speaker_loss_trains_and_refuses_a_negative_weight(corpus, cache_root, tmp_path):
    """``w_spk`` > 0 trains end to end; a negative ``w_spk`` is refused."""
    from emovc.errors import ConfigError
    from emovc.training.stargan import build_config, train

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 2)
    cfg.w_spk = 10.0
    ckpt = load_checkpoint(train(cfg), "emotion-converter/stargan")
    assert ckpt["extra"]["training"]["steps"] == 2
    with pytest.raises(ConfigError, match="w_spk"):
        build_config(corpus, tmp_path / "run2", overrides={"w_spk": -1.0})


def test_fine_tuning_starts_from_an_exported_model_file(corpus, stargan_run, cache_root,
                                                        tmp_path):
    """``init_from`` takes a ``model.pt`` (generator only, fp16) as well as a Lightning
    checkpoint; the discriminator and classifier start fresh."""
    from emovc.errors import ConfigError
    from emovc.training.stargan import StarGANModule, init_weights

    cfg = stargan_config(corpus, tmp_path / "run", cache_root, 1)
    module = StarGANModule(cfg, _data(cfg))
    d_before = {k: v.clone() for k, v in module.D.state_dict().items()}
    init_weights(module, str(stargan_run))
    saved = load_checkpoint(stargan_run)["state_dict"]
    own = module.G.state_dict()
    for k, v in saved.items():
        if not k.endswith("emo_mean"):
            torch.testing.assert_close(own[k], v.float())
    assert all(torch.equal(v, module.D.state_dict()[k]) for k, v in d_before.items())
    with pytest.raises(ConfigError, match="unknown model 'no-such-model'"):
        init_weights(module, "no-such-model")


def test_run_keeps_the_newest_checkpoints_and_stays_quiet(corpus, cache_root, tmp_path,
                                                          caplog, capsys):
    """keep_checkpoints=2: only the two newest step files (+ last.ckpt), across a resume;
    Lightning's advert and manual-optimisation notice do not reach the user; output that
    is not a terminal gets plain progress lines."""
    import warnings

    from emovc.training.stargan import train

    def files(run: Path) -> list[str]:
        return sorted(p.name for p in (run / "checkpoints").glob("*.ckpt"))

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 8)
    cfg.keep_checkpoints = 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(cfg)
        assert files(run) == ["last.ckpt", "step000006.ckpt", "step000008.ckpt"]
        cfg.max_steps = 10
        train(cfg)  # resumes; the kept set moves on
    assert files(run) == ["last.ckpt", "step000008.ckpt", "step000010.ckpt"]
    said = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    noise = ("manual optimization", "Tip:", "not resumable", "exists and is not empty")
    assert not [m for m in said if any(n in m for n in noise)], said
    out = capsys.readouterr().out
    assert "step 8/8 (100%)" in out and "step 10/10 (100%)" in out, out
    assert ("steps/s" in out or "s/step" in out) and "Epoch" not in out
    assert "; g " in out and ", d " in out, out  # the generator's and discriminators' losses


def test_resume_with_another_keep_checkpoints_prunes_the_earlier_files(corpus, cache_root,
                                                                       tmp_path, caplog):
    """A run that kept every checkpoint, resumed with keep_checkpoints=2, keeps only the two
    newest: the callback's state (its list of files) carries over, with no Lightning notice
    about callbacks that differ from the checkpoint's."""
    import warnings

    from emovc.training.stargan import train

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 6)
    cfg.keep_checkpoints = -1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(cfg)
        assert len(list((run / "checkpoints").glob("step*.ckpt"))) == 3
        cfg.max_steps, cfg.keep_checkpoints = 10, 2
        train(cfg)
    kept = sorted(p.name for p in (run / "checkpoints").glob("*.ckpt"))
    assert kept == ["last.ckpt", "step000008.ckpt", "step000010.ckpt"]
    said = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "callbacks used to create the checkpoint" in m], said


@pytest.mark.parametrize("method", ["stargan", "cyclegan"])
@pytest.mark.parametrize("keep", [0, -2])
def test_keep_checkpoints_must_be_all_or_positive(corpus, tmp_path, method, keep):
    import importlib

    build = importlib.import_module(f"emovc.training.{method}").build_config
    with pytest.raises(EmovcError, match="keep_checkpoints must be -1"):
        build(str(corpus), str(tmp_path / "run"), overrides={"keep_checkpoints": keep})


def test_emotions_the_corpus_lacks_are_refused(corpus, cache_root, tmp_path):
    """A pair or emotion list the corpus has no training takes of is a one-line error naming
    the emotions it has (it used to fail deep in the sampler); an unknown name lists the
    valid ones."""
    from emovc.training import cyclegan
    from emovc.training.stargan import build_config, train

    cfg = build_config(str(corpus), str(tmp_path / "run"), max_steps=2,
                       overrides={**FAST, "model": dict(TINY_STARGAN), "cache_dir":
                                  str(cache_root), "emotions": [*CODES, "fearful"]})
    with pytest.raises(EmovcError, match=r"no training utterances of fearful .*angry, calm"):
        train(cfg)
    with pytest.raises(EmovcError, match="unknown target emotion 'furious'; valid choices"):
        cyclegan.build_config(str(corpus), str(tmp_path / "r2"), "calm", "furious")


def test_resume_keeps_last_ckpt_current_when_the_callback_state_is_foreign(corpus, cache_root,
                                                                           tmp_path):
    """A checkpoint whose checkpoint-callback state Lightning cannot match (written by an older
    emovc with other callback settings) still resumes into ``last.ckpt`` itself, so the next
    resume continues from the newest step (it used to go to ``last-v1.ckpt``)."""
    from emovc.training.stargan import train

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 4)
    train(cfg)
    last = run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=True)
    ckpt["callbacks"] = {"ModelCheckpoint{'monitor': None, 'mode': 'min'}": {}}
    torch.save(ckpt, last)
    cfg.max_steps = 6
    train(cfg)
    assert torch.load(last, weights_only=True)["global_step"] == 6
    assert not list((run / "checkpoints").glob("last-v*.ckpt"))


def test_resume_reads_last_ckpt_with_weights_only(corpus, cache_root, tmp_path, monkeypatch):
    """Resume passes weights_only=True to Lightning: a last.ckpt holding an arbitrary object is
    refused even where torch's default would unpickle it (torch < 2.6, simulated here). The
    run-folder check's own safe read of the step is stubbed out, to test Lightning's load."""
    import pickle
    from fractions import Fraction

    from emovc.training import run_dir
    from emovc.training.stargan import train

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 2)
    train(cfg)
    last = run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=True)
    ckpt["planted"] = Fraction(1, 3)  # not plain data: only a full unpickle loads it
    torch.save(ckpt, last)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # torch's pre-2.6 default
    monkeypatch.setattr(run_dir, "checkpoint_step", lambda path: 2)
    cfg.max_steps = 4
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        train(cfg)


def test_progress_lines_give_seconds_per_step_below_one_step_a_second() -> None:
    """A full-size recipe on a CPU printed "0.0 steps/s"."""
    from emovc.training.progress import _speed

    assert (_speed(13.14), _speed(1.0), _speed(0.04), _speed(0.0)) == (
        "13.1 steps/s", "1.0 steps/s", "25.0 s/step", "0.0 steps/s")


def test_a_timed_save_does_not_swallow_the_deferred_step_save(tmp_path):
    """Lightning holds back the step save of an epoch's last batch until validation ends
    (automatic optimisation: the SV2TTS trainers); a timed save in between marked the step
    saved, so step4.ckpt was never written."""
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    from emovc.training.common import checkpoint_callback

    class Toy(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch, _):
            return self.layer(batch[0]).pow(2).mean()

        def validation_step(self, batch, _):
            return None

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = DataLoader(TensorDataset(torch.ones(2, 2)), batch_size=1)
    for minutes in (0, 1e-9):
        folder = tmp_path / str(minutes)
        trainer = L.Trainer(max_steps=4, callbacks=[checkpoint_callback(folder, 2, -1, minutes)],
                            logger=False, enable_progress_bar=False, enable_model_summary=False,
                            num_sanity_val_steps=0, limit_val_batches=1, accelerator="cpu",
                            val_check_interval=2, check_val_every_n_epoch=None)  # as fit()
        trainer.fit(Toy(), data, data)
        files = sorted(p.name for p in folder.glob("*.ckpt"))
        assert files == ["last.ckpt", "step000002.ckpt", "step000004.ckpt"], minutes
        assert torch.load(folder / "last.ckpt", weights_only=True)["global_step"] == 4


def test_world_runs_that_validate_on_a_training_speaker_say_so(corpus, cache_root, tmp_path):
    """--set val_speakers=[17] --set train_speakers=[01, 17] trained without a word, as
    SpectroGAN's val_actors did; both WORLD trainers now give the one note."""
    from emovc.errors import EmovcWarning
    from emovc.training.stargan import train

    from .conftest import train_tiny_cyclegan

    note = ("validation on training speakers: 17 of val_speakers also in train_speakers, so "
            "the validation audio says nothing about speakers the model has not heard; to "
            "hold them out: --set train_speakers=[01]")
    cfg = stargan_config(corpus, tmp_path / "sg", cache_root, 1)
    cfg.train_speakers, cfg.val_speakers = ["01", "17"], ["17"]
    with pytest.warns(EmovcWarning) as caught:
        train(cfg)
    assert [str(w.message) for w in caught if "training speakers" in str(w.message)] == [note]
    with pytest.warns(EmovcWarning) as caught:
        train_tiny_cyclegan(corpus, cache_root, tmp_path / "cg", max_steps=1,
                            train_speakers=["01", "17"], val_speakers=["17"])
    assert [str(w.message) for w in caught if "training speakers" in str(w.message)] == [note]
