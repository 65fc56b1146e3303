"""CLI round trips and one-line errors for the foundation commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.cli.main import main
from emovc.data.synthetic import synthesize


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("info", "resynth", "demo"):
        assert command in out


def test_info_reports_f0(speech_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["info", str(speech_file)], capsys)
    assert code == 0
    assert "16000 Hz" in out and "F0 range" in out and "LUFS" in out


def test_info_gives_no_f0_range_for_noise(speech_file: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """White noise has no voice: it printed an F0 range of DIO's few spurious "voiced"
    frames (85-128 Hz) next to "voiced: 0 % of frames"."""
    noise = 0.1 * np.random.default_rng(0).standard_normal(32000)
    sf.write(tmp_path / "hiss.wav", noise.astype(np.float32), 16000)
    code, out, _ = run(["info", str(tmp_path / "hiss.wav")], capsys)
    assert code == 0 and "F0 range: none: no voiced sound found" in out, out
    assert "Hz (median" not in out and "voiced:" not in out
    assert "periodic: 0.0 % of active frames (convert and clone refuse files below 2 %)" in out
    code, out, _ = run(["info", str(speech_file)], capsys)  # speech keeps its range
    assert code == 0 and "Hz (median" in out and "% of frames" in out


def test_info_gives_each_channels_peak(speech_file: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A stereo file's peak is reported per channel (the mix halved a one-sided signal)."""
    wav, sr = sf.read(speech_file)
    wav = 0.5 * wav / np.abs(wav).max()
    sf.write(tmp_path / "st.wav", np.stack([wav, np.zeros_like(wav)], 1), sr)
    code, out, _ = run(["info", str(tmp_path / "st.wav")], capsys)
    assert code == 0
    assert "-6.0 / -200.0 dBFS (per channel)" in out and "mono mix" in out
    # loudness meters both channels (BS.1770), not the mix, which is 6 dB quieter here
    import pyloudnorm

    lufs = pyloudnorm.Meter(sr).integrated_loudness(np.stack([wav, np.zeros_like(wav)], 1))
    assert f"{lufs:.1f} LUFS" in out


def test_info_describes_what_it_can_of_a_refused_file(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    sf.write(tmp_path / "silent.wav", np.zeros(32000, np.float32), 16000)
    code, out, err = run(["info", str(tmp_path / "silent.wav")], capsys)
    assert code == 2 and "duration: 2.000 s" in out and "sample rate: 16000 Hz" in out
    assert "is silent" in err and "F0 range" not in out
    assert "speech level: none (digital silence)" in out  # not the meter's -200 dBFS floor
    t = np.arange(32000) / 16000
    sf.write(tmp_path / "dc.wav", 0.3 * np.sin(2 * np.pi * 150 * t) + 0.2, 16000)
    code, out, _ = run(["info", str(tmp_path / "dc.wav")], capsys)
    assert code == 0 and "DC offset: +0.2000 (removed before every analysis)" in out


def test_demo_refuses_an_unknown_source_before_writing(speech_file: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["demo", "--src", str(speech_file), "--from", "furious", "--out",
                        str(tmp_path / "d")], capsys)
    assert code == 2 and "unknown source emotion 'furious'" in err
    assert not (tmp_path / "d").exists()


def test_demo_refuses_noise_before_writing(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Noise alone, with or without --from: one line naming the file, nothing written (pink
    noise wrote resynthesized.wav, then failed in the F0 analysis)."""
    x = np.cumsum(np.random.default_rng(0).standard_normal(48000))
    x = (0.1 * (x - x.mean()) / np.abs(x - x.mean()).max()).astype(np.float32)
    sf.write(tmp_path / "hiss.wav", x, 16000)
    for extra in ([], ["--from", "calm"]):
        code, _, err = run(["demo", "--src", str(tmp_path / "hiss.wav"), "--out",
                            str(tmp_path / "d"), *extra], capsys)
        assert code == 2 and "no voiced speech found in" in err and "hiss.wav" in err
        assert len(err.strip().splitlines()) == 1 and not (tmp_path / "d").exists()


def test_demo_writes_a_run_that_evaluate_reads(speech_file: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from emovc.evaluation.manifest import read_manifest

    code, out, _ = run(["demo", "--src", str(speech_file), "--from", "calm", "--out",
                        str(tmp_path / "d")], capsys)
    assert code == 0 and "emovc evaluate" in out
    items = read_manifest(tmp_path / "d")
    assert [Path(it.converted).name for it in items] == [f"{it.target_emotion}.wav"
                                                          for it in items]
    assert len(items) >= 3 and all(Path(it.converted).is_file() for it in items)
    assert {it.source_emotion for it in items} == {"calm"}
    assert {it.text for it in items} == {""}  # a recording of the user's: its words unknown
    code, out, _ = run(["demo", "--src", str(speech_file), "--from", "angry", "--out",
                        str(tmp_path / "my demo")], capsys)  # angry is one of the targets
    assert code == 0 and "skipped angry: the recording is already angry" in out
    assert "emovc evaluate '" in out  # a quoted folder name the shell keeps whole
    assert "angry" not in {it.target_emotion for it in read_manifest(tmp_path / "my demo")}
    code, out, _ = run(["demo", "--src", str(speech_file), "--out", str(tmp_path / "d3")],
                       capsys)  # detected once, for every target: never its own emotion
    detected = out.split("detected emotion: ")[1].split()[0]
    items = read_manifest(tmp_path / "d3")
    assert code == 0 and {it.source_emotion for it in items} == {detected}
    assert detected not in {it.target_emotion for it in items}
    sf.write(tmp_path / "short.wav", sf.read(speech_file)[0][:1600], 16000)  # 0.1 s
    code, _, err = run(["demo", "--src", str(tmp_path / "short.wav"), "--out",
                        str(tmp_path / "d4")], capsys)
    assert code == 2 and "short.wav is too short" in err and not (tmp_path / "d4").exists()


def test_the_demo_table_gives_the_bundled_examples_words(speech_file: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """So that emovc evaluate, which the demo tells the user to run, scores the WER too (the
    table's text was empty, and the WER column with it)."""
    from emovc.evaluation.manifest import read_manifest
    from emovc.pipelines import analysis

    monkeypatch.setattr(analysis, "example_path", lambda: speech_file)  # a fast stand-in
    code, _, _ = run(["demo", "--from", "calm", "--out", str(tmp_path / "d")], capsys)
    items = read_manifest(tmp_path / "d")
    assert code == 0 and items
    assert {it.text for it in items} == {analysis.EXAMPLE_TEXT}


def test_the_example_text_is_what_the_bundled_example_says() -> None:
    """The recogniser emovc evaluate uses hears the bundled recording say EXAMPLE_TEXT."""
    from emovc.audio.io import load_audio
    from emovc.evaluation.intelligibility import Transcriber, word_error_rate
    from emovc.pipelines.analysis import EXAMPLE_TEXT, example_path

    heard = Transcriber().transcribe(load_audio(example_path(), 16000), 16000)
    assert word_error_rate(EXAMPLE_TEXT, heard) == 0.0


def test_demo_refuses_earlier_outputs_without_force(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    out.mkdir()
    (out / "sad.wav").write_bytes(b"mine")
    code, _, err = run(["demo", "--out", str(out)], capsys)
    assert code == 2 and "already holds demo outputs (sad.wav); use --force" in err
    assert (out / "sad.wav").read_bytes() == b"mine" and sorted(out.iterdir()) == [out / "sad.wav"]


def test_resynth_round_trip(speech_file: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    import re

    out = tmp_path / "out" / "re.wav"
    code, said, _ = run(["resynth", str(speech_file), str(out)], capsys)
    wav, sr = sf.read(out)
    assert code == 0 and sr == 16000 and abs(len(wav) - 32000) < 200 and np.std(wav) > 0.01
    # its distortion against the input, as the evaluation measures it
    m = re.search(r"against the input: MCD ([\d.]+) dB, log-F0 RMSE (\d+) cents, V/UV error "
                  r"([\d.]+)%", said)
    assert m and 0 < float(m[1]) < 10 and int(m[2]) < 200 and float(m[3]) < 25, said
    code, said, _ = run(["resynth", str(speech_file), str(tmp_path / "r44.wav"), "--sr",
                         "44100"], capsys)  # its FFT size follows the rate
    assert code == 0 and sf.info(tmp_path / "r44.wav").samplerate == 44100
    assert float(re.search(r"MCD ([\d.]+) dB", said)[1]) < 10 and "note:" not in said
    import soxr

    narrow, _ = sf.read(speech_file)  # an 8 kHz recording: why its MCD reads high is said
    sf.write(tmp_path / "tel.wav", soxr.resample(narrow, 16000, 8000), 8000)
    code, said, _ = run(["resynth", str(tmp_path / "tel.wav"), str(tmp_path / "t.wav")], capsys)
    assert code == 0 and "recorded at 8000 Hz, so the band above 4000 Hz is empty" in said
    noise = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    sf.write(tmp_path / "hiss.wav", noise, 16000)  # nothing voiced: said so, not "nan cents"
    code, said, _ = run(["resynth", str(tmp_path / "hiss.wav"), str(tmp_path / "h.wav")], capsys)
    assert code == 0 and "log-F0 RMSE none (no frame voiced in both)" in said
    code, _, err = run(["resynth", str(speech_file), str(out)], capsys)
    assert code == 2 and "--force" in err
    loud, _ = sf.read(speech_file)  # near full scale: WORLD overshoots, nothing may clip
    sf.write(tmp_path / "loud.wav", 0.99 * loud / np.abs(loud).max(), 16000, subtype="FLOAT")
    assert run(["resynth", str(tmp_path / "loud.wav"), str(tmp_path / "l.wav")], capsys)[0] == 0
    wav, _ = sf.read(tmp_path / "l.wav")
    assert np.abs(wav).max() < 0.98


def test_resynth_to_a_folder_says_it_is_a_folder(speech_file: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """It said "output exists: DIR (use --force ...)", then with --force "cannot write
    '(no extension)'"."""
    for extra in ([], ["--force"]):
        code, _, err = run(["resynth", str(speech_file), str(tmp_path), *extra], capsys)
        assert code == 2 and err == (f"emovc: error: output {tmp_path} is a folder; give a file "
                                     "name ending in .wav, .flac, .ogg\n")


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "text.wav").write_text("not audio")
    (tmp / "empty.wav").write_bytes(b"")
    sf.write(tmp / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(tmp / "short.wav", synthesize(duration=0.1), 16000)
    return {
        "missing": tmp / "missing.wav",
        "text": tmp / "text.wav",
        "empty": tmp / "empty.wav",
        "silent": tmp / "silent.wav",
        "short": tmp / "short.wav",
    }


@pytest.mark.parametrize("kind", ["missing", "text", "empty", "silent", "short"])
def test_bad_input_one_line_error(kind: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    src = _bad_inputs(tmp_path)[kind]
    out = tmp_path / "o.wav"
    code, _, err = run(["resynth", str(src), str(out)], capsys)
    assert code == 2
    assert err.startswith("emovc: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_console_script_no_traceback(tmp_path: Path) -> None:
    """The installed entry point turns errors into one line and a non-zero exit."""
    proc = subprocess.run(
        [sys.executable, "-m", "emovc.cli.main", "info", str(tmp_path / "nope.wav")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "file not found" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("module", ["stargan", "cyclegan", "speaker_encoder", "synthesizer",
                                    "vocoder"])
def test_training_overrides_reject_unknown_settings(module: str, tmp_path) -> None:
    import importlib

    from emovc.errors import ConfigError

    trainer = importlib.import_module(f"emovc.training.{module}")
    cfg = trainer.build_config(str(tmp_path), str(tmp_path / "run"), max_steps=7,
                               overrides={"seed": 3})
    assert (cfg.seed, cfg.max_steps) == (3, 7)
    with pytest.raises(ConfigError, match="unknown .* setting 'learnig_rate'; valid settings"):
        trainer.build_config(str(tmp_path), str(tmp_path / "run"),
                             overrides={"learnig_rate": 1e-3})
    with pytest.raises(ConfigError, match="setting seed must be an integer, got 'abc'"):
        trainer.build_config(str(tmp_path), str(tmp_path / "run"), overrides={"seed": "abc"})


def test_training_overrides_check_the_kind_of_value(tmp_path) -> None:
    """Numbers stay numbers, booleans booleans; an integer is accepted for a float."""
    from emovc.errors import ConfigError
    from emovc.training.stargan import build_config

    def cfg(**kw):
        return build_config(str(tmp_path), str(tmp_path / "run"), overrides=kw)

    assert cfg(w_cls=1).w_cls == 1.0 and isinstance(cfg(w_cls=1).w_cls, float)
    for kw, kind in (({"w_cls": "abc"}, "a number"), ({"w_spk": True}, "a number"),
                     ({"segment": 1.5}, "an integer"), ({"batch_size": "8"}, "an integer")):
        with pytest.raises(ConfigError, match=f"must be {kind}, got"):
            cfg(**kw)
    from emovc.training.cyclegan import build_config as cyclegan_config

    with pytest.raises(ConfigError, match="energy_cwt must be true or false, got 'maybe'"):
        cyclegan_config(str(tmp_path), str(tmp_path / "run"), overrides={"energy_cwt": "maybe"})


def _info_raising(monkeypatch, effect) -> None:
    """Make ``emovc info`` run ``effect()`` instead of describing the file."""
    import emovc.cli.audio_cmds as cmds

    monkeypatch.setattr(cmds, "describe_file", lambda *a, **k: effect())


def test_ctrl_c_and_sigterm_exit_130_with_a_message(speech_file: Path, monkeypatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """typer turns Ctrl-C into exit code 130, which used to come back as success (0); a
    SIGTERM (kill, a job scheduler) is handled like Ctrl-C, so temporary outputs go."""
    import os
    import signal

    def ctrl_c():
        raise KeyboardInterrupt

    _info_raising(monkeypatch, ctrl_c)
    code, _, err = run(["info", str(speech_file)], capsys)
    assert code == 130 and "emovc: interrupted" in err
    before = signal.getsignal(signal.SIGTERM)
    _info_raising(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGTERM))
    code, _, err = run(["info", str(speech_file)], capsys)
    assert code == 130 and "emovc: interrupted" in err
    assert signal.getsignal(signal.SIGTERM) is before  # restored after the command


def test_a_full_disk_is_one_line(speech_file: Path, monkeypatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    def full():
        raise OSError(errno.ENOSPC, "No space left on device", "out.wav")

    _info_raising(monkeypatch, full)
    code, _, err = run(["info", str(speech_file)], capsys)
    assert code == 1 and err.strip() == "emovc: error: no space left on device: out.wav"


def test_demo_with_a_missing_input_says_only_that(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["demo", "--src", str(tmp_path / "nope.wav"), "--out",
                          str(tmp_path / "d")], capsys)
    assert code == 2 and out == "" and "file not found" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from emovc import __version__

    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"emovc {__version__}"


def test_python_m_emovc_is_the_command(tmp_path: Path) -> None:
    """``python -m emovc`` (no script on PATH, e.g. a venv not activated) runs the CLI."""
    from emovc import __version__

    ok = subprocess.run([sys.executable, "-m", "emovc", "--version"], capture_output=True,
                        text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == f"emovc {__version__}"
    bad = subprocess.run([sys.executable, "-m", "emovc", "info", str(tmp_path / "no.wav")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("emovc: error: file not found")


def test_catalog_warnings_are_one_plain_line(speech_file: Path, monkeypatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import warnings

    from emovc.data.catalogs import CatalogWarning

    def scan_with_a_warning():
        warnings.warn("2 file(s) left out of x", CatalogWarning, stacklevel=2)
        return {}

    _info_raising(monkeypatch, scan_with_a_warning)
    code, _, err = run(["info", str(speech_file)], capsys)
    assert code == 0 and err.strip() == "emovc: warning: 2 file(s) left out of x", err


def test_an_emovc_warning_is_shown_once(speech_file: Path, monkeypatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The same warning from two stages (a damaged file read twice) is one line."""
    import warnings

    from emovc.errors import EmovcWarning

    def scan_warning_twice():
        warnings.warn("x.flac is damaged", EmovcWarning, stacklevel=2)
        warnings.warn("x.flac is damaged", EmovcWarning, stacklevel=1)
        warnings.warn("y.flac is damaged", EmovcWarning, stacklevel=1)
        return {}

    _info_raising(monkeypatch, scan_warning_twice)
    code, _, err = run(["info", str(speech_file)], capsys)
    assert code == 0 and err.splitlines() == ["emovc: warning: x.flac is damaged",
                                              "emovc: warning: y.flac is damaged"], err


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing or unknown option, or a value out of range: one `emovc: error:` line that
    points to the command's help, exit code 2 (click printed four lines)."""
    cases = {("convert", "x.wav"): "missing option '--to' (see 'emovc convert --help')",
             ("convert", "x.wav", "--to", "angry", "--bogus"): "no such option: --bogus",
             ("resynth", "a.wav", "b.wav", "--sr", "100"): "invalid value for '--sr'",
             ("nonsense",): "no such command 'nonsense' (see 'emovc --help')",
             # found by click's option parser, which gives no context to say the command
             ("convert", "x.wav", "--intensity"):
                 "option '--intensity' requires an argument (see 'emovc convert --help')",
             ("ser", "predict", "--csv"):
                 "option '--csv' requires an argument (see 'emovc ser predict --help')"}
    for argv, said in cases.items():
        code, out, err = run(list(argv), capsys)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert err.startswith("emovc: error: ") and said in err, err
    for argv in ([], ["ser"]):  # no command: the help, and no error line after it
        code, out, err = run(argv, capsys)
        assert code == 0 and "Usage: emovc" in out and err == ""


def test_info_names_nan_or_inf_samples_without_python_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It printed "peak: nan dBFS", "speech level: none (digital silence)", "loudness:
    silent" and two numpy RuntimeWarnings before the error."""
    t = np.arange(64000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    x[1000:1010] = np.nan
    x[2000] = np.inf
    sf.write(tmp_path / "pn.wav", x, 16000, subtype="FLOAT")
    proc = subprocess.run([sys.executable, "-m", "emovc.cli.main", "info",
                           str(tmp_path / "pn.wav")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "peak: -10.5 dBFS (of the finite samples; 11 NaN or Inf)" in proc.stdout
    assert "nan dBFS" not in proc.stdout and "silence" not in proc.stdout
    assert "loudness" not in proc.stdout
    assert proc.stderr == f"emovc: error: {tmp_path / 'pn.wav'} contains NaN or Inf samples\n"
    x[:] = np.nan  # none finite: no peak to give
    sf.write(tmp_path / "allnan.wav", x, 16000, subtype="FLOAT")
    code, out, err = run(["info", str(tmp_path / "allnan.wav")], capsys)
    assert code == 2 and "peak: none (all 64000 samples are NaN or Inf)" in out


def test_every_command_has_a_one_line_summary() -> None:
    """The command list shows each command's first docstring paragraph with its line breaks
    (typer's rich mode): a summary wrapped over lines printed ragged, and a long one
    filled the list."""
    import inspect

    import typer

    from emovc.cli.main import _build

    def walk(group, path):
        for name, cmd in getattr(group, "commands", {}).items():
            yield [*path, name], inspect.cleandoc(cmd.help or "").split("\n\n")[0]
            yield from walk(cmd, [*path, name])

    bad = [(p, first) for p, first in walk(typer.main.get_command(_build()), [])
           if not first or "\n" in first or len(first) > 100]
    assert not bad, bad


@pytest.mark.parametrize("args", [["--help"], ["convert", "--help"], ["ser", "train", "--help"]])
def test_help_shows_no_type_beside_flags(args, capsys):
    """Typer prints ``<bool>`` beside every flag (``--force <bool>`` reads as if it took a
    value); a flag's help row has no type, an option's keeps its own (``<float>``)."""
    assert main(args) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "--" in line]
    assert rows and not [line for line in rows if "<bool>" in line]
    if args[0] == "convert":
        assert any("--intensity" in line and "<float>" in line for line in rows)


def test_help_paragraphs_are_wrapped_by_the_terminal(capsys) -> None:
    """Typer's rich help kept the docstring's own line breaks inside a paragraph: `emovc info
    --help` printed "(exit code" and "2)." on lines of their own."""
    assert main(["info", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "then the reason (exit code 2)." in out
    assert main(["info", "--help"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "(exit code 2)." in lines or any(line.endswith("(exit code 2).") for line in lines)


def test_an_abort_is_one_line_with_exit_1(speech_file: Path, monkeypatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """End of input at a prompt (EOFError, which click turns into Abort) or a command's own
    typer.Abort: "emovc: aborted" and exit code 1, no traceback and no "Aborted!"."""
    import typer

    def abort():
        raise typer.Abort()

    def end_of_input():
        raise EOFError

    for effect in (abort, end_of_input):
        _info_raising(monkeypatch, effect)
        code, out, err = run(["info", str(speech_file)], capsys)
        assert code == 1 and out == "", effect
        assert err.strip() == "emovc: aborted", effect


def test_an_interrupt_outside_the_command_exits_130(monkeypatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C after typer's own handling (here: while click finishes the command) is an
    interrupt too (130), not a traceback."""
    import emovc.cli.main as cli_main

    tidy = cli_main._tidy_help

    class Interrupted:
        def __init__(self, command):
            self.command = command

        def main(self, **kwargs):
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "_tidy_help", lambda command: Interrupted(tidy(command)))
    code, out, err = run(["--version"], capsys)
    assert code == 130 and out == "" and err.strip() == "emovc: interrupted"


def test_repeated_commands_do_not_grow_pythonwarnings(monkeypatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """main() passes its pkg_resources filter on to worker processes through PYTHONWARNINGS;
    every in-process call (hundreds in the tests) appended another copy, and every later
    subprocess inherited the longer variable. A filter the user set is kept, in front."""
    import os

    quiet = "ignore:pkg_resources is deprecated:UserWarning"
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    for _ in range(3):
        assert run(["--version"], capsys)[0] == 0
    assert os.environ["PYTHONWARNINGS"] == quiet
    monkeypatch.setenv("PYTHONWARNINGS", "error::ResourceWarning")
    for _ in range(2):
        assert run(["--version"], capsys)[0] == 0
    assert os.environ["PYTHONWARNINGS"] == f"error::ResourceWarning,{quiet}"


def test_every_corpus_option_is_one_option() -> None:
    """train-voice and train had no --corpus; the others had four help texts ('Layout name or
    auto', 'Corpus layout (default: detect)', ...) and augment no -c: every command that reads
    a corpus folder now names its layout the same way, its help listing every catalog."""
    import re

    import typer

    from emovc.cli.data_cmds import CORPUS_HELP
    from emovc.cli.main import _build
    from emovc.data.catalogs import CATALOGS

    def walk(group, path):
        for name, cmd in getattr(group, "commands", {}).items():
            yield " ".join([*path, name]), cmd
            yield from walk(cmd, [*path, name])

    found = {path: p for path, cmd in walk(typer.main.get_command(_build()), [])
             for p in getattr(cmd, "params", []) if p.name == "corpus"}
    assert set(found) == {"catalog", "prepare", "augment", "ser train", "embed-map",
                          "train-voice", "train"}
    for path, p in found.items():
        assert (p.opts, p.default, p.help) == (["--corpus", "-c"], "auto", CORPUS_HELP), path
    missing = [n for n in ("auto", *CATALOGS) if not re.search(rf"\b{n}\b", CORPUS_HELP)]
    assert not missing, missing  # a catalog added is named in the help too


def test_devices_help_says_what_n_does_to_the_batch() -> None:
    """Review 42 L5: the three --devices helps read alike, while ser train shares each
    step's batch between the devices and train/train-voice give each its own batch."""
    import typer

    from emovc.cli.main import _build

    root = typer.main.get_command(_build())

    def devices_help(*path: str) -> str:
        cmd = root
        for name in path:
            cmd = cmd.commands[name]
        (opt,) = [p for p in cmd.params if "--devices" in getattr(p, "opts", ())]
        return " ".join(opt.help.split())

    assert "Each step's batch is shared between them" in devices_help("ser", "train")
    for path in (("train",), ("train-voice",)):
        assert "Each trains its own batch: a step trains N times the batch" in devices_help(*path)
