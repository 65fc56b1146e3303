"""The SV2TTS training recipes by name, and their trained models put where cloning finds them.

``emovc train-voice RECIPE`` trains one of :data:`RECIPES` (:func:`recipe_module`). A
*voice folder* holds ``synthesizer.pt`` (kind ``synthesizer/tacotron``) and ``vocoder.pt``
(kind ``vocoder/wavernn``), which :meth:`emovc.pipelines.sv2tts.NeuralCloner.from_folder` and
``emovc clone --model FOLDER`` load; :func:`export_model` copies a run's ``model.pt`` there.
A retrained speaker encoder goes there inside ``synthesizer.pt``: train the synthesizer with
the setting ``encoder=ENCODER_RUN/model.pt`` and it embeds its corpus with that encoder and
keeps its weights, and cloning embeds the references with it
(:mod:`emovc.pipelines.sv2tts_encoder`); the encoder's own ``model.pt`` is not exported
(:data:`ENCODER_NOT_EXPORTED`).

    target = export_path("voices/libritts", "synthesizer")   # checked before training
    path = synthesizer.train(cfg)
    export_model(path, "voices/libritts", "synthesizer")     # → voices/libritts/synthesizer.pt
"""

from __future__ import annotations

import filecmp
import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from emovc.errors import ConfigError, OutputExistsError, choice_error
from emovc.fileio import check_writable, copy_atomic, file_sha256
from emovc.pipelines.sv2tts import SYNTH_KIND, VOCODER_KIND
from emovc.training.run_models import recorded_models

#: recipe name → training module (each has ``build_config`` and ``train``)
RECIPES = {"synthesizer": "emovc.training.synthesizer", "vocoder": "emovc.training.vocoder",
           "encoder": "emovc.training.speaker_encoder"}
#: recipe → (file in a voice folder, checkpoint kind)
VOICE_FILES = {"synthesizer": ("synthesizer.pt", SYNTH_KIND),
               "vocoder": ("vocoder.pt", VOCODER_KIND)}
ENCODER_NOT_EXPORTED = (
    "a trained speaker encoder does not go into a voice folder by itself: leave out --export "
    "and train the synthesizer on it (emovc train-voice synthesizer DATA_DIR -o RUN_DIR --set "
    "encoder=ENCODER_RUN/model.pt --export VOICE_DIR); synthesizer.pt keeps the encoder, and "
    "emovc clone embeds the references with it")
REPLACE_HINT = "pass --replace to replace it (Python: replace=True)"


def recipe_module(recipe: str) -> ModuleType:
    """The training module of ``recipe`` (``"synthesizer"``, ``"vocoder"``, ``"encoder"``).

    Raises:
        ConfigError: an unknown recipe (the valid ones listed).
    """
    if recipe not in RECIPES:
        raise choice_error("voice training recipe", recipe, RECIPES)
    return importlib.import_module(RECIPES[recipe])


def export_path(voice_dir: str | os.PathLike, recipe: str, replace: bool = False,
                mel: dict | None = None) -> Path:
    """The file ``recipe``'s model goes to in ``voice_dir``, checked (before training): a
    synthesizer or vocoder, a folder (or none yet) that can be written, no such file there
    unless ``replace``, and (``mel`` given: the run's mel settings) the folder's other model,
    if any, trained with the same mel settings (:func:`check_pair`).

    Raises:
        ConfigError: the encoder (:data:`ENCODER_NOT_EXPORTED`), an unknown recipe,
            ``voice_dir`` is a file, or its other model has other mel settings.
        OutputExistsError: the file exists and ``replace`` is false.
        OutputPathError: the folder cannot be written.
    """
    if recipe == "encoder":
        raise ConfigError(ENCODER_NOT_EXPORTED)
    if recipe not in VOICE_FILES:
        raise choice_error("voice model", recipe, VOICE_FILES)
    folder = Path(voice_dir)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"voice folder {folder} is a file; --export takes a folder (it "
                          "receives synthesizer.pt and vocoder.pt)")
    target = folder / VOICE_FILES[recipe][0]
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; a voice folder's {target.name} is a file")
    if target.exists() and not replace:
        raise OutputExistsError(f"voice folder {folder} already holds {target.name}; "
                                f"{REPLACE_HINT}, or choose another --export folder")
    if mel is not None:
        check_pair(folder, recipe, mel)
    check_writable(target)
    return target


def own_export(voice_dir: str | os.PathLike, recipe: str, model_pt: str | os.PathLike) -> bool:
    """Whether ``voice_dir``'s file for ``recipe`` is an earlier export of the run whose
    ``model_pt`` is given (re-running the same ``--export`` command may replace it): a
    ``model.pt`` the run wrote (its SHA-256 is in the run folder's record,
    :mod:`emovc.training.run_models`; also after the run was extended without ``--export``),
    or, for a run made before that record, the same bytes as ``model_pt``.
    """
    if recipe not in VOICE_FILES:
        return False
    target, model = Path(voice_dir) / VOICE_FILES[recipe][0], Path(model_pt)
    if not target.is_file():
        return False
    if file_sha256(target) in recorded_models(model.parent):
        return True
    return model.is_file() and filecmp.cmp(target, model, shallow=False)


def check_pair(voice_dir: str | os.PathLike, recipe: str, mel: dict) -> None:
    """The model already in ``voice_dir`` beside ``recipe``'s (the vocoder beside a
    synthesizer, and the other way round), if any, must have been trained with the mel
    settings ``mel``: cloning refuses a pair that differs.

    Raises:
        ConfigError: mel settings differ (one line naming them, with both values, and the
            options that train this recipe with the other model's: :func:`mel_options`).
    """
    from emovc.models.checkpoint import load_checkpoint
    from emovc.pipelines.sv2tts import mel_differences, mel_values

    other = "vocoder" if recipe == "synthesizer" else "synthesizer"
    path = Path(voice_dir) / VOICE_FILES[other][0]
    if not path.is_file():
        return
    theirs = load_checkpoint(path, VOICE_FILES[other][1])["extra"].get("mel") or {}
    differ = mel_differences(theirs, mel)
    if differ:
        raise ConfigError(
            f"{path} was trained with mel {mel_values(theirs, differ)}, this {recipe} with "
            f"{mel_values(mel, differ, names=False)}; the two models of a voice folder need "
            f"the same mel settings: train this {recipe} again with "
            f"{mel_options(recipe, theirs, differ)} and a new -o (or --force to start its "
            "run afresh), or choose another --export folder")


def mel_options(recipe: str, mel: dict, keys: Sequence[str]) -> str:
    """The ``--set`` options that give a ``recipe`` run the mel settings ``keys`` of ``mel``,
    with the model settings tied to them (the recipe's ``TIED``: a synthesizer's
    ``model.n_mels``, a vocoder's ``model.n_mels`` and ``model.hop_length``), e.g.
    ``--set 'mel={n_mels: 40}' --set 'model={n_mels: 40}'``."""
    from emovc.pipelines.sv2tts import mel_setting

    tied = [k for k in recipe_module(recipe).TIED if k in keys]
    model = f" --set 'model={mel_setting(mel, tied)}'" if tied else ""
    return f"--set 'mel={mel_setting(mel, keys)}'{model}"


def export_model(model_pt: str | os.PathLike, voice_dir: str | os.PathLike, recipe: str,
                 replace: bool = False) -> Path:
    """Copy a trained ``model.pt`` of ``recipe`` into ``voice_dir`` as ``synthesizer.pt`` or
    ``vocoder.pt`` (a temporary file renamed over it: never half written); returns its path.

    Raises:
        ConfigError: ``model_pt`` is not a checkpoint of ``recipe``'s kind, or
            :func:`export_path` refuses (also: the folder's other model has other mel
            settings, :func:`check_pair`).
        OutputExistsError: the file exists and ``replace`` is false.
    """
    from emovc.models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(model_pt, VOICE_FILES[recipe][1])  # a wrong kind fails here
    target = export_path(voice_dir, recipe, replace, mel=ckpt["extra"].get("mel") or {})
    return copy_atomic(model_pt, target)


def next_steps(recipe: str, model_pt: str | os.PathLike,
               voice_dir: str | os.PathLike | None = None) -> list[str]:
    """What to do with a trained model (lines for the command line): for a voice folder,
    what it still lacks (for a synthesizer: a vocoder trained on its GTA mels) or how to clone
    with it (a note when its two models' mel settings differ, or when the vocoder was trained
    on the GTA mels of another synthesizer); without one, how to make one; for the encoder,
    how to train a synthesizer on it."""
    if recipe == "encoder":
        return [f"train a synthesizer on it: emovc train-voice synthesizer DATA_DIR -o RUN_DIR "
                f"--set encoder={model_pt} --export VOICE_DIR (synthesizer.pt keeps the "
                "encoder; emovc clone embeds the references with it)",
                f"also: emovc embed FILES -o emb.npy --model {model_pt} (and emovc similarity, "
                "emovc embed-map)"]
    name = VOICE_FILES[recipe][0]
    if voice_dir is None:
        return [f"to clone with it: re-run with --export VOICE_DIR (a finished run is only "
                f"exported) or copy it to VOICE_DIR/{name}; emovc clone --model VOICE_DIR "
                "needs synthesizer.pt and vocoder.pt"]
    other = "vocoder" if recipe == "synthesizer" else "synthesizer"
    folder = Path(voice_dir)
    if not (folder / VOICE_FILES[other][0]).is_file():
        gta = f" --set gta={model_pt}" if recipe == "synthesizer" else ""
        return [f"{folder} still needs {VOICE_FILES[other][0]}: emovc train-voice {other} "
                f"DATA_DIR -o RUN_DIR{gta} --export {folder}"]
    try:
        notes = _voice_notes(folder)
    except ConfigError as exc:
        return [f"note: {exc} (--set mel=... of both runs)"]
    return [*notes, f"clone with it: emovc clone --model {folder} -r REFERENCE.wav -t TEXT "
            "-o out.wav --consent"]


def _voice_notes(folder: Path) -> list[str]:
    """Notes on a voice folder's two models: one when the vocoder was trained on the GTA mels
    of another synthesizer than ``synthesizer.pt``.

    Raises:
        ConfigError: the two models disagree on their mel settings.
    """
    from emovc.models.checkpoint import load_checkpoint
    from emovc.pipelines.sv2tts import check_mel_settings

    syn = load_checkpoint(folder / "synthesizer.pt", SYNTH_KIND)
    voc = load_checkpoint(folder / "vocoder.pt", VOCODER_KIND)
    check_mel_settings(syn["extra"].get("mel"), voc["extra"].get("mel"))
    gta = voc["extra"].get("gta")
    if isinstance(gta, dict) and gta.get("sha256") != file_sha256(folder / "synthesizer.pt"):
        return [f"note: vocoder.pt was trained on the GTA mels of another synthesizer "
                f"({gta.get('synthesizer')}, sha256 {str(gta.get('sha256'))[:12]}) than "
                f"{folder / 'synthesizer.pt'}; it works, but a vocoder trained on this "
                "synthesizer's own GTA mels fits it best"]
    return []
