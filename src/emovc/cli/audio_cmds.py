"""``emovc info``, ``emovc resynth`` and ``emovc demo`` — thin wrappers over library calls."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.errors import EmovcError
from emovc.pipelines.analysis import describe_file, resynthesize_with_input, run_demo


def register(app: typer.Typer) -> None:
    """Attach the audio commands to ``app``."""
    app.command("info")(info)
    app.command("resynth")(resynth)
    app.command("demo")(demo)


def info(path: Path = typer.Argument(..., help="Audio file (wav, flac, ogg, mp3, aiff).")) -> None:
    """Print duration, sample rate, F0 range and loudness of an audio file.

    Of a file the other commands refuse, what can be measured, then the reason (exit code
    2)."""
    facts = describe_file(path)
    problem = facts.pop("analysis", "")
    for key, value in facts.items():
        typer.echo(f"{key:>14}: {value}")
    if problem:
        raise EmovcError(problem.removeprefix("not analysed: "))


def resynth(
    src: Path = typer.Argument(..., help="Input audio file."),
    out: Path = typer.Argument(..., help="Output file (.wav/.flac/.ogg)."),
    f0_method: str = typer.Option("dio", help="F0 estimator: dio (fast) or harvest (robust)."),
    sr: int = typer.Option(16000, "--sr", min=16000, max=48000,
                           help="Sample rate in Hz of the analysis and of OUT."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """WORLD analysis → synthesis round trip (a vocoder-quality check).

    Writes OUT and prints its distortion against the input (MCD, log-F0 RMSE, V/UV error, as
    `emovc evaluate` measures them)."""
    from emovc.audio import load_audio
    from emovc.audio.io import resample
    from emovc.evaluation.analysis import MetricConfig
    from emovc.evaluation.mcd import compare_waveforms

    path, source, native = resynthesize_with_input(src, out, f0_method=f0_method, sr=sr,
                                                   force=force)  # SRC decoded once
    typer.echo(f"wrote {path}")
    cfg = MetricConfig()  # the evaluation's analysis (16 kHz), as its numbers are
    m = compare_waveforms(load_audio(path, cfg.sample_rate),
                          resample(source, native, cfg.sample_rate), cfg)
    f0 = (f"{m['f0_rmse_cents']:.0f} cents" if m["voiced_pairs"] else
          "none (no frame voiced in both)")
    typer.echo(f"against the input: MCD {m['mcd_db']:.2f} dB, log-F0 RMSE {f0}, "
               f"V/UV error {m['vuv_error']:.1%}")
    if native < cfg.sample_rate:  # the mel-cepstrum spans 0-8 kHz; the input holds less
        typer.echo(f"note: the input was recorded at {native} Hz, so the band above "
                   f"{native // 2} Hz is empty in it; the MCD, measured on 0-"
                   f"{cfg.sample_rate // 2} Hz, counts that band and reads high")


def demo(
    out: Path = typer.Option(Path("demo_out"), help="Folder for the demo outputs."),
    src: Path = typer.Option(None, help="Use this recording instead of the bundled example."),
    source: str = typer.Option(None, "--from", help="Emotion of --src (default: detected; the "
                                                    "bundled example is neutral)."),
    force: bool = typer.Option(False, "--force", help="Overwrite earlier demo outputs."),
) -> None:
    """Convert a bundled example recording into other emotions (writes OUT/*.wav)."""
    for line in run_demo(out, src=src, force=force, source=source):
        typer.echo(line)
