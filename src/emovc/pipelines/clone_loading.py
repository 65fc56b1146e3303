"""What :class:`~emovc.pipelines.cloning.VoiceCloner` loads besides itself: the one-line hints
on a path that is not a voice folder (a model file, a training run's folder), the check of a
voice folder's espeak-ng voice, and the bundled emotion converter that gives a clone its
emotion (:func:`apply_emotion`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emovc.errors import ConfigError, EmovcError
from emovc.pipelines.frontend import FrontendConfig


def check_neural_frontend(asked: FrontendConfig, trained: FrontendConfig, folder: Path) -> None:
    """A ``CloneConfig.frontend`` given for a voice folder (one other than the default) must
    be the espeak-ng voice its synthesizer was trained on: it reads no other phonemes.

    Raises:
        ConfigError: another voice (one line naming both).
    """
    from emovc.pipelines.sv2tts import same_voice

    if asked == FrontendConfig() or same_voice(asked, trained):
        return
    raise ConfigError(f"CloneConfig.frontend voice {asked.voice!r} is not the espeak-ng voice "
                      f"the synthesizer of {folder} was trained on ({trained.voice!r}): it "
                      f"reads that voice's phonemes only; leave frontend out, or give "
                      f"FrontendConfig(voice={trained.voice!r})")


def load_converter():
    """The bundled default emotion converter (``EmotionConverter.from_pretrained()``)."""
    try:
        from emovc.pipelines.conversion import EmotionConverter
    except ImportError as exc:
        msg = f"--emotion needs the emotion converter, which is unavailable ({exc})"
        raise EmovcError(msg) from None
    return EmotionConverter.from_pretrained()


def apply_emotion(wav: np.ndarray, sr: int, emotion: str, converter=None) -> np.ndarray:
    """Convert cloned speech ``(n,)`` at ``sr`` Hz to ``emotion`` with ``converter`` (default:
    the bundled emotion converter, loaded for this call)."""
    converter = converter if converter is not None else load_converter()
    # cloned read speech is neutral; fall back to automatic source detection otherwise
    source = "neutral" if "neutral" in converter.source_emotions else None
    if source == emotion:  # already neutral read speech
        return np.asarray(wav, dtype=np.float32)
    out = converter.convert(wav, sr, target=emotion, source=source,
                            name="the synthesized clone")
    return np.asarray(out, dtype=np.float32)


def model_file_hint(path: Path) -> str:
    """Why a file (``runs/taco/model.pt``, ``voices/v1/synthesizer.pt``) is not a cloner:
    a trained cloner is a voice folder."""
    folder = path.parent
    if path.name in ("synthesizer.pt", "vocoder.pt"):
        return f"{path} is a file; pass its voice folder {folder} (--model takes the folder)"
    return (f"{path} is a file; a trained cloner is a voice folder holding synthesizer.pt + "
            "vocoder.pt (--model VOICE_DIR; emovc train-voice synthesizer|vocoder ... --export "
            "VOICE_DIR makes it)")


def run_folder_hint(folder: Path) -> str:
    """Why ``folder`` (a training run folder: it holds a ``model.pt``) is not a voice folder,
    and, for a synthesizer's or vocoder's run, how to make one."""
    from emovc.models.checkpoint import checkpoint_kind
    from emovc.pipelines.sv2tts import SYNTH_KIND, VOCODER_KIND

    kind = checkpoint_kind(folder / "model.pt")
    if kind in (SYNTH_KIND, VOCODER_KIND):
        return (f"{folder} is the run folder of a {kind} training, not a voice folder: re-run "
                "its emovc train-voice command with --export VOICE_DIR (a finished run is only "
                "exported), then pass --model VOICE_DIR")
    return (f"{folder} holds a model.pt ({kind or 'not an emovc checkpoint'}), not a voice "
            "folder's synthesizer.pt + vocoder.pt (emovc train-voice ... --export VOICE_DIR "
            "makes one)")
