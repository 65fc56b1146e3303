"""Ground-truth-aligned (GTA) mels: the vocoder's training input in SV2TTS (Jia et al., 2018,
after Shen et al., 2018).

A vocoder trained on the log-mels of real audio meets, at cloning time, the synthesizer's
predicted mels — smoother, with the synthesizer's own errors. GTA training closes that gap:
the trained synthesizer runs teacher-forced (each decoder step fed the true previous frame,
no gradient) on every transcribed training utterance, and its post-net output, frame for
frame aligned with the utterance's audio, is what the vocoder learns to turn into that audio.

The vocoder recipe's setting ``gta=SYNTH_RUN/model.pt`` turns it on (:func:`gta_source`
checks the file before any corpus work). Per utterance, the synthesizer's own preprocessing
(:func:`emovc.training.synthesizer_data.utterance_inputs`: phoneme ids, the embedding
of the speaker encoder the synthesizer records, the ground-truth log-mel — read from the
synthesizer run's cache when the ``cache_dir`` is the same) feeds :func:`gta_mel`, whose
result is cached per clip under ``vocoder-gta-<key>`` (the key holds the synthesizer file's
sha256) with the audio: :func:`~emovc.training.synthesizer_data.clip_speech` at the mel rate,
the waveform the ground-truth mel was computed from (decoded once per clip for both).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from emovc.errors import ConfigError, EmovcError, EmovcWarning, left_out_example
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.pipelines.sv2tts import MEL_KEYS, SYNTH_KIND, mel_differences, mel_names, mel_values
from emovc.pipelines.sv2tts_encoder import EncoderChoice, read_checkpoint, recorded_encoder
from emovc.training.sv2tts import mel_options
from emovc.training.synthesizer_data import Utterance
from emovc.training.vocoder_data import ClipWindows, stored_pair

GTA_VERSION = 1  # bump when gta_mel changes what it computes for the same synthesizer
SEED = 0  # the pre-net's dropout stays on at inference: each clip's masks come from this seed
HINT = "give the model.pt of emovc train-voice synthesizer"


@dataclass
class GtaSource:
    """A trained synthesizer checkpoint the vocoder's GTA mels come from.

    Attributes:
        path: the file as the setting gives it.
        sha256: hex digest of the file.
        config: :class:`TacotronConfig` as a dict; ``state_dict``: its weights.
        mel: its mel settings (``sr`` Hz, ``n_fft``/``hop_length`` samples, ``n_mels``).
        encoder: the speaker encoder it was trained on.
    """

    path: str
    sha256: str
    config: dict
    mel: dict
    encoder: EncoderChoice
    state_dict: dict = field(repr=False, default_factory=dict)

    def record(self) -> dict:
        """Plain data for the vocoder checkpoint's ``extra["gta"]``."""
        return {"synthesizer": self.path, "sha256": self.sha256}

    def model(self, device: torch.device) -> Tacotron:
        """The synthesizer on ``device``, in eval mode.

        Raises:
            ConfigError: weights that do not fit its config.
        """
        try:
            model = Tacotron(TacotronConfig(**self.config))
            model.load_state_dict(self.state_dict)
        except (TypeError, RuntimeError) as exc:
            raise ConfigError(f"synthesizer {self.path} cannot be loaded: {type(exc).__name__}: "
                              f"{(str(exc).splitlines() or [''])[0]}") from None
        return model.to(device).eval()


def gta_source(setting: Any, mel: dict, what: str) -> GtaSource:
    """Read and check the ``gta`` setting: a synthesizer checkpoint whose mel settings are
    ``mel`` (the vocoder's) and whose symbol table is this emovc's.

    Raises:
        ConfigError: one line naming ``what``'s setting: not a path, no such file, not an
            emovc checkpoint or not a synthesizer's, other mel settings (both values named),
            another symbol table, or a broken speaker-encoder record.
    """
    name = f"{what} setting gta"
    if not isinstance(setting, (str, os.PathLike)) or not str(setting):
        raise ConfigError(f"{name} must be the path of a synthesizer's model.pt, got "
                          f"{setting!r}; {HINT}")
    try:
        ckpt, sha256 = read_checkpoint(setting, SYNTH_KIND)
        extra = ckpt["extra"]
        encoder = recorded_encoder(extra, str(setting))
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}; {HINT}") from None
    theirs = dict(extra.get("mel") or {})
    differ = mel_differences(theirs, mel)
    if differ:
        raise ConfigError(f"{name}: synthesizer {setting} makes mels with "
                          f"{mel_values(theirs, differ)} but the vocoder's "
                          f"{mel_names(differ, 'mel.')} {'is' if len(differ) == 1 else 'are'} "
                          f"{mel_values(mel, differ, names=False)}; train the vocoder with the "
                          "synthesizer's mel settings "
                          f"({mel_options('vocoder', theirs, MEL_KEYS)})")
    if list(extra.get("symbols") or []) != SYMBOLS:
        raise ConfigError(f"{name}: synthesizer {setting} reads another phoneme symbol table "
                          "than this emovc's, so its inputs cannot be prepared again")
    return GtaSource(str(setting), sha256, dict(ckpt["config"]), theirs, encoder,
                     ckpt["state_dict"])


@torch.no_grad()
def gta_mel(model: Tacotron, utt: Utterance, seed: int = SEED) -> np.ndarray:
    """Teacher-forced post-net mel ``(T, n_mels)`` float32 of one utterance (``ids``,
    ``speaker (D,)``, ground-truth ``mel (T, n_mels)``), frame ``t`` aligned with ground-truth
    frame ``t``; the pre-net's dropout masks come from ``seed`` (the global torch generator
    is left as it was)."""
    from emovc.training.synthesizer_module import collate

    device = next(model.parameters()).device
    b = {k: v.to(device) for k, v in collate([utt], model.cfg.reduction).items()}
    forked = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked):
        torch.manual_seed(seed)
        out = model(b["ids"], b["id_lengths"], b["speaker"], b["mels"])
    return out["mel_post"][0, : len(utt.mel)].float().cpu().numpy()


def gta_settings(source: GtaSource) -> dict:
    """What a clip's GTA mel depends on besides its audio and text: the synthesizer file and
    its inputs' preprocessing."""
    from emovc.training.synthesizer_data import cache_settings

    return {"synthesizer": source.sha256, "inputs": cache_settings(source.mel, source.encoder),
            "seed": SEED, "version": GTA_VERSION}


def corpus_utterances(cfg: Any) -> list:
    """The transcribed utterances of a vocoder config's corpus (``max_utterances``: that many,
    the synthesizer's seeded sample spread over the speakers:
    :func:`~emovc.training.sv2tts_sample.corpus_sample`), as catalogued; clips without a
    transcript are left out with one warning for all.

    Raises:
        EmovcError: no transcribed utterance.
    """
    from emovc.training.sv2tts_sample import corpus_sample

    # the synthesizer's choice of its transcribed utterances (same max_utterances and seed)
    utts, left_out = corpus_sample(cfg.data_dir, cfg.corpus, cfg.max_utterances, cfg.seed,
                                   transcribed=True)
    if left_out:
        untranscribed = {u.path: "no transcript" for u in left_out}
        warnings.warn(f"{len(untranscribed)} clip(s) without a transcript left out of the "
                      "vocoder corpus (GTA mels need the synthesizer's text input), e.g. "
                      f"{left_out_example(untranscribed)}", EmovcWarning, stacklevel=3)
    if not utts:
        raise EmovcError(f"no transcribed utterances under {cfg.data_dir}: the vocoder's GTA "
                         "mels (setting gta) need transcripts; leave out gta to train on "
                         "ground-truth mels")
    return utts


def load_corpus(cfg: Any, progress: bool = True, utts: list | None = None) -> ClipWindows:
    """The (GTA mel ``(T, n_mels)``, waveform ``(n,)`` at ``mel["sr"]``) pairs of the
    transcribed utterances of a vocoder config's corpus (``cfg``: a
    :class:`~emovc.training.vocoder.VocoderTrainConfig` with ``gta`` set; ``utts``:
    :func:`corpus_utterances`, catalogued already), cached per clip and read window by window
    (:class:`~emovc.training.vocoder_data.ClipWindows`). Clips without a transcript, and
    clips whose audio cannot be used, are left out with one warning each.

    A clip not cached yet is decoded and VAD-trimmed once (:meth:`~emovc.training.
    synthesizer_data.Tools.speech`): that audio gives the synthesizer's inputs (unless the
    synthesizer's cache holds them), the waveform, and through the inputs the GTA mel.

    Raises:
        ConfigError: the ``gta`` setting (:func:`gta_source`).
        EmovcError: no transcribed utterance, or none that can be used.
        CacheWriteError: the cache cannot be written.
    """
    from emovc.models.device import resolve_device
    from emovc.training.clip_cache import cache_clips, clip_folder, warn_left_out
    from emovc.training.synthesizer_data import (
        Tools,
        check_rates,
        inputs_folder,
        stamp,
        utterance_inputs,
    )

    source = gta_source(cfg.gta, cfg.mel, "vocoder training")
    utts = corpus_utterances(cfg) if utts is None else utts
    check_rates(utts, source.mel["sr"], "vocoder corpus")
    inputs = inputs_folder(cfg.cache_dir, cfg.data_dir, source.mel, source.encoder)
    tools = Tools(source.encoder, source.mel["sr"])
    model: list[Tacotron] = []  # loaded for the first clip whose GTA mel is not cached

    def compute(u) -> dict[str, np.ndarray]:
        x = utterance_inputs(u, source.mel, tools, inputs)
        if not model:
            model.append(source.model(resolve_device("auto")))
        return stored_pair({"mel": gta_mel(model[0], x), "wav": tools.speech(u.path)[1]})

    folder = clip_folder(cfg.cache_dir, cfg.data_dir, "vocoder-gta", gta_settings(source))
    got, left_out = cache_clips(utts, compute, ("mel", "wav"), folder, "vocoder corpus",
                                progress, stamp)
    warn_left_out(left_out, "vocoder corpus")
    return ClipWindows([path for _, path in got])
