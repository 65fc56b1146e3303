"""``emovc evaluate``, ``emovc listen`` and ``emovc listen-summary``."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.errors import EmovcError, output_exists


def register(app: typer.Typer) -> None:
    """Attach the evaluation commands to ``app``."""
    app.command("evaluate")(evaluate)
    app.command("listen")(listen)
    app.command("listen-summary")(listen_summary)


MAX_NOTES = 8  # printed; all of them are in metrics.json


def evaluate(
    manifest: Path = typer.Argument(..., help="Manifest CSV (source, converted, target_emotion"
                                    "[, reference, text, source_emotion]) or a conversion run "
                                    "directory holding conversions.csv."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder for report.html, "
                             "metrics.json, per_utterance.csv, per_emotion.csv."),
    no_asr: bool = typer.Option(False, "--no-asr", help="Skip word error rates (PocketSphinx)."),
    no_emotion: bool = typer.Option(False, "--no-emotion", help="Skip emotion recognition."),
    no_baselines: bool = typer.Option(False, "--no-baselines",
                                      help="Score only the converted audio."),
    recognizer: str = typer.Option("default", help="Emotion recogniser: bundled name or path."),
    speaker_encoder: str = typer.Option("resemblyzer", help="Speaker encoder of the similarity: "
                                        "bundled name or a trained one's model.pt or run "
                                        "folder."),
    workers: int = typer.Option(2, min=1, help="Processes for analysis and ASR."),
    trim_db: float = typer.Option(None, help="Trim edge silence quieter than this many dB "
                                  "below the peak before MCD/F0 analysis (default: whole files)."),
    examples: int = typer.Option(4, min=0, help="Items shown with plots and players."),
    link_audio: bool = typer.Option(False, "--link-audio", help="Copy the example files next "
                                    "to the report instead of embedding copies resampled to "
                                    "16 kHz."),
    force: bool = typer.Option(False, "--force", help="Overwrite earlier outputs in OUT."),
) -> None:
    """Score conversions: MCD, F0, speaker similarity, emotion rate and WER, with baselines."""
    from emovc.evaluation.analysis import MetricConfig
    from emovc.evaluation.api import run_evaluation, summary_table
    from emovc.evaluation.runner import EvalConfig

    cfg = EvalConfig(metrics=MetricConfig(trim_db=trim_db), asr=not no_asr,
                     emotion=not no_emotion, baselines=not no_baselines, workers=workers,
                     recognizer=recognizer, n_examples=examples,
                     speaker_encoder=speaker_encoder)
    result, paths = run_evaluation(manifest, out, cfg, force=force, embed_audio=not link_audio,
                                   log=lambda m: typer.echo(m, err=True))
    typer.echo(summary_table(result))
    for note in result.notes[:MAX_NOTES]:
        typer.echo(f"note: {note}")
    if len(result.notes) > MAX_NOTES:
        typer.echo(f"note: ... {len(result.notes) - MAX_NOTES} more (all notes are in "
                   "metrics.json)")
    for path in paths.values():
        typer.echo(f"wrote {path}")


def listen(
    run: Path = typer.Argument(..., help="Manifest CSV or conversion run directory."),
    port: int = typer.Option(8765, help="Port on 127.0.0.1 (1-65535; 0 = any free port)."),
    ratings: Path = typer.Option(None, help="Ratings CSV (default RUN/listening/ratings.csv)."),
    compare: Path = typer.Option(None, help="Second run: A/B between the two systems."),
    max_items: int = typer.Option(20, min=1, help="Items sampled (≤ 4 trials each)."),
    seed: int = typer.Option(0, help="Sampling seed; with each listener's name it also "
                             "draws that listener's trial order and A/B sides."),
    max_minutes: float = typer.Option(180.0, help="Stop serving after this many minutes "
                                      "(> 0)."),
    # -26: emovc.evaluation.stimuli.DEFAULT_LUFS (not imported before the command runs)
    loudness: float = typer.Option(-26.0, help="Serve every clip at this integrated loudness "
                                   "(LUFS, ITU-R BS.1770; -60 to -10)."),
    no_loudness: bool = typer.Option(False, "--no-loudness", help="Serve clips at their stored "
                                     "level (a system's level then is a cue)."),
) -> None:
    """Serve a MOS + A/B listening test locally; answers are appended to a CSV.

    Every clip is served as 16-bit WAV at the test's lowest sample rate, loudness-matched
    unless --no-loudness."""
    from emovc.evaluation.api import run_listening_test

    path = run_listening_test(run, port=port, ratings=ratings, compare=compare,
                              max_items=max_items, seed=seed, max_minutes=max_minutes,
                              loudness=None if no_loudness else loudness,
                              on_ready=lambda url: typer.echo(f"listening test at {url} "
                                                              f"(Ctrl+C to stop)"))
    typer.echo(f"ratings in {path}; summarise with: emovc listen-summary {path}")


def listen_summary(
    ratings: Path = typer.Argument(..., help="Ratings CSV written by `emovc listen`."),
    json_out: Path = typer.Option(None, "--json", help="Also write the summary as JSON."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --json file."),
    per_emotion: bool = typer.Option(False, "--per-emotion", help="Also print MOS and A/B per "
                                     "target emotion (always in --json)."),
) -> None:
    """MOS with 95 % intervals over listeners and files; A/B preference shares."""
    from emovc.evaluation.api import dump_json, ratings_table
    from emovc.evaluation.listening_ratings import summarize_ratings

    if json_out and json_out.resolve() == ratings.resolve():
        raise EmovcError(f"--json {json_out} is the ratings file itself; choose another name")
    if json_out and json_out.exists() and not force:
        raise output_exists(json_out)
    summary = summarize_ratings(ratings)
    typer.echo(ratings_table(summary, per_emotion))
    if json_out:
        typer.echo(f"wrote {dump_json(summary, json_out)}")
