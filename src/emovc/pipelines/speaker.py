"""Speaker embeddings (d-vectors) with our GE2E encoder: embed, compare, map many speakers.

The bundled default, ``"resemblyzer"``, is the GE2E checkpoint shipped inside the
``resemblyzer`` wheel (``resemblyzer/pretrained.pt``, trained by its authors on
LibriSpeech + VoxCeleb 1/2), loaded offline into :class:`emovc.models.speaker_encoder.GE2E`.
A path loads a checkpoint of kind ``"speaker-encoder/ge2e"`` written by
:mod:`emovc.training.speaker_encoder`.

>>> enc = SpeakerEncoder.from_pretrained()          # doctest: +SKIP
>>> enc.embed(wav, 16000).shape                     # doctest: +SKIP
(256,)

Maps of the embeddings (projection, plot, output checks) are in
:mod:`emovc.pipelines.speaker_map`; their names are importable from here as before, and
:func:`map_corpus`, which embeds a corpus for its map, is here.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from emovc.audio import check_speech, load_audio
from emovc.audio.io import resample
from emovc.audio.processing import as_mono, check_sample_rate
from emovc.audio.voicing import check_voiced_speech, warn_if_unvoiced
from emovc.errors import AudioError, ConfigError, EmovcWarning, left_out_example
from emovc.models.checkpoint import load_checkpoint
from emovc.models.speaker_encoder import GE2E, GE2EConfig, embed_utterance
from emovc.pipelines.speaker_map import (  # noqa: F401 — re-exported: imported from here
    MAP_EXTENSIONS,
    MAP_METHODS,
    UMAP_MIN_POINTS,
    check_embeddings_output,
    check_map_method,
    check_map_output,
    check_map_points,
    embedding_map,
    group_colors,
    project,
    save_embeddings,
)

KIND = "speaker-encoder/ge2e"
BUNDLED = "resemblyzer"
ALIASES = {"default": BUNDLED}
SAMPLE_RATE = 16000  # Hz: the encoder's features (and resemblyzer's VAD) work at this rate
MIN_SPEECH_S = 0.5  # as every other command; a 0.4 s clip scored 0.34 against its own source
MIN_TRIMMED_S = 0.25  # VAD-trimmed audio shorter than this: the untrimmed audio is embedded


def resemblyzer_weights() -> Path:
    """Path of the GE2E checkpoint inside the installed ``resemblyzer`` wheel."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or spec.origin is None:
        raise ConfigError("the bundled speaker encoder needs resemblyzer: pip install resemblyzer")
    path = Path(spec.origin).parent / "pretrained.pt"
    if not path.is_file():
        raise ConfigError(f"resemblyzer is installed but its weights are missing: {path}")
    return path


def preprocess(wav: np.ndarray, sr: int, name: str = "audio for a speaker embedding"
               ) -> np.ndarray:
    """Resample to 16 kHz, raise the level to −30 dBFS and shorten pauses (WebRTC VAD).

    ``wav``: mono float samples ``(n,)`` at ``sr`` Hz (``(n, 1)``/``(1, n)`` are squeezed and
    channels-last ``(n, channels)`` mixed down, as by :func:`emovc.audio.processing.as_mono`);
    ``name`` is what its errors call it (e.g. the file).

    This is resemblyzer's ``preprocess_wav`` (reused so embeddings match resemblyzer's
    exactly); if the VAD keeps under 0.25 s the untrimmed audio is used.

    Returns:
        float32 ``(m,)`` at 16 kHz.

    Raises:
        AudioError: another shape, integer samples, a bad ``sr``, less than 0.5 s of audio,
            or silence (an embedding of silence would still score as a voice).
    """
    from resemblyzer import preprocess_wav

    x = resample(as_mono(wav, name), check_sample_rate(sr), SAMPLE_RATE)
    check_speech(x, SAMPLE_RATE, min_duration=MIN_SPEECH_S, name=name)
    pre = preprocess_wav(x, source_sr=SAMPLE_RATE)
    return pre if len(pre) >= MIN_TRIMMED_S * SAMPLE_RATE else x


def _bundled_model() -> GE2E:
    """The GE2E network with resemblyzer's weights (:func:`resemblyzer_weights`)."""
    state = torch.load(resemblyzer_weights(), map_location="cpu", weights_only=True)
    model = GE2E(GE2EConfig())
    model.load_state_dict(state["model_state"], strict=True)
    return model


class SpeakerEncoder:
    """GE2E d-vector extractor (256-d, unit norm); takes mono speech at any rate (resampled to
    :attr:`sample_rate`, 16 kHz), at least 0.5 s of it (:data:`MIN_SPEECH_S`).

    Args:
        model: the GE2E network; ``None`` loads the bundled resemblyzer weights (as
            ``from_pretrained()``, the usual way to make one).
        device: the old signature's argument (``SpeakerEncoder("cpu")`` or
            ``SpeakerEncoder(device="cpu")``, as before the GE2E network was passed): the
            encoder runs on the CPU, so ``"cpu"`` is accepted with a
            :class:`DeprecationWarning`; another device is refused.

    Raises:
        ConfigError: ``model`` is neither a GE2E network nor ``None`` (nor ``"cpu"``), or a
            device other than the CPU.
    """

    sample_rate: int = SAMPLE_RATE
    """Rate in Hz the encoder works at: every input is resampled to it."""

    def __init__(self, model: GE2E | None = None, device: str | None = None) -> None:
        if isinstance(model, (str, torch.device)):  # the old SpeakerEncoder(device) call
            model, device = None, model
        if device is not None:
            if str(device) != "cpu":
                raise ConfigError(f"SpeakerEncoder runs on the CPU, got device {device!r}; "
                                  "make one with SpeakerEncoder() or "
                                  "SpeakerEncoder.from_pretrained(name_or_path)")
            warnings.warn("SpeakerEncoder(device='cpu') is deprecated: the encoder runs on the "
                          "CPU; use SpeakerEncoder() or SpeakerEncoder.from_pretrained()",
                          DeprecationWarning, stacklevel=2)
        if model is not None and not isinstance(model, GE2E):
            raise ConfigError(f"SpeakerEncoder(model) takes a GE2E network, got "
                              f"{type(model).__name__}; use SpeakerEncoder() for the bundled "
                              "encoder, or SpeakerEncoder.from_pretrained(name_or_path)")
        self.model = (model if model is not None else _bundled_model()).eval()

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = BUNDLED) -> SpeakerEncoder:
        """Load the bundled resemblyzer weights (``"resemblyzer"``, alias ``"default"``) or an
        emovc checkpoint of kind ``"speaker-encoder/ge2e"`` (a ``.pt`` path, or a run folder
        holding its ``model.pt``).

        Raises:
            ConfigError: an unknown name (the message lists the valid ones), or a file that
                is not a speaker-encoder checkpoint.
        """
        name_or_path = ALIASES.get(str(name_or_path), name_or_path)
        p = Path(name_or_path)
        if str(name_or_path) != BUNDLED and not p.exists() and not p.suffix and len(p.parts) == 1:
            raise ConfigError(f"unknown speaker encoder {str(name_or_path)!r}; valid choices: "
                              f"{', '.join([*ALIASES, BUNDLED])}, or the path of a {KIND} "
                              "checkpoint (.pt)")
        if str(name_or_path) == BUNDLED:
            return cls(_bundled_model())
        return cls.from_checkpoint(load_checkpoint(name_or_path, KIND))

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> SpeakerEncoder:
        """The encoder of a loaded speaker-encoder checkpoint (``config``: a
        :class:`GE2EConfig` as a dict, ``state_dict``: its weights) — a file read by
        :func:`~emovc.models.checkpoint.load_checkpoint`, or the copy a synthesizer trained
        on it keeps (:mod:`emovc.pipelines.sv2tts_encoder`).

        Raises:
            ConfigError: the config or the weights do not fit a GE2E encoder.
        """
        try:
            model = GE2E(GE2EConfig(**ckpt["config"]))
            model.load_state_dict(ckpt["state_dict"])
        except (KeyError, TypeError, RuntimeError) as exc:
            first = (str(exc).splitlines() or [""])[0]
            raise ConfigError(f"not a usable {KIND} model: {type(exc).__name__}: "
                              f"{first}") from None
        return cls(model)

    def embed(self, wav: np.ndarray, sr: int,
              name: str = "audio for a speaker embedding") -> np.ndarray:
        """Embedding ``(256,)`` float32 of one mono utterance ``(n,)`` at ``sr`` Hz
        (preprocessed as in :func:`preprocess`; errors call it ``name``).

        ``sr`` is required: audio at another rate than the one given is embedded as a
        different voice without any error (e.g. 44.1 kHz samples read as 16 kHz)."""
        return embed_utterance(self.model, preprocess(wav, sr, name))

    def embed_speaker(self, wavs: Sequence[np.ndarray], sr: int) -> np.ndarray:
        """Normalised mean embedding ``(256,)`` of several utterances (each mono ``(n_i,)`` at
        ``sr`` Hz) of one speaker.

        Raises:
            AudioError: no utterance given, or one that :meth:`embed` refuses.
        """
        if isinstance(wavs, np.ndarray) and wavs.ndim == 1:
            raise AudioError("embed_speaker takes a list of utterances; use embed() for one")
        if len(wavs) == 0:
            raise AudioError("no utterances given for a speaker embedding; pass at least one")
        mean = np.mean([self.embed(w, sr) for w in wavs], axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

    def embed_files(self, paths: Sequence[str | os.PathLike]) -> np.ndarray:
        """Embeddings ``(N, 256)`` of audio files (any rate; resampled to 16 kHz), in order; a
        file without voiced sound (noise: :func:`~emovc.audio.voicing.warn_if_unvoiced`) is
        embedded with an :class:`~emovc.errors.EmovcWarning`, since speech in loud noise can
        measure that low too (``emovc convert`` and ``clone`` refuse such input)."""
        out = []
        for p in paths:
            wav = load_audio(p, sr=SAMPLE_RATE)
            out.append(self.embed(wav, SAMPLE_RATE, name=str(p)))
            warn_if_unvoiced(wav, SAMPLE_RATE, str(p), "its embedding describes the noise, not a "
                             "voice")
        return np.stack(out)

    def similarity(self, a: np.ndarray, b: np.ndarray, sr: int) -> float:
        """Cosine similarity of two utterances' embeddings (mono ``(n,)`` at ``sr`` Hz; −1..1,
        1 = same voice)."""
        return float(np.dot(self.embed(a, sr), self.embed(b, sr)))



def map_corpus(folder: str | os.PathLike, out: str | os.PathLike, method: str = "auto",
               max_per_speaker: int = 10, model: str = BUNDLED, force: bool = False,
               corpus: str = "auto") -> tuple[Path, str, int]:
    """Embed up to ``max_per_speaker`` clips per speaker of a corpus (the first by path; its
    layout ``corpus``, a catalog name or ``"auto"``: :func:`~emovc.data.catalogs.
    catalog_corpus`) and plot the map. ``out``, ``method`` and the number of clips chosen
    are checked before any embedding; a clip whose audio cannot be used (too short, silent,
    unreadable, or noise without voiced speech, which ``convert`` and ``clone`` refuse too:
    :func:`~emovc.audio.voicing.check_voiced_speech`) is left out with one
    :class:`~emovc.errors.EmovcWarning` giving their number and an example.

    Returns:
        ``(image path, projection used, number of clips plotted)``.

    Raises:
        ConfigError: a bad ``out`` or ``method``, or too few usable clips for the map (fewer
            than 3; fewer than 15 for UMAP).
    """
    from emovc.data.catalogs import catalog_corpus

    if max_per_speaker < 1:
        raise ConfigError(f"max_per_speaker must be at least 1, got {max_per_speaker}")
    check_map_output(out, force)  # before embedding every clip
    check_map_method(method)
    per: dict[str, list[str]] = {}
    gender: dict[str, str] = {}
    for utt in sorted(catalog_corpus(folder, corpus), key=lambda u: u.path):
        gender[utt.speaker] = utt.gender
        if len(per.setdefault(utt.speaker, [])) < max_per_speaker:
            per[utt.speaker].append(utt.path)
    check_map_points(sum(len(ps) for ps in per.values()), method)  # before embedding them all
    encoder = SpeakerEncoder.from_pretrained(model)
    emb, labels, left_out = [], [], {}
    for spk, paths in per.items():
        for p in paths:
            try:
                wav = load_audio(p, sr=SAMPLE_RATE)
                vector = encoder.embed(wav, SAMPLE_RATE, name=p)
                check_voiced_speech(wav, SAMPLE_RATE, name=p)  # noise would be mapped as a voice
                emb.append(vector)
                labels.append(spk)
            except AudioError as exc:  # one bad take must not cost the whole map
                left_out[p] = str(exc)
    check_map_points(len(emb), method, f"; {len(left_out)} clip(s) left out, e.g. "
                  f"{left_out_example(left_out)}" if left_out else "")
    if left_out:
        warnings.warn(f"{len(left_out)} clip(s) of {folder} left out of the map (their audio "
                      f"cannot be used), e.g. {left_out_example(left_out)}", EmovcWarning,
                      stacklevel=2)
    group = "speakers"
    if len(labels) == len(set(labels)):  # one clip per speaker: colour by gender instead
        group = f"genders, {len(labels)} speakers"
        labels = [f"gender {gender[s]}" for s in labels]
    path, used = embedding_map(np.stack(emb), labels, out, method=method, force=force,
                               group=group)
    return path, used, len(emb)
