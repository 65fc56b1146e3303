"""``emovc info``, ``emovc resynth`` and ``emovc demo`` — thin wrappers over library calls."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.errors import EmovcError
from emovc.pipelines.analysis import describe_file, resynthesize_file, run_demo


def register(app: typer.Typer) -> None:
    """Attach the audio commands to ``app``."""
    app.command("info")(info)
    app.command("resynth")(resynth)
    app.command("demo")(demo)


def info(path: Path = typer.Argument(..., help="Audio file (wav, flac, ogg, mp3).")) -> None:
    """Print duration, sample rate, F0 range and loudness of an audio file (what can be
    measured of one the other commands refuse, then the reason, with exit code 2)."""
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
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """WORLD analysis → synthesis round trip (a vocoder-quality check)."""
    path = resynthesize_file(src, out, f0_method=f0_method, force=force)
    typer.echo(f"wrote {path}")


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
