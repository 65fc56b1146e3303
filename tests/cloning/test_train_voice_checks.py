"""``emovc train-voice`` refuses in one line, before any corpus work, what it used to take
silently or end in a traceback on: settings its own arguments set, bad model sizes and
``init``/``cache_dir`` values, an output that cannot be created, ``--replace`` alone, and an
export that would pair models of different mel settings."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from emovc.cli.main import main
from emovc.errors import ConfigError, EmovcWarning
from emovc.models.synthesizer.tacotron import TacotronConfig
from emovc.training import speaker_encoder as tge2e
from emovc.training import synthesizer as tsyn
from emovc.training import vocoder as tvoc


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def no_corpus(monkeypatch):
    def boom(cfg, progress=True):
        raise AssertionError("the corpus was loaded before the mistake was found")

    for mod in (tsyn, tvoc, tge2e):
        monkeypatch.setattr(mod, "load_corpus", boom)


@pytest.mark.parametrize(("args", "message"), [
    (["synthesizer", "--set", "run_dir=elsewhere"],
     "--set run_dir is not taken here: the run folder is set with -o"),
    (["vocoder", "--set", "data_dir=other"],
     "--set data_dir is not taken here: the corpus is the DATA_DIR argument"),
    (["encoder", "--set", "max_steps=3", "--max-steps", "1"],
     "--set max_steps is not taken here: use --max-steps"),
    (["vocoder", "--replace"], "--replace goes with --export VOICE_DIR"),
    (["synthesizer", "--set", "corpus=speakers"], "--set corpus is not taken here: use --corpus"),
])
def test_train_voice_refuses_what_its_arguments_say(args, message, tmp_path, capsys,
                                                    no_corpus, monkeypatch) -> None:
    """``--set run_dir=``/``data_dir=`` silently beat -o and DATA_DIR; ``--set max_steps``
    lost to a resumed run's own; ``--replace`` without ``--export`` was ignored."""
    monkeypatch.chdir(tmp_path)
    recipe, *rest = args
    code, out, err = _run(["train-voice", recipe, str(tmp_path), "-o", "run", *rest], capsys)
    assert code == 2 and err.startswith("emovc: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "elsewhere").exists()


def _voice_model(path: Path, recipe: str, hop: int) -> Path:
    from emovc.models.checkpoint import save_checkpoint

    mel = {"sr": 16000, "n_mels": 80, "n_fft": 800, "hop_length": hop}
    return save_checkpoint(path, kind=tsyn.KIND if recipe == "synthesizer" else tvoc.KIND,
                           config={}, state_dict={}, extra={"mel": mel})


def test_export_refuses_a_voice_folder_of_other_mel_settings_before_training(
        tmp_path, capsys, no_corpus) -> None:
    """The mismatch was noted only after training, and the vocoder was exported anyway
    (with --replace over a working vocoder.pt), leaving a voice that clone refuses."""
    voice = tmp_path / "voice"
    _voice_model(voice / "synthesizer.pt", "synthesizer", 200)
    before = _voice_model(voice / "vocoder.pt", "vocoder", 200).read_bytes()
    code, out, err = _run(["train-voice", "vocoder", str(tmp_path), "-o", str(tmp_path / "v"),
                           "--set", "mel={hop_length: 160}", "--set",
                           "model={hop_length: 160}", "--export", str(voice), "--replace"],
                          capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert (f"{voice / 'synthesizer.pt'} was trained with mel hop_length = 200, this vocoder "
            "with 160") in err
    assert (voice / "vocoder.pt").read_bytes() == before and not (tmp_path / "v").exists()


def test_export_model_does_not_write_a_model_of_other_mel_settings(tmp_path) -> None:
    from emovc.training.sv2tts import export_model

    voice = tmp_path / "voice"
    _voice_model(voice / "vocoder.pt", "vocoder", 200)
    syn = _voice_model(tmp_path / "run" / "model.pt", "synthesizer", 160)
    with pytest.raises(ConfigError, match="vocoder.pt was trained with mel hop_length = 200, "
                                          "this synthesizer with 160"):
        export_model(syn, voice, "synthesizer")
    assert not (voice / "synthesizer.pt").exists()
    ok = _voice_model(tmp_path / "run2" / "model.pt", "synthesizer", 200)
    assert export_model(ok, voice, "synthesizer") == voice / "synthesizer.pt"


def test_no_seed_line_before_a_one_line_error(tmp_path, capfd, caplog) -> None:
    """Lightning's "Seed set to 0" came before the error line."""
    caplog.set_level("INFO")
    code = main(["train-voice", "synthesizer", str(tmp_path / "nope"), "-o",
                 str(tmp_path / "run"), "--set", "model=" + json.dumps(
                     TacotronConfig.tiny(speaker_dim=256, n_mels=80).to_dict())])
    err = capfd.readouterr().err
    assert code == 2 and err.startswith("emovc: error: ") and err.count("\n") == 1, err
    assert "Seed set" not in caplog.text


@pytest.mark.parametrize(("args", "message"), [
    (["encoder", "--set", "init=5"], "speaker-encoder training setting init must be "
                                     "resemblyzer"),
    (["encoder", "--set", "init=true"], "setting init must be resemblyzer"),
    (["encoder", "--set", "model={hidden: 0}"],
     "speaker-encoder training setting model.hidden must be at least 1, got 0"),
    (["synthesizer", "--set", "model={embed_dim: -4}"],
     "synthesizer training setting model.embed_dim must be at least 1, got -4"),
    (["synthesizer", "--set", "model={dropout: 2}"],
     "synthesizer training setting model.dropout must be between 0 and 1, got 2"),
    (["vocoder", "--set", "model={rnn_dim: 0}"],
     "vocoder training setting model.rnn_dim must be at least 1, got 0"),
    (["vocoder", "--set", "model={bits: 30}"],
     "vocoder training setting model.bits must be at most 16, got 30"),
    (["synthesizer", "--set", "cache_dir=[a, b]"],
     "synthesizer training setting cache_dir must be a path, got ['a', 'b']"),
    (["vocoder", "--set", "cache_dir=5"], "vocoder training setting cache_dir must be a path"),
    (["encoder", "--set", "cache_dir={a: 1}"],
     "speaker-encoder training setting cache_dir must be a path"),
    (["vocoder", "--set", "ckpt_every=0"],
     "vocoder training setting ckpt_every must be at least 1, got 0"),
])
def test_bad_settings_are_one_line_errors_before_the_corpus(args, message, tmp_path, capsys,
                                                           no_corpus, monkeypatch) -> None:
    """Each ended in a traceback (init: TypeError; sizes: once the corpus was read; bits 30
    tried to allocate 206 GB) or, for cache_dir, made a folder named after the value."""
    monkeypatch.chdir(tmp_path)
    recipe, *rest = args
    code, out, err = _run(["train-voice", recipe, str(tmp_path), "-o", "run", *rest], capsys)
    assert code == 2 and err.startswith("emovc: error: ") and err.count("\n") == 1, err
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_output_under_a_file_is_refused_before_the_corpus(tmp_path, capsys,
                                                             no_corpus) -> None:
    """``-o afile/run`` failed with "not a directory" once the corpus was preprocessed."""
    (tmp_path / "afile").write_text("hi")
    code, out, err = _run(["train-voice", "vocoder", str(tmp_path), "-o",
                           str(tmp_path / "afile" / "run")], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert f"cannot create the run folder {tmp_path / 'afile' / 'run'}: " in err
    assert f"{tmp_path / 'afile'} is a file (-o takes a folder)" in err


def test_the_interrupt_note_says_where_the_run_resumes(tmp_path) -> None:
    """It promised a resume "from its last checkpoint" when there was none yet (one every
    1000 steps: up to 16 h of CPU training lost)."""
    import torch

    from emovc.training.common import resume_note

    assert resume_note(tmp_path, 1000) == ("no checkpoint yet (one every 1000 steps): the same "
                                           f"command starts {tmp_path} again from step 0")
    (tmp_path / "checkpoints").mkdir()
    torch.save({"global_step": 7}, tmp_path / "checkpoints" / "last.ckpt")
    assert resume_note(tmp_path, 1000) == f"the same command resumes {tmp_path} from step 7"


def test_the_vocoder_leaves_out_silent_and_too_short_clips(tmp_path, transcribed_corpus) -> None:
    """The docs say unusable (silent, too short) clips are left out; the vocoder kept them."""
    import numpy as np

    from emovc.errors import EmovcWarning

    corpus = transcribed_corpus(tmp_path / "corpus", silent=True)
    transcribed_corpus.clip(corpus, "11", 8, np.full(1280, 0.1, np.float32), "Short.")
    cfg = tvoc.build_config(str(corpus), str(tmp_path / "run"))
    with pytest.warns(EmovcWarning, match=r"2 clip\(s\) left out of the vocoder corpus .*"
                                          r"(too short|silent)"):
        pairs = tvoc.load_corpus(cfg, progress=False)
    assert len(pairs) == 4


def _other_run(root: Path, kind: str | None, config: dict | None) -> Path:
    import yaml

    from emovc.models.checkpoint import save_checkpoint

    root.mkdir(parents=True)
    if kind:
        save_checkpoint(root / "model.pt", kind=kind, config={}, state_dict={})
    if config is not None:
        (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


@pytest.mark.parametrize(("kind", "config", "said"), [
    ("emotion-recognizer", {"epochs": 3}, "holds an emotion recogniser run (its model.pt), not "
                                          "a vocoder/wavernn run"),
    ("emotion-converter/stargan", {"max_steps": 5, "lr_g": 1.0},
     "holds an emotion converter run (its model.pt)"),
    ("synthesizer/tacotron", {"max_steps": 5}, "holds a synthesizer/tacotron run (its model.pt)"),
    (None, {"max_steps": 5, "lambda_cyc": 1.0, "world": {}},
     "holds another kind of run (its config.yaml has settings a vocoder/wavernn run does not: "
     "lambda_cyc, world)"),
    (None, {"epochs": 3, "method": "linear", "feature_set": "egemaps"},
     "holds another kind of run (its config.yaml has no max_steps"),
    # no config.yaml: the same message (it had its own wording)
    ("synthesizer/tacotron", None, "holds a synthesizer/tacotron run (its model.pt), not a "
                                   "vocoder/wavernn run"),
])
def test_a_folder_of_another_trainer_is_named(kind, config, said, tmp_path, capsys,
                                              no_corpus) -> None:
    """A SER folder was called "not a converter training's"; a conversion run or another
    recipe's got a settings diff and a --force hint, which would delete that model."""
    run = _other_run(tmp_path / "run", kind, config)
    code, out, err = _run(["train-voice", "vocoder", str(tmp_path), "-o", str(run)], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert said in err
    assert "--force would start this run there, deleting that run's model.pt" in err


def test_force_over_a_recognisers_folder_leaves_none_of_its_outputs(tmp_path, capsys,
                                                                    transcribed_corpus) -> None:
    """`train-voice --force` at an `emovc ser train` folder left its metrics.json beside the
    new run's model.pt; files of the user's own stay."""
    import json as _json

    from emovc.models.checkpoint import checkpoint_kind
    from emovc.models.vocoder import WaveRNNConfig

    run = _other_run(tmp_path / "run", "emotion-recognizer", {"method": "linear"})
    (run / "metrics.json").write_text("{}")
    (run / "notes.txt").write_text("mine")
    corpus = transcribed_corpus(tmp_path / "corpus")
    tiny = _json.dumps(WaveRNNConfig.tiny(n_mels=80, hop_length=200).to_dict())
    code, out, err = _run(["train-voice", "vocoder", str(corpus), "-o", str(run), "--set",
                           f"model={tiny}", "--set", "seq_frames=4", "--set", "batch_size=2",
                           "--set", "threads=1", "--set", f"cache_dir={tmp_path / 'cache'}",
                           "--max-steps", "1", "--force"], capsys)
    assert code == 0, err
    assert checkpoint_kind(run / "model.pt") == tvoc.KIND
    assert not (run / "metrics.json").exists()
    assert (run / "notes.txt").read_text() == "mine"


def test_max_utterances_counts_in_all_and_the_encoders_count_per_speaker_is_named_so(
        tmp_path, capsys, transcribed_corpus, monkeypatch) -> None:
    """``max_utterances`` was the number of utterances per speaker for the encoder but in
    total for the synthesizer and the vocoder; the encoder's is max_utterances_per_speaker,
    and the old name is refused there in one line."""
    corpus = transcribed_corpus(tmp_path / "corpus")
    code, out, err = _run(["train-voice", "encoder", str(corpus), "-o", str(tmp_path / "run"),
                           "--set", "max_utterances=1"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert ("speaker-encoder training setting max_utterances is now max_utterances_per_speaker: "
            "it counted utterances per speaker here but in total for the synthesizer and the "
            "vocoder; --set max_utterances_per_speaker=N") in err
    assert not (tmp_path / "run").exists()

    cache = {"cache_dir": str(tmp_path / "cache")}
    cfg = tge2e.build_config(str(corpus), "unused", overrides={
        **cache, "max_utterances_per_speaker": 1, "val_speakers": 0})
    mels, _, _ = tge2e.load_corpus(cfg, progress=False)
    assert {s: len(m) for s, m in mels.items()} == {"11": 1, "12": 1}  # 2 speakers, 1 each
    clips = tvoc.load_corpus(tvoc.build_config(str(corpus), "unused", overrides={
        **cache, "max_utterances": 3}), progress=False)
    assert len(clips) == 3  # 3 in all


def test_an_encoder_run_of_the_old_setting_name_says_how_to_resume(tmp_path) -> None:
    """Its config.yaml (max_utterances) made it "another kind of run" for this emovc."""
    from dataclasses import asdict

    import numpy as np
    import yaml

    rng = np.random.default_rng(2)
    data = ({s: [rng.random((30, 40), dtype=np.float32) for _ in range(3)] for s in "abc"},
            [], [])
    cfg = tge2e.build_config("unused", str(tmp_path / "run"), 1, overrides={
        "model": {"hidden": 16, "layers": 1, "embedding": 8, "partial_frames": 20},
        "speakers": 2, "utterances": 2, "threads": 1})
    old = asdict(cfg)
    old["max_utterances"] = old.pop("max_utterances_per_speaker")
    config = tmp_path / "run" / "config.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump(old))
    with pytest.raises(ConfigError) as err:
        tge2e.train(cfg, data=data)
    assert str(err.value) == (
        f"run folder {tmp_path / 'run'} holds a speaker-encoder/ge2e run of an earlier emovc, "
        "whose setting max_utterances is now max_utterances_per_speaker: rename it so in "
        f"{config} to resume the run, or resume=False starts this run afresh there")
    config.write_text(config.read_text().replace("max_utterances:",
                                                 "max_utterances_per_speaker:"))
    assert tge2e.train(cfg, data=data).is_file()  # as the message says


def test_one_helper_names_every_differing_mel_setting() -> None:
    """check_mel_settings, check_pair and gta_source each looped over the mel settings and
    named the first that differed only."""
    from emovc.pipelines.sv2tts import check_mel_settings, mel_differences

    mel = {"sr": 16000, "n_mels": 80, "n_fft": 800, "hop_length": 200}
    other = {**mel, "n_mels": 40, "hop_length": 160}
    no_sr = {k: v for k, v in mel.items() if k != "sr"}
    assert mel_differences(mel, other) == ["hop_length", "n_mels"]
    assert mel_differences(mel, no_sr) == mel_differences(no_sr, mel) == ["sr"]
    assert mel_differences(mel, dict(mel)) == []
    with pytest.raises(ConfigError) as err:
        check_mel_settings(mel, other)
    assert str(err.value) == ("synthesizer and vocoder use different mel settings: "
                              "hop_length = 200 and n_mels = 80 in synthesizer.pt but 160 and "
                              "40 in vocoder.pt; train them with the same mel settings")
    with pytest.raises(ConfigError, match="^vocoder.pt does not record its mel setting 'sr';"):
        check_mel_settings(mel, no_sr)
    assert check_mel_settings(mel, dict(mel)) == mel


def test_check_pair_names_every_differing_mel_setting(tmp_path) -> None:
    from emovc.training.sv2tts import check_pair

    voice = tmp_path / "voice"
    _voice_model(voice / "synthesizer.pt", "synthesizer", 200)
    mel = {"sr": 22050, "n_mels": 80, "n_fft": 800, "hop_length": 256}
    with pytest.raises(ConfigError) as err:
        check_pair(voice, "vocoder", mel)
    assert str(err.value).startswith(
        f"{voice / 'synthesizer.pt'} was trained with mel sr = 16000 and hop_length = 200, "
        "this vocoder with 22050 and 256; the two models of a voice folder need the same mel "
        "settings")


@pytest.mark.parametrize("kind", [tvoc.KIND, None])
def test_a_vocoder_folder_is_not_an_encoder_run_of_an_earlier_emovc(kind, tmp_path, capsys,
                                                                    no_corpus) -> None:
    """The vocoder's (and synthesizer's) max_utterances made the encoder call their folders
    "a speaker-encoder run of an earlier emovc" and advise editing their config.yaml."""
    from dataclasses import asdict

    config = asdict(tvoc.build_config("corpus", "run", overrides={"max_utterances": 2}))
    if kind is None:  # an interrupted vocoder run: no model.pt
        config["max_steps"] = 5
    run = _other_run(tmp_path / "run", kind, config)
    code, out, err = _run(["train-voice", "encoder", str(tmp_path), "-o", str(run),
                           "--max-steps", "1"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "earlier emovc" not in err
    assert "not a speaker-encoder/ge2e run" in err
    assert "--force would start this run there, deleting that run's model.pt" in err


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(("files", "said"), [
    ({"report.html": "<html/>", "metrics.json": "{}"},
     "holds an emovc evaluate report (report.html and metrics.json), not a training run; "
     "choose another -o (--force does not delete them)"),
    ({"config.yaml": "project: my notes\n"},
     "holds a config.yaml that is not a training run's (no max_steps setting, no model.pt or "
     "checkpoints); choose another -o (--force does not delete them)"),
])
def test_a_folder_of_files_that_are_not_a_runs_is_refused_also_with_force(
        files, said, force, tmp_path, capsys, no_corpus) -> None:
    """--force deleted an evaluate report's metrics.json, and overwrote a user's own
    config.yaml (called "another kind of run")."""
    run = tmp_path / "run"
    run.mkdir()
    for name, text in files.items():
        (run / name).write_text(text)
    code, out, err = _run(["train-voice", "vocoder", str(tmp_path), "-o", str(run),
                           *(["--force"] if force else [])], capsys)
    assert code == 2 and err == f"emovc: error: run folder {run} {said}\n"
    assert {p.name: p.read_text() for p in run.iterdir()} == files


def test_a_fresh_start_keeps_config_and_metrics_of_a_folder_that_is_not_a_run(tmp_path) -> None:
    from emovc.training.run_dir import clear_run_outputs

    (tmp_path / "metrics.json").write_text("{}")
    (tmp_path / "config.yaml").write_text("project: mine\n")
    clear_run_outputs(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "metrics.json"]
    (tmp_path / "config.yaml").write_text("max_steps: 3\n")  # a trainer's: removed
    clear_run_outputs(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_encoders_val_speakers_count_can_be_set(tmp_path, capsys, monkeypatch) -> None:
    """--set val_speakers=0 was kept as text (the GAN recipes' speaker-id lists) and refused:
    "must be an integer, got '0'"."""
    seen = {}

    def train(cfg, resume=True, cli=False):
        seen["val_speakers"] = cfg.val_speakers
        raise ConfigError("stop")

    monkeypatch.setattr(tge2e, "train", train)
    code, out, err = _run(["train-voice", "encoder", str(tmp_path), "-o", str(tmp_path / "run"),
                           "--set", "val_speakers=0"], capsys)
    assert code == 2 and err == "emovc: error: stop\n" and seen == {"val_speakers": 0}, err


def test_the_gan_recipes_speaker_lists_keep_their_ids_as_text() -> None:
    from emovc.cli.convert_cmds import parse_settings

    assert parse_settings(["val_speakers=[01, 02]", "train_speakers=null"]) == {
        "val_speakers": ["01", "02"], "train_speakers": None}


def _speakers_corpus(root: Path, clips: dict[str, int]) -> Path:
    """A LibriTTS-layout corpus: ``clips[speaker]`` 1 s synthetic clips per speaker."""
    from emovc.data.synthetic import SyntheticVoice, synthesize

    from .conftest import transcribed_clip

    for k, (spk, n) in enumerate(clips.items()):
        voice = SyntheticVoice(f0_mean=100.0 + 20 * k, formant_scale=0.9 + 0.05 * k)
        for i in range(n):
            transcribed_clip(root, spk, i, synthesize(voice, duration=1.0, seed=i), "Hi.")
    return root


def test_the_encoder_validates_on_speakers_with_two_clips(tmp_path, capsys) -> None:
    """Held-out speakers with one clip each (the last by name) ended the run at its first
    validation — step 1000, or the end of a shorter run — with "EER needs at least two clips
    of one speaker and two speakers", leaving no model.pt; training speakers with one clip
    each trained without a word."""
    corpus = _speakers_corpus(tmp_path / "corpus", {"11": 3, "12": 3, "13": 3, "21": 1, "22": 1})
    code, out, err = _run(["train-voice", "encoder", str(corpus), "-o", str(tmp_path / "run"),
                           "--max-steps", "1", "--set", "val_speakers=2",
                           "--set", "speakers=2", "--set", "utterances=2", "--set", "threads=1",
                           "--set", 'model={hidden: 16, layers: 1, embedding: 8}'], capsys)
    assert code == 0, err
    assert (tmp_path / "run" / "model.pt").is_file()
    assert ("emovc: warning: 2 of the 3 training speakers have one clip (e.g. 21): GE2E learns "
            "from several clips per speaker") in err
    cfg = tge2e.build_config(str(corpus), "unused", overrides={"val_speakers": 2})
    with pytest.warns(EmovcWarning, match="2 of the 3 training speakers have one clip"):
        mels, _, labels = tge2e.load_corpus(cfg, progress=False)
    assert sorted(mels) == ["11", "21", "22"] and labels == ["12"] * 3 + ["13"] * 3


def test_a_validation_split_that_cannot_give_an_eer_is_said_in_one_line() -> None:
    with pytest.warns(EmovcWarning) as caught:
        train, val = tge2e.split_speakers({"a": 1, "b": 1, "c": 1, "d": 5}, 20)
    assert (train, val) == (["a", "b", "c", "d"], [])
    assert [str(w.message) for w in caught] == [
        "speaker-encoder training logs no validation EER (setting val_speakers 20): 1 of the 4 "
        "speakers have 2 clips or more, and the EER needs 2 clips each of 2 speakers",
        "3 of the 4 training speakers have one clip (e.g. a): GE2E learns from several clips "
        "per speaker, and all the crops of such a speaker come from one recording, so it "
        "learns to tell recordings apart rather than voices; give each speaker several clips"]
    with pytest.warns(EmovcWarning) as caught:
        assert tge2e.split_speakers({"a": 1, "b": 1, "c": 2, "d": 2, "e": 1}, 3)[1] == ["c", "d"]
    assert str(caught[0].message).startswith(
        "speaker-encoder training validates on 2 speakers, not 3 (setting val_speakers 3): 2 "
        "of the 5 speakers have 2 clips or more")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tge2e.split_speakers({s: 3 for s in "abcde"}, 2) == (["a", "b", "c"], ["d", "e"])
        assert tge2e.split_speakers({s: 3 for s in "abcde"}, 0) == (list("abcde"), [])
    # too few speakers, or val_speakers 1, not the clip counts: the message names that
    with pytest.warns(EmovcWarning) as caught:
        assert tge2e.split_speakers({s: 10 for s in "abc"}, 20) == (["a", "b", "c"], [])
    assert [str(w.message) for w in caught] == [
        "speaker-encoder training logs no validation EER (setting val_speakers 20): a corpus "
        "of 3 speakers leaves fewer than 2 to validate on after the 2 that train; give it 4 "
        "speakers or more, or set val_speakers 0 for no validation"]
    with pytest.warns(EmovcWarning, match="a corpus of 2 speakers leaves fewer than 2"):
        assert tge2e.split_speakers({"a": 10, "b": 10}, 20) == (["a", "b"], [])
    with pytest.warns(EmovcWarning) as caught:
        assert tge2e.split_speakers({s: 10 for s in "abcde"}, 1)[1] == []
    assert [str(w.message) for w in caught] == [
        "speaker-encoder training logs no validation EER (setting val_speakers 1): the EER "
        "needs 2 validation speakers; set val_speakers 2 or more, or 0 for no validation"]
    # clips left out as unusable: the validation set keeps what an EER can use
    wav = np.zeros(16000, np.float32)
    with pytest.warns(EmovcWarning, match="logs no validation EER: its 3 validation clips"):
        assert tge2e.validation_set([wav] * 3, ["a", "a", "b"]) is None
    kept = tge2e.validation_set([wav] * 5, ["a", "a", "b", "c", "c"])
    assert kept is not None and kept[1] == ["a", "a", "c", "c"]
