"""``emovc train-voice``: train the SV2TTS voice-cloning models (a thin wrapper over
:mod:`emovc.training.sv2tts` and the recipes it names)."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.cli.convert_cmds import ACCELERATOR_HELP
from emovc.cli.data_cmds import CORPUS_HELP


def register(app: typer.Typer) -> None:
    """Attach the voice-cloning training command to ``app``."""
    app.command("train-voice")(train_voice)


def train_voice(
    recipe: str = typer.Argument(
        ...,
        help="synthesizer (Tacotron 2, needs transcripts), vocoder (WaveRNN) or encoder "
             "(GE2E speaker encoder; optional: a synthesizer trained with --set "
             "encoder=RUN_DIR/model.pt uses it, else the bundled one)."),
    data_dir: Path = typer.Argument(
        ..., help="Multi-speaker corpus folder (LibriSpeech, LibriTTS, VCTK layouts, your own "
                  "speaker folders or LJSpeech-style folder; detected unless --corpus)."),
    out: Path = typer.Option(
        ..., "-o", "--output",
        help="Run folder (the run it holds is resumed; a folder of another run is refused)."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
    max_steps: int = typer.Option(
        None, "--max-steps",
        help="Training steps (default: the run's own when resuming one, else the recipe's: "
             "synthesizer 200000, vocoder 500000, encoder 100000)."),
    devices: int = typer.Option(
        1, "--devices", help="Number of devices to train on (GPUs; without one, that many "
                             "processes share the CPU cores). Each trains its own batch: a "
                             "step trains N times the batch (batch_size is per device)."),
    accelerator: str = typer.Option(None, "--accelerator", help=ACCELERATOR_HELP),
    settings: list[str] = typer.Option(
        None, "--set", metavar="KEY=VALUE",
        help="Override a field of the recipe's training config (repeatable; VALUE is YAML), "
             "e.g. --set batch_size=16, --set 'mel={sr: 22050}', --set init=resemblyzer "
             "(encoder), --set encoder=ENCODER_RUN/model.pt (synthesizer: embed with a "
             "retrained encoder), --set gta=SYNTH_RUN/model.pt (vocoder: train on that "
             "synthesizer's ground-truth-aligned mels), --set cache_dir=DIR (preprocessed "
             "clips; default $EMOVC_CACHE/sv2tts or ~/.cache/emovc/sv2tts), --set "
             "ckpt_every=N (steps between checkpoints, default 1000). -o, DATA_DIR, "
             "--corpus and --max-steps set run_dir, data_dir, corpus and max_steps."),
    force: bool = typer.Option(
        False, "--force",
        help="Start the run afresh in the output folder, replacing the model.pt, checkpoints "
             "and logs of a run it holds (and, with --export, the voice folder's model)."),
    export: Path = typer.Option(
        None, "--export", metavar="VOICE_DIR",
        help="After training, copy the model into this folder as synthesizer.pt or "
             "vocoder.pt, the two files emovc clone --model VOICE_DIR loads (not for encoder: "
             "a synthesizer trained with --set encoder=... carries it)."),
    replace: bool = typer.Option(
        False, "--replace", help="Let --export replace the voice folder's synthesizer.pt or "
                                 "vocoder.pt when it is not this run's own earlier export "
                                 "(the run itself is resumed, not restarted)."),
) -> None:
    """Train a voice-cloning model (SV2TTS); re-running with the same RUN_DIR resumes it."""
    from emovc.cli.convert_cmds import OWN_ARGUMENTS, run_settings
    from emovc.errors import ConfigError
    from emovc.training.run_dir import saved_max_steps
    from emovc.training.sv2tts import (
        export_model,
        export_path,
        next_steps,
        own_export,
        recipe_module,
    )

    trainer = recipe_module(recipe)
    if replace and export is None:
        raise ConfigError("--replace goes with --export VOICE_DIR (it lets the export replace "
                          "the voice folder's model)")
    # no speaker lists (the encoder's val_speakers counts); --corpus sets the layout
    own = {**OWN_ARGUMENTS, "corpus": "use --corpus"}
    overrides = {**run_settings(settings, id_lists=(), own=own), "corpus": corpus}
    if accelerator is not None:
        overrides["accelerator"] = accelerator
    if max_steps is None and not force:  # a resumed run keeps its length
        max_steps = saved_max_steps(out)
    cfg = trainer.build_config(str(data_dir), str(out), max_steps=max_steps, devices=devices,
                               overrides=overrides)
    # the same command again: the voice folder's model is this run's earlier export
    replace = replace or force or (export is not None and own_export(export, recipe,
                                                                     out / "model.pt"))
    if export is not None:  # before hours of training
        export_path(export, recipe, replace, mel=getattr(cfg, "mel", None))
    path = trainer.train(cfg, resume=not force, cli=True)
    typer.echo(f"wrote {path}")
    if export is not None:
        typer.echo(f"exported {export_model(path, export, recipe, replace)}")
    for line in next_steps(recipe, path, export):
        typer.echo(line)
