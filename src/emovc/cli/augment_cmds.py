"""``emovc augment``: convert a corpus into other emotions to enlarge an SER training set."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.cli.data_cmds import CORPUS_HELP
from emovc.pipelines.augment import augment_corpus


def register(app: typer.Typer) -> None:
    """Attach ``augment`` to ``app``."""
    app.command("augment")(augment)


def augment(
    corpus_dir: Path = typer.Argument(
        ..., help="Corpus folder (RAVDESS, CREMA-D, ... or folder-per-emotion)."),
    to: str = typer.Option(..., "--to", help="Target emotions, comma-separated (e.g. angry,sad)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (outside the corpus)."),
    model: str = typer.Option("m2m-ravdess", help="Bundled converter name or checkpoint path."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
    intensity: float = typer.Option(1.0, help="Conversion intensity 0..1."),
    source: str = typer.Option(
        "", "--from", help="Emotion of utterances the corpus does not label (e.g. neutral for "
        "LibriSpeech/VCTK); default: detected per utterance by the recogniser (with a "
        "warning: it was trained on acted RAVDESS speech)."),
    only_from: str = typer.Option(
        "", "--only-from", help="Convert only the clips of these source emotions, "
        "comma-separated (e.g. neutral,calm); the others stay real clips of the manifest. "
        "Default: every clip."),
    speakers: str = typer.Option(
        "", "--speakers", help="Convert only the clips of these speakers, comma-separated, as "
        "the corpus spells them (e.g. 01,02). Default: every speaker."),
    balance: bool = typer.Option(
        False, "--balance", help="Convert into each --to emotion only as many clips as it "
        "lacks to have as many (real + synthetic) as the manifest's largest class of real "
        "clips, spread evenly over speakers and source emotions (a seeded choice; a rerun "
        "picks the same clips); an emotion with that many real clips gets none. Default: "
        "every selected clip into every --to emotion."),
    per_class: int | None = typer.Option(
        None, "--per-class", metavar="N", help="Balance to N clips per --to emotion instead "
        "(real ones counted first); works without --balance."),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the clips --balance/--per-class choose (default 0)."),
    workers: int = typer.Option(0, help="Local worker processes (0 = all cores)."),
    backend: str = typer.Option(
        "local", help="local (process pool) or ray (Ray cluster at $RAY_ADDRESS, else a local "
        "one; needs the package's 'ray' extra)."),
) -> None:
    """Convert every utterance into the requested emotions; resumable; writes OUT/manifest.csv.

    OUT/manifest.csv lists the real and synthetic clips, for training a recogniser;
    OUT/conversions.csv the conversions, for `emovc evaluate OUT`.

    --balance (or --per-class N) converts into each emotion only the clips it lacks, chosen
    evenly over speakers and source emotions in a seeded order: a rerun picks the same clips.

    Rerunning the same command resumes: it converts only the outputs that are missing or
    damaged and rewrites manifest.csv, conversions.csv and failures.csv. There is no --force:
    to redo an output, delete it (or the whole OUT folder) and rerun.

    Augmentation renders with its own settings, not emovc convert's defaults: pitch level 1
    (the emotion's whole change of mean pitch), no envelope smoothing, envelope gain 1, no
    added voice quality, WORLD renderer (a recogniser's training data wants the emotion's
    cues). See docs/augmentation.md.
    """
    targets = [t for t in to.split(",") if t.strip()]
    report = augment_corpus(corpus_dir, out, targets, model=model, corpus=corpus,
                            intensity=intensity, workers=workers or None, backend=backend,
                            source=source or None, only_from=_listed(only_from),
                            speakers=_listed(speakers), balance=balance, per_class=per_class,
                            seed=seed)
    typer.echo(report.summary())
    if report.failures:
        typer.echo(f"{report.failed_inputs} input file(s) skipped or failed "
                   f"({len(report.failures)} failure(s)) — see {out / 'failures.csv'}")


def _listed(value: str) -> list[str] | None:
    """The comma-separated items of an option (``None`` when it was not given)."""
    return [v.strip() for v in value.split(",") if v.strip()] if value.strip() else None
