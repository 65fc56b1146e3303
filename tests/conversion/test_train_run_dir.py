"""Run folders: another run's outputs are never replaced without ``--force``; a run resumes
only as itself (exact resume, no silent change of the learning-rate schedule)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from emovc.cli.main import main
from emovc.errors import ConfigError

from .conftest import FAST, TINY_STARGAN, stargan_config

TINY = "model={width: 16, n_blocks: 1, emb_dim: 4, d_width: 16, c_width: 16}"


def _train_cli(corpus: Path, run: Path, cache: Path, capsys, *extra: str) -> tuple[int, str]:
    sets = [f"{k}={v}" for k, v in FAST.items()] + [TINY, f"cache_dir={cache}",
                                                    "emotions=[calm, angry]"]
    args = ["train", str(corpus), "-o", str(run), "--max-steps", "2"]
    for s in sets:
        args += ["--set", s]
    code = main(args + list(extra))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_train_refuses_another_runs_folder_without_force(corpus, cache_root, tmp_path, capsys):
    """An SER run folder (model.pt + config.yaml, no checkpoint) given to ``emovc train`` is
    refused with a one-line error naming --force (its model.pt used to be replaced);
    --force starts the run afresh there."""
    run = tmp_path / "ser-run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"an SER model")
    (run / "config.yaml").write_text(yaml.safe_dump({"method": "linear", "corpus": "x"}))
    code, said = _train_cli(corpus, run, cache_root, capsys)
    assert code == 2 and "holds another kind of run" in said and "--force" in said, said
    assert "Traceback" not in said
    assert (run / "model.pt").read_bytes() == b"an SER model"
    lonely = tmp_path / "model-only"
    lonely.mkdir()
    (lonely / "model.pt").write_bytes(b"?")
    code, said = _train_cli(corpus, lonely, cache_root, capsys)
    assert code == 2 and "holds model.pt but no config.yaml" in said and "--force" in said
    code, said = _train_cli(corpus, run, cache_root, capsys, "--force")
    assert code == 0, said
    assert yaml.safe_load((run / "config.yaml").read_text())["max_steps"] == 2
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_force_restarts_a_run_of_other_settings(corpus, cache_root, tmp_path):
    """A run of other settings (with checkpoints) is refused; resume=False (``--force``)
    replaces it: no step file of the earlier run is left behind."""
    from emovc.training.stargan import train

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 4)
    cfg.emotions = ["calm", "angry"]
    train(cfg)
    assert (run / "checkpoints" / "step000004.ckpt").is_file()
    other = stargan_config(corpus, run, cache_root, 2)
    other.emotions, other.w_cls = ["calm", "angry"], 0.5
    with pytest.raises(ConfigError, match=r"different settings: w_cls.*resume=False"):
        train(other)
    train(other, resume=False)
    names = sorted(p.name for p in (run / "checkpoints").glob("*.ckpt"))
    assert names == ["last.ckpt", "step000002.ckpt"]
    assert yaml.safe_load((run / "config.yaml").read_text())["w_cls"] == 0.5


def test_finished_run_resumes_with_the_corpus_spelled_otherwise(corpus, cache_root, tmp_path,
                                                                monkeypatch):
    """A relative corpus path resumes a run started with the absolute one; a smaller
    max_steps than the run has trained is refused and config.yaml is left as it was."""
    from emovc.training.stargan import build_config, train

    run = tmp_path / "run"
    cfg = stargan_config(corpus, run, cache_root, 2)
    cfg.emotions = ["calm", "angry"]
    train(cfg)
    monkeypatch.chdir(corpus.parent)
    again = build_config(os.path.relpath(corpus), str(run), max_steps=2,
                         overrides={**FAST, "model": dict(TINY_STARGAN),
                                    "cache_dir": str(cache_root), "emotions": ["calm", "angry"]})
    train(again)  # resumes (re-exports) instead of "different settings ['data_dir']"
    # cadence and the feature cache's place do not change what is learned (a run with
    # val_every changed half-way ends bit-identical): a resume may change them
    again.val_every, again.ckpt_every = 3, 1
    again.cache_dir = str(tmp_path / "another-cache")
    train(again)
    again.max_steps = 1
    with pytest.raises(ConfigError, match="already trained 2 steps, more than max_steps 1"):
        train(again)
    assert yaml.safe_load((run / "config.yaml").read_text())["max_steps"] == 2


def test_spectrogan_refusal_names_force_and_schedule_changes_are_refused(tmp_path):
    """SpectroGAN: a folder of another run is refused naming --force (the message used to say
    resume=False); a max_steps that changes the learning rate of iterations already trained
    is refused, one that does not (before the decay starts, or no decay) is accepted."""
    from emovc.training.spectrogan import build_config, check_schedule, train

    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"x")
    (run / "config.yaml").write_text(yaml.safe_dump({"preset": "other", "max_steps": 5}))
    cfg = build_config(str(tmp_path / "data"), str(run), "calm", "angry", max_steps=20,
                       overrides={"decay_from": 0.5})
    with pytest.raises(ConfigError, match="holds another run .*--force"):
        train(cfg, cli=True)  # as emovc train calls it
    old = {"max_steps": 10}
    with pytest.raises(ConfigError, match=r"trained 7 of 10 iterations .* decays from "
                                          r"iteration 5 .*keep --max-steps 10"):
        check_schedule(cfg, old, 7)
    check_schedule(cfg, old, 6)  # iterations 0-5 had the full rate under both schedules
    cfg.decay_from = 1.0
    check_schedule(cfg, old, 10)  # no decay: nothing trained changes


def test_ser_train_checks_the_speakers_before_writing_the_run_folder(corpus, tmp_path):
    """``ser train`` with a validation speaker the corpus lacks leaves no config.yaml behind
    (a later ``emovc train`` into that folder would take it for another run's)."""
    from emovc.errors import EmovcError
    from emovc.training.ser import build_config, train

    cfg = build_config(str(corpus), str(tmp_path / "run"), {"val_speakers": ["99"]})
    with pytest.raises(EmovcError, match="validation speaker"):
        train(cfg, progress=False)
    assert not (tmp_path / "run" / "config.yaml").exists()


def test_force_with_a_command_that_fails_on_its_data_keeps_the_earlier_run(
        corpus, cache_root, tmp_path, capsys):
    """--force used to remove the earlier run before the new command read its corpus: a
    mistyped speaker or emotion cost the run. It is removed only once the new run can start."""
    run = tmp_path / "run"
    code, said = _train_cli(corpus, run, cache_root, capsys)
    assert code == 0, said
    before = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    code, said = _train_cli(corpus, run, cache_root, capsys, "--force", "--set",
                            "train_speakers=[no_such_speaker]")
    assert code == 2 and "no_such_speaker" in said, said
    after = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    assert after == before and "model.pt" in after


def test_an_output_that_is_a_file_is_refused_before_any_work(corpus, cache_root, tmp_path,
                                                             capsys, monkeypatch):
    import emovc.training.stargan as stargan

    monkeypatch.setattr(stargan, "prepare_features",
                        lambda *a, **k: pytest.fail("features read before the output check"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, said = _train_cli(corpus, afile, cache_root, capsys)
    assert code == 2 and "is a file, not a folder" in said, said


def test_an_interrupted_fit_is_an_interruption_not_a_failure(tmp_path, capsys):
    """Lightning ends a run it shut down gracefully after Ctrl-C with exit status 1; the
    trainers re-raise KeyboardInterrupt (emovc exits 130) with a note on resuming."""
    from emovc.training.common import fit_or_interrupt

    class Interrupted:
        interrupted = True

        def fit(self, *a, **k):
            raise SystemExit(1)

    with pytest.raises(KeyboardInterrupt):
        fit_or_interrupt(Interrupted(), tmp_path)
    assert "same command resumes" in capsys.readouterr().err
    Interrupted.interrupted = False
    with pytest.raises(SystemExit):  # any other exit passes through
        fit_or_interrupt(Interrupted(), tmp_path)


def test_spectrogan_start_failing_on_its_data_writes_nothing(tmp_path):
    """A SpectroGAN run whose corpus lacks the source emotion used to leave a config.yaml
    that made the corrected command a 'different run'."""
    from emovc.training.spectrogan import build_config, train

    (tmp_path / "data" / "Actor_01").mkdir(parents=True)
    run = tmp_path / "run"
    cfg = build_config(str(tmp_path / "data"), str(run), "calm", "angry", max_steps=2)
    with pytest.raises(ConfigError):
        train(cfg)
    assert not (run / "config.yaml").exists()


def test_resuming_without_max_steps_keeps_the_runs_own(corpus, cache_root, tmp_path, capsys):
    """Re-running a finished 2-step run without --max-steps used to extend it to the preset's
    1500 steps."""
    run = tmp_path / "run"
    code, said = _train_cli(corpus, run, cache_root, capsys)
    assert code == 0, said
    sets = [f"{k}={v}" for k, v in FAST.items()] + [TINY, f"cache_dir={cache_root}",
                                                    "emotions=[calm, angry]"]
    args = ["train", str(corpus), "-o", str(run)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0, capsys.readouterr().err
    assert yaml.safe_load((run / "config.yaml").read_text())["max_steps"] == 2


def test_a_model_from_an_unfinished_run_says_so(stargan_run, cyclegan_run, tmp_path):
    """model.pt is exported at every validation: an interrupted run leaves one that loads; it
    now carries the run's max_steps and the converter notes it is unfinished."""
    from emovc.models.checkpoint import load_checkpoint, save_checkpoint
    from emovc.pipelines.conversion import EmotionConverter

    ckpt = load_checkpoint(stargan_run)
    training = ckpt["extra"]["training"]
    assert training["steps"] == training["max_steps"]  # a finished run: global_step = steps
    assert EmotionConverter.from_pretrained(str(stargan_run)).unfinished == ""
    assert EmotionConverter.from_pretrained(str(cyclegan_run)).unfinished == ""
    ckpt["extra"]["training"] = {**training, "max_steps": training["steps"] + 10}
    early = save_checkpoint(tmp_path / "model.pt", kind=ckpt["kind"], config=ckpt["config"],
                            state_dict=ckpt["state_dict"], extra=ckpt["extra"])
    note = EmotionConverter.from_pretrained(str(early)).unfinished
    assert "unfinished training run (step" in note and "of" in note


def test_an_unfinished_spectrogan_run_says_so_too(tmp_path):
    """SpectroGAN exports count iterations (``extra["iterations"]`` against the run's
    ``train.max_steps``); the bundled model is finished, a copy stopped early is not."""
    from emovc.models.checkpoint import load_checkpoint, save_checkpoint
    from emovc.pipelines.conversion import EmotionConverter

    assert EmotionConverter.from_pretrained("spectrogan-ravdess").unfinished == ""
    from emovc.pretrained.registry import resolve

    ckpt = load_checkpoint(resolve("spectrogan-ravdess"))
    extra = {**ckpt["extra"], "iterations": 60,
             "train": {**ckpt["extra"]["train"], "max_steps": 300}}
    early = save_checkpoint(tmp_path / "model.pt", kind=ckpt["kind"], config=ckpt["config"],
                            state_dict=ckpt["state_dict"], extra=extra)
    note = EmotionConverter.from_pretrained(str(early)).unfinished
    assert "unfinished training run (step 60 of 300)" in note


def _other_run(root: Path, kind: str | None, config: dict) -> Path:
    from emovc.models.checkpoint import save_checkpoint

    root.mkdir(parents=True)
    if kind:
        save_checkpoint(root / "model.pt", kind=kind, config={}, state_dict={})
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


VOCODER_RUN = {"max_steps": 5, "seq_frames": 4, "model": {"bits": 9}, "lr": 1e-4}


@pytest.mark.parametrize(("kind", "config", "said"), [
    ("vocoder/wavernn", VOCODER_RUN, "holds a vocoder/wavernn run (its model.pt), not an "
                                     "emotion-converter/stargan run"),
    (None, VOCODER_RUN, "holds another kind of run (its config.yaml has settings an "
                        "emotion-converter/stargan run does not: lr, seq_frames)"),
    ("emotion-converter/spectrogan", {"max_steps": 5}, "holds an emotion-converter/spectrogan "
                                                       "run (its model.pt), not an "
                                                       "emotion-converter/stargan run"),
    ("emotion-recognizer", {"method": "linear"}, "holds an emotion recogniser run (its "
                                                 "model.pt), not an emotion-converter/stargan "
                                                 "run"),
])
def test_train_names_the_kind_of_run_a_folder_holds(kind, config, said, corpus, cache_root,
                                                    tmp_path, capsys, monkeypatch):
    """`emovc train` at a train-voice or SpectroGAN run folder gave a settings diff (or
    nothing of what the folder was) and a --force hint, not that --force deletes that run;
    train-voice already named the kind."""
    import emovc.training.stargan as stargan

    monkeypatch.setattr(stargan, "prepare_features",
                        lambda *a, **k: pytest.fail("features read before the run folder check"))
    run = _other_run(tmp_path / "run", kind, config)
    before = _files(run)
    code, err = _train_cli(corpus, run, cache_root, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert said in err, err
    assert "choose another -o; --force would start this run there, deleting that run's " \
           "model.pt and checkpoints" in err
    assert _files(run) == before


def test_cyclegan_and_spectrogan_name_the_kind_of_run_too(tmp_path):
    """The CycleGAN trainer at a StarGAN folder and the SpectroGAN trainer at a train-voice
    folder said "different settings: ..."."""
    from emovc.training import cyclegan, spectrogan

    stargan_dir = _other_run(tmp_path / "stargan", "emotion-converter/stargan",
                             {"max_steps": 5, "emotions": ["calm", "angry"]})
    cfg = cyclegan.build_config(str(tmp_path / "data"), str(stargan_dir), "calm", "angry",
                                max_steps=5)
    with pytest.raises(ConfigError, match=r"holds an emotion-converter/stargan run \(its "
                                          r"model.pt\), not an emotion-converter/cyclegan run; "
                                          r"choose another -o; --force would start"):
        cyclegan.train(cfg, cli=True)
    voice = _other_run(tmp_path / "voice", "synthesizer/tacotron", {"max_steps": 5})
    cfg = spectrogan.build_config(str(tmp_path / "data"), str(voice), "calm", "angry",
                                  max_steps=5)
    with pytest.raises(ConfigError, match=r"holds a synthesizer/tacotron run \(its model.pt\), "
                                          r"not an emotion-converter/spectrogan run; .*--force "
                                          r"would start this run there"):
        spectrogan.train(cfg, cli=True)
    assert _files(voice) == ["config.yaml", "model.pt"]


@pytest.mark.parametrize("method", ["stargan", "cyclegan", "spectrogan"])
def test_train_from_python_names_run_dir_and_resume_false(method, tmp_path):
    """StarGAN's and CycleGAN's train(), called from Python, told the caller to choose
    another -o or pass --force; like SpectroGAN's, their run-folder refusals name run_dir
    and resume=False unless cli=True (emovc train)."""
    import importlib

    trainer = importlib.import_module(f"emovc.training.{method}")
    voice = _other_run(tmp_path / "voice", "synthesizer/tacotron", {"max_steps": 5})
    pair = (None, None) if method == "stargan" else ("calm", "angry")  # StarGAN: emotions
    cfg = trainer.build_config(str(tmp_path / "data"), str(voice), *pair, max_steps=5)
    with pytest.raises(ConfigError, match=r"holds a synthesizer/tacotron run .*; choose "
                                          r"another run_dir; resume=False would start") as err:
        trainer.train(cfg)
    assert "--force" not in str(err.value) and "another -o" not in str(err.value)
    assert _files(voice) == ["config.yaml", "model.pt"]


def test_a_fresh_start_clears_every_trainers_outputs_and_nothing_else(tmp_path):
    """clear_run_outputs left a recogniser's metrics.json, and the emptied checkpoints/ and
    tb/ folders; it removes nothing outside the run folder (a linked folder's files stay)."""
    from emovc.training.run_dir import clear_run_outputs

    run = tmp_path / "run"
    for name in ("model.pt", "config.yaml", "metrics.json", "checkpoints/last.ckpt",
                 "checkpoints/step000002.ckpt", "checkpoints/.cnn.ckpt.x1y2", "audio/step2.wav",
                 "tb/version_0/events.out", "val_audio/step_000002/a.wav", "notes.txt",
                 "tb/mine/events.out", "audio/source_a.wav", "val_audio/source_a.wav",
                 "model_sha256.json"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text("x")
    clear_run_outputs(run)
    assert _files(run) == ["notes.txt", "tb/mine/events.out"]
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt", "tb"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "last.ckpt").write_text("keep")
    (elsewhere / "version_0").mkdir()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "checkpoints").symlink_to(elsewhere)
    (linked / "tb").symlink_to(elsewhere)
    (linked / "model.pt").symlink_to(elsewhere / "last.ckpt")
    clear_run_outputs(linked)
    assert _files(elsewhere) == ["last.ckpt"] and (elsewhere / "version_0").is_dir()
    assert not (linked / "model.pt").is_symlink()  # the link itself is the run's output


def test_settings_are_compared_on_both_sides():
    """changed_settings compared the keys of one side only: a setting the earlier run did not
    have (SpectroGAN: one the new run does not have) passed unnoticed."""
    from emovc.training.run_dir import changed_settings

    assert changed_settings({"a": 1, "b": 2}, {"a": 1}, free=()) == ["b"]
    assert changed_settings({"a": 1}, {"a": 1, "c": 3}, free=()) == ["c"]
    assert changed_settings({"a": 1}, {"a": 1, "c": None}, free=()) == []  # None: unset
    assert changed_settings({"a": 1, "b": 2}, {"a": 1}, free=("b",)) == []
    assert changed_settings({"data_dir": "x"}, {"data_dir": str(Path("x").resolve())}) == []


def test_spectrogan_refuses_a_run_without_a_setting_it_now_has(tmp_path):
    """SpectroGAN compared the earlier run's settings only: one it lacks was not a change."""
    from emovc.training.spectrogan import build_config, train

    run = tmp_path / "run"
    run.mkdir()
    cfg = build_config(str(tmp_path / "data"), str(run), "calm", "angry", max_steps=5,
                       overrides={"input_shift": True})
    old = cfg.to_dict()
    del old["input_shift"]
    (run / "config.yaml").write_text(yaml.safe_dump(old))
    with pytest.raises(ConfigError, match=r"holds another run \(different settings: "
                                          r"input_shift\)"):
        train(cfg)


def test_a_moved_run_folder_resumes_and_a_relative_corpus_says_where_it_was(
        tmp_path, monkeypatch) -> None:
    """Relative paths in config.yaml were resolved against the current directory: a moved or
    renamed run folder differed in run_dir, and a run started elsewhere in data_dir, with
    --force (which deletes the run) as the only hint."""
    import yaml

    from emovc.training.run_dir import claim_run_dir

    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    corpus = str(tmp_path / "corpus")
    run = tmp_path / "moved"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(
        {"data_dir": corpus, "run_dir": "run", "max_steps": 5}))
    assert claim_run_dir(run, {"data_dir": corpus, "run_dir": str(run), "max_steps": 5},
                         True) == 0
    (run / "config.yaml").write_text(yaml.safe_dump(
        {"data_dir": "corpus", "run_dir": "run", "max_steps": 5}))  # started from tmp_path
    with pytest.raises(ConfigError) as err:
        claim_run_dir(run, {"data_dir": "../corpus", "run_dir": str(run), "max_steps": 5},
                      True)  # the same corpus, named from here
    assert str(err.value).startswith(
        f"run folder {run} holds another run (different settings: data_dir); it was trained "
        "on corpus (relative to the directory the run was started from): to resume it, run "
        "from that directory or pass that corpus as DATA_DIR; else choose another -o")
    monkeypatch.chdir(tmp_path)  # as the message says
    assert claim_run_dir(run, {"data_dir": "corpus", "run_dir": str(run), "max_steps": 5},
                         True) == 0


def test_train_reads_the_layout_its_corpus_option_names(corpus, cache_root, tmp_path, capsys):
    """`emovc train` had no --corpus (catalog, prepare, augment, ser train, embed-map and
    train-voice do): emotion folders beside loose takes, for which the detection error itself
    suggests --corpus folders, could not be trained on. The run records the layout it read,
    and a resume with another is refused."""
    import shutil

    mine = tmp_path / "mine"
    for k, actor in enumerate(("01", "02")):
        for emotion, code in (("calm", "02"), ("angry", "05")):
            for s in ("01", "02"):
                take = corpus / f"Actor_{actor}" / f"03-01-{code}-01-{s}-01-{actor}.wav"
                (mine / f"spk{k}" / emotion).mkdir(parents=True, exist_ok=True)
                shutil.copy(take, mine / f"spk{k}" / emotion / f"take{s}.wav")
    for i in range(13):  # more loose takes than clips in emotion folders
        shutil.copy(take, mine / f"loose{i}.wav")
    run = tmp_path / "run"
    code, said = _train_cli(mine, run, cache_root, capsys)
    assert code == 2 and "unknown corpus layout" in said and "--corpus folders" in said, said
    code, said = _train_cli(mine, run, cache_root, capsys, "--corpus", "folders")
    assert code == 0, said
    assert "13 × not <emotion>/<file> or <speaker>/<emotion>/<file>" in said
    assert yaml.safe_load((run / "config.yaml").read_text())["corpus"] == "folders"
    code, said = _train_cli(mine, run, cache_root, capsys, "-c", "speakers")
    assert code == 2 and "holds another run (different settings: corpus)" in said, said
    code, said = _train_cli(mine, run, cache_root, capsys, "--corpus", "folders")
    assert code == 0, said  # the same layout resumes (a finished run: exported again)

    for extra, message in (
            (["--corpus", "speaker"], "unknown corpus 'speaker'; valid choices: auto, ravdess, "),
            (["--set", "corpus=folders"], "--set corpus is not taken here: use --corpus"),
            (["--method", "spectrogan", "--corpus", "folders"],
             "--corpus folders: --method spectrogan reads RAVDESS-named clips")):
        code, said = _train_cli(mine, tmp_path / "run2", cache_root, capsys, *extra)
        assert code == 2 and said.count("\n") == 1 and message in said, said
        assert not (tmp_path / "run2").exists()  # refused before anything was written
