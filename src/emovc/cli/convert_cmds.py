"""``emovc convert`` and ``emovc train`` — thin wrappers over the conversion library."""

from __future__ import annotations

import re
from pathlib import Path

import typer
import yaml

from emovc.cli.data_cmds import CORPUS_HELP
from emovc.errors import ConfigError, choice_error

# `emovc train`'s and `emovc train-voice`'s --accelerator (as `emovc ser train`'s)
ACCELERATOR_HELP = ("Where the model trains: auto (default: a TPU, else Apple's GPU (mps), "
                    "else a CUDA GPU torch sees, else the CPU), cpu (on every machine), cuda, "
                    "gpu or mps. A resumed run may change it. The run says where it trains.")

METHODS = ("stargan", "cyclegan", "spectrogan")


def register(app: typer.Typer) -> None:
    """Attach the conversion commands to ``app``."""
    app.command("convert")(convert)
    app.command("train")(train)


def convert(
    inp: Path = typer.Argument(..., metavar="IN", help="Audio file or folder (tree is mirrored)."),
    to: str = typer.Option(..., "--to", help="Target emotion (e.g. angry, sad, happy)."),
    source: str = typer.Option(
        None, "--from", help="Source emotion (default: chosen from the emotion recogniser's "
                             "probabilities, other than the target; an unsure recogniser lands "
                             "on neutral, calm or a middle vocal effort). Pass it when you know "
                             "it."),
    model: str = typer.Option("m2m-ravdess", "--model", help="Bundled model name or path."),
    intensity: float = typer.Option(
        1.0, "--intensity", help="0 = no emotion change ... 1 = full. At 0 m2m-ravdess (source "
                                 "renderer) returns the input itself, the other models their "
                                 "vocoder's copy of it."),
    out: Path = typer.Option(
        ..., "-o", "--output",
        help="Output file, or folder (mirrors a folder input; an existing folder takes a "
             "single file as IN's name). Mono at the model's rate (16 kHz); .wav (16-bit), "
             ".flac or .ogg by the extension (a folder's files: .wav). A folder input also "
             "writes OUT/conversions.csv (read by evaluate and listen), updated after each "
             "file; into a folder that has one, the new rows are added to it: earlier rows "
             "stay while their files exist and are not rewritten (docs/conversion.md)."),
    force: bool = typer.Option(
        False, "--force",
        help="Overwrite existing outputs (a folder: convert every file again, instead of "
             "only the missing ones)."),
    keep_level: bool = typer.Option(
        False, "--keep-level",
        help="Keep the input's loudness (default: apply the target emotion's level change)."),
    pitch_level: float = typer.Option(
        None, "--pitch-level",
        help="Share 0..1 of the emotion's change of mean pitch to apply (the contour is "
             "converted either way); lower keeps more of the speaker's voice. Default: the "
             "model's (m2m-ravdess 0.125, others 1)."),
    smoothing_ms: float = typer.Option(
        None, "--smoothing-ms",
        help="Moving-average window (ms) of the envelope change, WORLD models; 0 = off. "
             "Smoothing keeps more of the speaker's voice. Default: the model's "
             "(m2m-ravdess 100, others 0)."),
    envelope_gain: float = typer.Option(
        None, "--envelope-gain",
        help="Factor 0..3 on the envelope change, WORLD models: above 1 exaggerates the "
             "emotion's spectral cues (more emotion, less of the speaker's voice; "
             "docs/conversion.md has the measured trade-off). Default: the model's "
             "(m2m-ravdess 1.15, others 1)."),
    renderer: str = typer.Option(
        None, "--renderer",
        help="WORLD models: 'world' (WORLD synthesis of the converted features) or 'source' "
             "(the change applied to the input's own samples: STFT envelope filter + PSOLA; "
             "keeps more of the voice). Default: the model's (m2m-ravdess source, others world)."),
    voice_quality: float = typer.Option(
        None, "--voice-quality",
        help="Source renderer: factor 0..3 on the cycle-to-cycle jitter and shimmer added to "
             "give the target emotion's voice quality (0 = off). Default: the model's "
             "(m2m-ravdess 1, others 0)."),
) -> None:
    """Convert the emotion of speech, keeping the speaker and the words.

    A folder is resumable: rerunning the same command converts only the files whose outputs
    are missing (an interrupted run, or files that failed) and keeps the others with their
    conversions.csv rows. An existing output made with other settings (another --to, --from,
    --intensity, --model, level or rendering option; read from its provenance tag) or from
    another input is refused, naming it; --force converts every file again.
    """
    from emovc.pipelines.conversion import EmotionConverter
    from emovc.pipelines.conversion_batch import convert_paths

    conv = EmotionConverter.from_pretrained(model)
    if conv.unfinished:
        typer.echo(f"note: {conv.unfinished}", err=True)
    conv.settings = conv.settings.with_overrides(  # checked here, before any work
        envelope_smoothing_ms=smoothing_ms, envelope_gain=envelope_gain, renderer=renderer,
        voice_quality=voice_quality)
    rows = convert_paths(conv, inp, out, to, source=source, intensity=intensity, force=force,
                         keep_level=keep_level, pitch_level=pitch_level, renderer=renderer,
                         voice_quality=voice_quality, progress=typer.echo)
    kept = f" ({rows.kept} kept from an earlier run)" if rows.kept else ""
    typer.echo(f"converted {len(rows)} file(s) to {rows[0]['target_emotion'] if rows else to}"
               f"{kept}")


def train(
    data_dir: Path = typer.Argument(
        ..., help="Emotion-labelled corpus folder (RAVDESS, ESD, ..., or your own emotion "
                  "folders; detected unless --corpus; spectrogan: RAVDESS-named clips)."),
    method: str = typer.Option("stargan", "--method", help="stargan, cyclegan or spectrogan."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
    source: str = typer.Option(
        None, "--from", help="Source emotion of a pairwise model (cyclegan, spectrogan "
                             "compact; default calm); spectrogan m2m: the validation clips' "
                             "emotion. stargan: --set emotions=[...]"),
    target: str = typer.Option(
        None, "--to", help="Target emotion of a pairwise model (default angry)."),
    preset: str = typer.Option(
        "compact", "--preset",
        help="compact (CPU) or full; spectrogan also m2m (all emotions), faithful (= full) "
             "and faithful-520."),
    max_steps: int = typer.Option(
        None, "--max-steps",
        help="Training steps (default: the run's own when resuming one, else the preset's)."),
    devices: int = typer.Option(
        1, "--devices", help="Number of devices to train on (GPUs; without one, that many "
                             "processes share the CPU cores). Each trains its own batch: a "
                             "step trains N times the batch."),
    accelerator: str = typer.Option(None, "--accelerator", help=ACCELERATOR_HELP),
    out: Path = typer.Option(
        ..., "-o", "--output",
        help="Run folder (the run it holds is resumed; a folder of another run is refused)."),
    settings: list[str] = typer.Option(
        None, "--set", metavar="KEY=VALUE",
        help="Override a field of the method's training config (repeatable; VALUE is YAML), "
             "e.g. --set energy_cwt=true."),
    force: bool = typer.Option(
        False, "--force",
        help="Start the run afresh in the output folder, replacing the model.pt, checkpoints, "
             "logs and validation audio of a run it holds."),
) -> None:
    """Train an emotion converter; re-running with the same RUN_DIR resumes exactly."""
    import importlib

    if method not in METHODS:
        raise choice_error("method", method, METHODS)
    overrides = run_settings(settings, own=TRAIN_ARGUMENTS)
    if method == "spectrogan":  # it reads RAVDESS file names, whatever the folders
        if corpus not in ("auto", "ravdess"):
            raise ConfigError(f"--corpus {corpus}: --method spectrogan reads RAVDESS-named "
                              "clips (Actor_XX/03-01-EE-II-SS-RR-AA.wav) only, so it takes "
                              "--corpus auto or ravdess; --method stargan or cyclegan reads "
                              "the other layouts")
    else:
        overrides["corpus"] = corpus
    if accelerator is not None:
        overrides["accelerator"] = accelerator
    trainer = importlib.import_module(f"emovc.training.{method}")
    if max_steps is None and not force:  # a resumed run keeps its length
        from emovc.training.run_dir import saved_max_steps

        max_steps = saved_max_steps(out)
    cfg = trainer.build_config(str(data_dir), str(out), source, target, preset=preset,
                               max_steps=max_steps, devices=devices, overrides=overrides)
    path = trainer.train(cfg, resume=not force, cli=True)
    typer.echo(f"wrote {path}")


# settings a training command sets from its own arguments: a --set of them would silently
# beat -o and DATA_DIR, or (max_steps) lose to a resumed run's own length
OWN_ARGUMENTS = {"run_dir": "the run folder is set with -o",
                 "data_dir": "the corpus is the DATA_DIR argument",
                 "max_steps": "use --max-steps (it also extends a resumed run)",
                 "accelerator": "use --accelerator"}
# ... and `emovc train`'s --preset (a --set preset= was recorded in config.yaml, not applied)
# and --corpus
TRAIN_ARGUMENTS = {**OWN_ARGUMENTS, "preset": "use --preset", "corpus": "use --corpus"}


def run_settings(items: list[str] | None, id_lists: tuple[str, ...] | None = None,
                 own: dict[str, str] = OWN_ARGUMENTS) -> dict:
    """:func:`parse_settings` of a training command's ``--set`` items (``id_lists``: see
    there).

    Raises:
        ConfigError: also a setting the command's own arguments set (``own``: name → what
            to use instead; default :data:`OWN_ARGUMENTS`).
    """
    out = parse_settings(items, id_lists)
    for key, why in own.items():
        if key in out:
            raise ConfigError(f"--set {key} is not taken here: {why}")
    return out


def parse_settings(items: list[str] | None, id_lists: tuple[str, ...] | None = None) -> dict:
    """``["key=value", ...]`` (``--set``) -> ``{key: value}`` with YAML-parsed values
    (speaker lists, the settings ``id_lists`` names, by default :data:`ID_LISTS`, keep their
    items as text; ``()`` for a recipe whose settings of those names are not lists, e.g. the
    speaker encoder's ``val_speakers`` count); a mapping given twice (``--set 'model={a: 1}'
    --set 'model={b: 2}'``) keeps the keys of both, the later winning.

    Raises:
        ConfigError: an item without ``=`` or with an unparsable value.
    """
    id_lists = ID_LISTS if id_lists is None else id_lists
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            parsed = (_id_list(value) if key.strip() in id_lists
                      else _exponents(yaml.safe_load(value)))
        except yaml.YAMLError:
            raise ConfigError(f"--set {key.strip()}: cannot parse value {value!r}") from None
        earlier = out.get(key.strip())
        if isinstance(earlier, dict) and isinstance(parsed, dict):
            parsed = {**earlier, **parsed}  # model={...} twice: both sets of keys
        out[key.strip()] = parsed
    return out


# YAML 1.1 (PyYAML) reads 1e-4 as text (it wants 1.0e-4); a learning rate is written so
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _exponents(value):
    """``value`` with every string in exponent notation (``"1e-4"``) made a float, at any depth."""
    if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
        return float(value)
    if isinstance(value, dict):
        return {k: _exponents(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exponents(v) for v in value]
    return value


# settings whose items are ids spelled as text: [01, 02] must stay "01", "02" (plain YAML
# reads 1, 2, which match no RAVDESS actor)
ID_LISTS = ("train_speakers", "val_speakers")


def _id_list(value: str) -> list[str] | None:
    """A ``--set`` speaker list with every item kept as written (``null`` = default split)."""
    if value.strip() in ("", "null", "~"):
        return None
    return yaml.load(value, Loader=yaml.BaseLoader)  # noqa: S506 — BaseLoader builds strings
