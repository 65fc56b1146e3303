"""``emovc train-voice`` (SV2TTS training from the command line: trains, resumes, refuses
mistakes in one line) and exporting a trained model into a voice folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from emovc.cli.main import main
from emovc.errors import ConfigError, OutputExistsError
from emovc.models.checkpoint import load_checkpoint
from emovc.models.synthesizer.tacotron import TacotronConfig
from emovc.models.vocoder import WaveRNNConfig
from emovc.training import speaker_encoder as tge2e
from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata
from emovc.training import vocoder as tvoc

SYN = ["--set", "model=" + json.dumps(TacotronConfig.tiny(speaker_dim=256, n_mels=80).to_dict())]
# val_seconds=0: no WaveRNN validation sample (1-2 s per run here; test_voice_recipe.py)
VOC = ["--set", "model=" + json.dumps(WaveRNNConfig.tiny(n_mels=80, hop_length=200).to_dict()),
       "--set", "seq_frames=4", "--set", "val_seconds=0"]
SMALL = ["--set", "batch_size=2", "--set", "threads=1"]


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _step(run: Path) -> int:
    from emovc.training.run_dir import checkpoint_step

    return checkpoint_step(run / "checkpoints" / "last.ckpt")


def test_train_voice_trains_resumes_and_exports_a_voice(tmp_path, capsys, monkeypatch,
                                                       transcribed_corpus) -> None:
    """There was no command: the recipes ran from Python only, and their models had to be
    copied into a voice folder by hand."""
    from emovc.pipelines.sv2tts import NeuralCloner

    corpus, voice = transcribed_corpus(tmp_path / "corpus", silent=True), tmp_path / "voice"
    syn = ["train-voice", "synthesizer", str(corpus), "-o", str(tmp_path / "syn"), *SYN, *SMALL,
           "--set", f"cache_dir={tmp_path / 'cache'}"]
    code, out, err = _run([*syn, "--max-steps", "2", "--export", str(voice)], capsys)
    assert code == 0, err
    assert f"wrote {tmp_path / 'syn' / 'model.pt'}" in out
    assert f"exported {voice / 'synthesizer.pt'}" in out
    assert f"{voice} still needs vocoder.pt: emovc train-voice vocoder" in out
    assert "emovc: warning: 1 clip(s) left out of the synthesizer corpus" in err
    assert "12_100_000009_000000.wav is silent" in err
    assert _step(tmp_path / "syn") == 2
    # validation audio of the first training utterance (4 usable: none is held out)
    assert sorted(p.name for p in (tmp_path / "syn" / "audio").iterdir()) == [
        "step000002_11_100_000000_000000_griffinlim.wav",
        "target_11_100_000000_000000_griffinlim.wav"]
    # trained on the bundled encoder, and says so
    assert load_checkpoint(voice / "synthesizer.pt")["extra"]["encoder"] == {"name": "resemblyzer"}

    # resumed: the preprocessed corpus comes from the cache (the unusable clip is tried again)
    calls, original = [], tdata._preprocess
    monkeypatch.setattr(tdata, "_preprocess",
                        lambda u, mel, tools: calls.append(Path(u.path).name)
                        or original(u, mel, tools))
    code, out, err = _run([*syn, "--max-steps", "3"], capsys)
    assert code == 0, err
    assert calls == ["12_100_000009_000000.wav"]
    assert _step(tmp_path / "syn") == 3 and "re-run with --export VOICE_DIR" in out

    # the export refuses to replace another run's model before any training
    theirs = _model(tmp_path / "theirs" / "synthesizer.pt", "synthesizer")
    before = theirs.stat().st_mtime_ns
    code, out, err = _run([*syn, "--max-steps", "4", "--export", str(theirs.parent)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"voice folder {theirs.parent} already holds synthesizer.pt; pass --replace" in err
    assert _step(tmp_path / "syn") == 3 and theirs.stat().st_mtime_ns == before

    voc = ["train-voice", "vocoder", str(corpus), "-o", str(tmp_path / "voc"), *VOC, *SMALL]
    code, out, err = _run([*voc, "--max-steps", "2", "--export", str(voice)], capsys)
    assert code == 0, err
    assert f"clone with it: emovc clone --model {voice} " in out
    assert NeuralCloner.from_folder(voice).sample_rate == 16000
    assert sorted(p.name for p in voice.iterdir()) == ["synthesizer.pt", "vocoder.pt"]

    # --replace: the run resumes (one more step) and its model replaces the voice's
    code, out, err = _run([*voc, "--max-steps", "3", "--export", str(voice), "--replace"],
                          capsys)
    assert code == 0, err
    assert _step(tmp_path / "voc") == 3 and f"exported {voice / 'vocoder.pt'}" in out

    # the same command again (docs: a finished run is exported again), and extended: the
    # voice's vocoder.pt is this run's own earlier export, so no --replace is needed
    code, out, err = _run([*voc, "--max-steps", "3", "--export", str(voice)], capsys)
    assert code == 0 and f"exported {voice / 'vocoder.pt'}" in out, err
    code, out, err = _run([*voc, "--max-steps", "4", "--export", str(voice)], capsys)
    assert code == 0 and _step(tmp_path / "voc") == 4, err
    assert (voice / "vocoder.pt").read_bytes() == (tmp_path / "voc" / "model.pt").read_bytes()


def test_export_after_extending_without_export_is_still_the_runs_own(
        tmp_path, capsys, transcribed_corpus) -> None:
    """A run extended once without --export rewrote model.pt, and the same --export command
    then asked for --replace: the voice's vocoder.pt, an earlier model.pt of this very run,
    was no longer the same bytes as the current one."""
    from emovc.training.run_models import MODELS_FILE, recorded_models

    corpus, voice, run = transcribed_corpus(tmp_path / "corpus"), tmp_path / "voice", \
        tmp_path / "voc"
    voc = ["train-voice", "vocoder", str(corpus), "-o", str(run), *VOC, *SMALL]
    code, out, err = _run([*voc, "--max-steps", "1", "--export", str(voice)], capsys)
    assert code == 0, err
    code, out, err = _run([*voc, "--max-steps", "2"], capsys)  # extended, not exported
    assert code == 0 and _step(run) == 2, err
    assert (voice / "vocoder.pt").read_bytes() != (run / "model.pt").read_bytes()
    assert len(recorded_models(run)) == 2
    code, out, err = _run([*voc, "--max-steps", "2", "--export", str(voice)], capsys)
    assert code == 0 and f"exported {voice / 'vocoder.pt'}" in out, err
    assert (voice / "vocoder.pt").read_bytes() == (run / "model.pt").read_bytes()
    # a run made before the record: the same bytes as its model.pt still count as its own
    (run / MODELS_FILE).unlink()
    code, out, err = _run([*voc, "--max-steps", "2", "--export", str(voice)], capsys)
    assert code == 0 and f"exported {voice / 'vocoder.pt'}" in out, err


@pytest.mark.parametrize(("args", "message"), [
    (["synthesizer", "--set", "batch_size=0"],
     "synthesizer training setting batch_size must be at least 1, got 0"),
    (["vocoder", "--set", "bogus=1"], "unknown vocoder training setting 'bogus'; valid "
                                      "settings: batch_size, cache_dir, ckpt_every, ckpt_minutes, "
                                      "devices, gta, lr, max_utterances, mel, model, seed, "
                                      "seq_frames, threads"),  # not -o's, DATA_DIR's, --max-steps
    (["encoder", "--set", "speakers=1"], "speaker-encoder training setting speakers must be at "
                                         "least 2"),
    (["synth"], "unknown voice training recipe 'synth'; valid choices: synthesizer, vocoder, "
                "encoder"),
    (["encoder", "--export", "voice"], "a trained speaker encoder does not go into a voice "
                                       "folder by itself: leave out --export and train the "
                                       "synthesizer on it (emovc train-voice synthesizer "
                                       "DATA_DIR -o RUN_DIR --set encoder=ENCODER_RUN/model.pt"),
    (["vocoder", "--set", "mel=22050"], "vocoder training setting mel must be a mapping"),
])
def test_train_voice_refuses_mistakes_in_one_line(args, message, tmp_path, capsys,
                                                  monkeypatch) -> None:
    def boom(cfg, progress=True):
        raise AssertionError("the corpus was loaded before the mistake was found")

    for mod in (tsyn, tvoc, tge2e):
        monkeypatch.setattr(mod, "load_corpus", boom)
    monkeypatch.chdir(tmp_path)
    recipe, *rest = args
    code, out, err = _run(["train-voice", recipe, str(tmp_path), "-o", "run", *rest], capsys)
    assert code == 2 and err.startswith("emovc: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "voice").exists()


def _model(path: Path, recipe: str) -> Path:
    from emovc.models.checkpoint import save_checkpoint
    from emovc.models.synthesizer.tacotron import Tacotron
    from emovc.models.synthesizer.text import SYMBOLS
    from emovc.models.vocoder import WaveRNN

    model = (Tacotron(TacotronConfig.tiny(speaker_dim=256)) if recipe == "synthesizer"
             else WaveRNN(WaveRNNConfig.tiny()))
    mel = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}
    return save_checkpoint(path, kind=tsyn.KIND if recipe == "synthesizer" else tvoc.KIND,
                           config=model.cfg.to_dict(), state_dict=model.state_dict(),
                           extra={"mel": mel, "symbols": SYMBOLS})


def test_export_model_checks_the_kind_and_replaces_only_when_asked(tmp_path) -> None:
    from emovc.training.sv2tts import export_model, export_path

    voc = _model(tmp_path / "voc" / "model.pt", "vocoder")
    voice = tmp_path / "voice"
    with pytest.raises(ConfigError, match="is a 'vocoder/wavernn' model, expected 'synth"):
        export_model(voc, voice, "synthesizer")  # a vocoder is no synthesizer
    assert not (voice / "synthesizer.pt").exists()
    assert export_model(voc, voice, "vocoder") == voice / "vocoder.pt"
    assert (voice / "vocoder.pt").read_bytes() == voc.read_bytes()
    other = _model(tmp_path / "voc2" / "model.pt", "vocoder")
    with pytest.raises(OutputExistsError, match="pass --replace"):
        export_model(other, voice, "vocoder")
    export_model(other, voice, "vocoder", replace=True)
    assert (voice / "vocoder.pt").read_bytes() == other.read_bytes()
    assert [p.name for p in voice.iterdir()] == ["vocoder.pt"]  # no temporary left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file; --export takes a folder"):
        export_path(tmp_path / "file", "vocoder")


def test_a_one_step_run_validates_without_lightnings_interval_notice(
        tmp_path, capfd, caplog, monkeypatch, transcribed_corpus) -> None:
    """``--max-steps 1`` printed "`Trainer(val_check_interval=1)` was configured so
    validation will run after every batch." (the run validates once, at its end)."""
    corpus = transcribed_corpus(tmp_path / "corpus")
    validated = []
    real = tvoc.VocoderModule.validation_step
    monkeypatch.setattr(tvoc.VocoderModule, "validation_step",
                        lambda self, *a: validated.append(self.global_step) or real(self, *a))
    caplog.set_level("INFO")
    code = main(["train-voice", "vocoder", str(corpus), "-o", str(tmp_path / "voc"), *VOC,
                 *SMALL, "--max-steps", "1"])
    out = capfd.readouterr()
    assert code == 0, out.err
    assert validated == [1]
    for text in (out.out, out.err, caplog.text):
        assert "val_check_interval" not in text and "after every batch" not in text


def _hint(err: str) -> list[str]:
    """The --set options of a refusal's hint, as arguments."""
    import re
    import shlex

    (options,) = re.findall(r"again with ((?:--set '[^']*' ?)+) and a new -o", err)
    return shlex.split(options)


def test_the_voice_folder_mel_hint_gives_a_command_that_works(tmp_path, capsys,
                                                              transcribed_corpus) -> None:
    """The hint said --set 'mel={hop_length: 160}' alone: the vocoder's model.hop_length
    must match too, and a finished run with changed settings is refused as another run."""
    from emovc.models.checkpoint import save_checkpoint

    corpus, voice, run = transcribed_corpus(tmp_path / "corpus"), tmp_path / "voice", tmp_path / "v"
    mel = {"sr": 16000, "n_mels": 80, "n_fft": 800, "hop_length": 160}
    save_checkpoint(voice / "synthesizer.pt", kind=tsyn.KIND, config={}, state_dict={},
                    extra={"mel": mel})
    voc = ["train-voice", "vocoder", str(corpus), *VOC, *SMALL, "--max-steps", "1",
           "--set", f"cache_dir={tmp_path / 'cache'}"]
    code, out, err = _run([*voc, "-o", str(run)], capsys)  # a finished run, not exported
    assert code == 0, err
    code, out, err = _run([*voc, "-o", str(run), "--export", str(voice)], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert (f"{voice / 'synthesizer.pt'} was trained with mel hop_length = 160, this vocoder "
            "with 200; the two models of a voice folder need the same mel settings: train this "
            "vocoder again with --set 'mel={hop_length: 160}' --set 'model={hop_length: 160}' "
            "and a new -o (or --force to start its run afresh), or choose another --export "
            "folder") in err
    hint = _hint(err)
    for where in (["-o", str(tmp_path / "v2")], ["-o", str(run), "--force"]):  # either works
        code, out, err = _run([*voc, *hint, *where, "--export", str(voice)], capsys)
        assert code == 0, err
        exported = load_checkpoint(voice / "vocoder.pt")
        assert exported["extra"]["mel"] == mel
        assert exported["config"]["rnn_dim"] == 48  # VOC's tiny model, merged with the hint's


ENC = ["--set", "model={hidden: 16, layers: 1, embedding: 8}", "--set", "speakers=2",
       "--set", "utterances=2", "--set", "val_speakers=0"]


@pytest.mark.parametrize("recipe", ["synthesizer", "vocoder", "encoder"])
def test_a_resume_on_a_changed_corpus_is_refused_before_it_is_read(
        recipe, tmp_path, capsys, monkeypatch, transcribed_corpus) -> None:
    """The SV2TTS trainers resumed on a corpus with clips added, removed or edited without a
    word: each step's batch indexes the clip list, so the run no longer continued the one it
    had started (the conversion trainers record their clips and refuse)."""
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    corpus, run = transcribed_corpus(tmp_path / "corpus"), tmp_path / "run"
    args = ["train-voice", recipe, str(corpus), "-o", str(run), "--set", "threads=1",
            *{"synthesizer": [*SYN, "--set", "batch_size=2"],
              "vocoder": [*VOC, "--set", "batch_size=2"], "encoder": ENC}[recipe]]
    code, out, err = _run([*args, "--max-steps", "1"], capsys)
    assert code == 0, err
    assert (run / "clips.json").is_file()
    code, out, err = _run([*args, "--max-steps", "2"], capsys)  # the same clips: resumed
    assert code == 0 and _step(run) == 2, err

    wav = synthesize(EMOTION_VOICES["neutral"], duration=1.0, seed=7)
    added = transcribed_corpus.clip(corpus, "12", 5, wav, "Hello again.")
    edited = corpus / "11" / "100" / "11_100_000001_000000.wav"
    edited.write_bytes(edited.read_bytes()[:-2000])  # a take cut shorter

    def boom(*args, **kwargs):
        raise AssertionError("the corpus was preprocessed before the change was found")

    for mod in (tsyn, tvoc, tge2e):
        monkeypatch.setattr(mod, "load_corpus", boom)
    code, out, err = _run([*args, "--max-steps", "3"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert (f"emovc: error: run folder {run} was trained on other clips than {corpus} holds now "
            f"(1 added: {added.relative_to(corpus).as_posix()}; 1 changed: "
            f"{edited.relative_to(corpus).as_posix()}): its batches are drawn by their place in "
            "its list of clips, so it would not continue the run it started; ") in err
    assert "restore them to resume it, or choose another -o, or pass --force" in err
    assert _step(run) == 2


def test_a_resume_on_edited_transcripts_is_refused_and_force_restarts(
        tmp_path, capsys, monkeypatch, transcribed_corpus) -> None:
    """A transcript edited since the run started was preprocessed again and trained on
    without a word (clips.json held the audio alone): the run learnt two texts of one clip.
    A run whose record holds no transcripts (an earlier emovc's) resumes, saying that they
    are not checked, and records them."""
    corpus, run = transcribed_corpus(tmp_path / "corpus"), tmp_path / "run"
    args = ["train-voice", "synthesizer", str(corpus), "-o", str(run), *SYN, *SMALL,
            "--set", f"cache_dir={tmp_path / 'cache'}"]
    code, out, err = _run([*args, "--max-steps", "1"], capsys)
    assert code == 0, err
    clip = corpus / "11" / "100" / "11_100_000001_000000.wav"
    clip.with_name(clip.stem + ".normalized.txt").write_text("Goodbye there number 1.")
    loads = []
    real = tsyn.load_corpus
    monkeypatch.setattr(tsyn, "load_corpus", lambda *a, **k: loads.append(1) or real(*a, **k))
    code, out, err = _run([*args, "--max-steps", "2"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert (f"emovc: error: run folder {run} was trained on other transcripts than {corpus} "
            "holds now (1 with another transcript: 11/100/11_100_000001_000000.wav): it has "
            "learnt from these clips with their earlier transcripts and would go on with the "
            "new ones, two datasets mixed; restore them to resume it, or choose another -o, or "
            "pass --force") in err
    assert loads == [] and _step(run) == 1  # refused before the corpus was preprocessed

    code, out, err = _run([*args, "--max-steps", "2", "--force"], capsys)  # starts afresh
    assert code == 0 and _step(run) == 2, err
    record = json.loads((run / "clips.json").read_text())
    entries = record["splits"]["train"]
    assert len(entries) == 4 and all(e["text_sha256"] for e in entries.values())
    assert entries["11/100/11_100_000001_000000.wav"]["text_sha256"] == hashlib.sha256(
        b"Goodbye there number 1.").hexdigest()

    texts = {k: e.pop("text_sha256") for k, e in entries.items()}  # as an earlier emovc
    (run / "clips.json").write_text(json.dumps({**record, "version": 2}))  # wrote it
    code, out, err = _run([*args, "--max-steps", "3"], capsys)
    assert code == 0 and _step(run) == 3, err
    assert (f"emovc: warning: run folder {run} records its training clips but not their "
            "transcripts (started by an earlier emovc): resuming it with its audio checked, "
            "not its transcripts; if you edited any since it started, choose another -o, or "
            "pass --force") in err
    now = json.loads((run / "clips.json").read_text())["splits"]["train"]
    assert {k: e["text_sha256"] for k, e in now.items()} == texts  # checked from then on
