"""``emovc catalog`` and ``emovc prepare``: list a corpus, compute and cache its features."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.errors import EmovcError

#: the help of every command's --corpus option (the names of emovc.data.catalogs.CATALOGS,
#: written out: the command line does not import the catalogs to start)
CORPUS_HELP = ("Corpus layout: auto (detect it), or ravdess, esd, cremad, tess, emovdb, savee, "
               "vctk, librispeech, libritts, ljspeech, folders (<emotion>/ or "
               "<speaker>/<emotion>/ folders) or speakers (<speaker>/ folders); see "
               "docs/data.md.")


def _check_manifest_output(output: Path, corpus_dir: Path, force: bool) -> Path:
    """Refuse a manifest path before the scan: an audio file of the corpus (one of the files
    catalogued, even with ``--force``), a folder, a name not ending in ``.csv``, or an
    existing file without ``force``."""
    from emovc.data.catalogs.base import is_audio
    from emovc.fileio import check_output_file, refuse_input_overwrite

    if output.is_file() and is_audio(output.name) and corpus_dir.is_dir():
        refuse_input_overwrite(output, within=corpus_dir, hint="give a file name ending in .csv",
                               what=f"the input (an audio file of {corpus_dir})")
    return check_output_file(output, (".csv",), force, "a manifest")


def catalog(
    corpus_dir: Path = typer.Argument(..., help="Corpus folder (RAVDESS, ESD, VCTK, ...)."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the manifest CSV."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """List a corpus: utterances per speaker and emotion; optionally save its manifest."""
    from emovc.data.catalogs import scan_corpus

    if output is not None:
        output = _check_manifest_output(output, corpus_dir, force)
    manifest, log = scan_corpus(corpus_dir, corpus)
    typer.echo(manifest.describe())
    for line in log.summary():
        typer.echo(f"skipped: {line}", err=True)
    if output is not None:
        manifest.to_csv(output, force=True)
        typer.echo(f"wrote {output}")


def prepare(
    corpus_dir: Path = typer.Argument(..., help="Corpus folder to prepare."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Cache root (default: $EMOVC_CACHE or ~/.cache/emovc)."),
    features: str = typer.Option("world,mel", "--features", "-f",
                                 help="Comma-separated feature sets: world, mel."),
    workers: int | None = typer.Option(None, "--workers", "-j", min=1,
                                       help="Worker processes (default: CPU count)."),
    force: bool = typer.Option(False, "--force", help="Recompute files already cached."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Compute features once per utterance into a cache for your own scripts.

    Read the cache with PreparedCorpus; emovc train and ser train build their own caches."""
    from emovc.data.prepare import prepare_corpus

    if cache_dir is not None and cache_dir.exists() and not cache_dir.is_dir():
        raise EmovcError(f"--cache-dir {cache_dir} is a file; give a folder")
    prepared = prepare_corpus(corpus_dir, corpus, cache_dir=cache_dir, features=features,
                              workers=workers, force=force, progress=not quiet)
    for line in prepared.report.summary():
        typer.echo(line)
    for name, folder in prepared.dirs.items():
        typer.echo(f"{name}: {folder}")
    typer.echo(f"manifest: {prepared.root / 'manifest.csv'}")
    if prepared.report.failures or prepared.report.scan_log.skipped:
        typer.echo(f"failures: {prepared.root / 'failures.tsv'}")


def register(app: typer.Typer) -> None:
    """Add ``catalog`` and ``prepare`` to the ``emovc`` command."""
    app.command("catalog")(catalog)
    app.command("prepare")(prepare)
