"""``emovc clone``, ``emovc embed``, ``emovc similarity``, ``emovc embed-map`` (thin wrappers)."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.cli.data_cmds import CORPUS_HELP
from emovc.errors import EmovcError

ENCODER_HELP = "Bundled encoder name, or a checkpoint (.pt) or a run folder holding model.pt."


def register(app: typer.Typer) -> None:
    """Attach the voice-cloning and speaker-embedding commands to ``app``."""
    app.command("clone")(clone)
    app.command("embed")(embed)
    app.command("similarity")(similarity)
    app.command("embed-map")(embed_map)


def clone(
    reference: list[Path] = typer.Option(..., "--reference", "-r",
                                         help="Recording of the target speaker (repeatable)."),
    text: str = typer.Option(..., "--text", "-t", help="Text to speak."),
    out: Path = typer.Option(..., "--out", "-o", help="Output audio file (.wav/.flac/.ogg)."),
    consent: bool = typer.Option(False, "--consent",
                                 help="Confirm the reference speaker agreed to be cloned."),
    emotion: str = typer.Option(None, "--emotion", help="Convert the result to this emotion."),
    denoise: bool = typer.Option(False, "--denoise", help="Spectral-gating denoise of references."),
    style: str = typer.Option(None, "--style", show_default=False,
                              help="voice (most like the speaker; the default), balanced, or "
                                   "clear (easiest to understand); see docs/cloning.md."),
    model: str = typer.Option(
        "default", "--model", "-m",
        help="default (offline unit selection), or a folder with your trained SV2TTS "
             "synthesizer.pt + vocoder.pt (docs/cloning.md)."),
    device: str = typer.Option(
        None, "--device", show_default=False,
        help="With --model FOLDER only: where the trained models run: auto (a CUDA GPU if "
             "torch sees one, else the CPU; the default), cpu, cuda or cuda:N. Unit "
             "selection has no neural model and runs on the CPU."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Say TEXT in the voice of the reference recording(s) (needs --consent).

    TEXT is spoken sentence by sentence. With --model FOLDER a sentence lasts at most
    max(2 s, 0.25 s per phoneme symbol): one the synthesizer has not ended by then is cut
    there with a warning."""
    from emovc.pipelines.cloning import METHODS, CloneConfig, VoiceCloner, require_consent

    require_consent(consent)  # fail before any heavy work (clone_to_file checks OUT first)
    if model not in ("default", *METHODS) and style is not None:
        raise EmovcError("--style chooses how unit selection joins the reference's own sounds; "
                         "a trained SV2TTS model (--model FOLDER) speaks one way: leave it out")
    if model in ("default", *METHODS) and device is not None:
        raise EmovcError("--device places a trained SV2TTS model (--model FOLDER); unit "
                         "selection has no neural model and runs on the CPU: leave it out")
    config = CloneConfig.for_style(style or "voice", denoise=denoise)
    cloner = VoiceCloner.from_pretrained(model, config, device=device, progress=True)
    path = cloner.clone_to_file(reference, text, out, consent=consent, emotion=emotion,
                                force=force)
    typer.echo(f"wrote {path}")


def embed(
    files: list[Path] = typer.Argument(..., help="Audio files to embed."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .npy file, shape (N, 256)."),
    model: str = typer.Option("resemblyzer", help=ENCODER_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Write GE2E speaker embeddings (d-vectors) of FILES to a .npy file."""
    from emovc.pipelines.speaker import SpeakerEncoder, check_embeddings_output, save_embeddings

    check_embeddings_output(out, force)  # before embedding every file
    emb = SpeakerEncoder.from_pretrained(model).embed_files(files)
    typer.echo(f"wrote {save_embeddings(out, emb, force=force)} {tuple(emb.shape)}")


def similarity(
    a: Path = typer.Argument(..., help="First recording."),
    b: Path = typer.Argument(..., help="Second recording."),
    model: str = typer.Option("resemblyzer", help=ENCODER_HELP),
) -> None:
    """Print the speaker similarity (cosine of GE2E embeddings, 1 = same voice) of A and B."""
    from emovc.pipelines.speaker import SpeakerEncoder

    ea, eb = SpeakerEncoder.from_pretrained(model).embed_files([a, b])
    typer.echo(f"{float(ea @ eb):.4f}")


def embed_map(
    folder: Path = typer.Argument(..., help="Corpus folder (any layout emovc catalogs)."),
    out: Path = typer.Option(..., "--out", "-o",
                             help="Image file (.png, .pdf, .svg, .jpg, .jpeg, .eps, .tif, .tiff)."),
    method: str = typer.Option("auto", help="Projection: auto, umap, tsne or pca."),
    max_per_speaker: int = typer.Option(10, min=1, help="Clips per speaker at most."),
    model: str = typer.Option("resemblyzer", help=ENCODER_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
) -> None:
    """Plot a 2-D map (UMAP/t-SNE/PCA) of the speaker embeddings of a corpus."""
    from emovc.pipelines.speaker import map_corpus

    path, used, n = map_corpus(folder, out, method=method, max_per_speaker=max_per_speaker,
                               model=model, force=force, corpus=corpus)
    typer.echo(f"wrote {path} ({used}, {n} clips)")
