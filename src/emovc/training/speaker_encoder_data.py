"""The corpus of a GE2E speaker-encoder training run (:mod:`emovc.training.speaker_encoder`):
the speakers split into training and validation ones (with the warnings of why validation is
smaller or absent), the validation clips an EER can use, and the training speakers' mels,
cached per clip."""

from __future__ import annotations

import warnings

import numpy as np

from emovc.errors import EmovcWarning
from emovc.models.speaker_encoder import GE2EConfig, mel_frames
from emovc.training.speaker_encoder_config import WHAT, GE2ETrainConfig

CACHE_VERSION = 1  # bump when load_corpus changes what it computes for the same settings
VAL_CLIPS = 5  # clips per validation speaker embedded for the EER


def split_speakers(counts: dict[str, int], val_speakers: int) -> tuple[list[str], list[str]]:
    """``(training speakers, validation speakers)`` of a corpus whose speakers have
    ``counts`` clips: the validation speakers are the last ``val_speakers`` (by name) of those
    with 2 clips or more, as many as leave 2 speakers to train on, and none when that is
    fewer than 2 (the EER needs a pair of clips of one speaker and two speakers). Warns (one
    :class:`~emovc.errors.EmovcWarning` each) when validation is asked for (``val_speakers``
    above 0) and there is none because ``val_speakers`` is 1 or the corpus has only 2 or 3
    speakers, when speakers with one clip take validation speakers away, and when training
    speakers have one clip."""
    names = sorted(counts)
    several = [n for n in names if counts[n] >= 2]
    wanted = min(val_speakers, max(0, len(names) - 2))  # all but 2 at most, as before
    n_val = min(wanted, len(several))
    n_val = n_val if n_val >= 2 else 0
    val = several[len(several) - n_val:] if n_val else []
    train = [n for n in names if n not in set(val)]
    why = _no_validation(val_speakers, len(names)) if wanted < 2 else ""
    if why:
        warnings.warn(f"{WHAT} logs no validation EER (setting val_speakers {val_speakers}): "
                      f"{why}", EmovcWarning, stacklevel=3)
    elif n_val < wanted:
        done = f"validates on {n_val} speakers, not {wanted}" if n_val else \
            "logs no validation EER"
        warnings.warn(f"{WHAT} {done} (setting val_speakers {val_speakers}): {len(several)} of "
                      f"the {len(names)} speakers have 2 clips or more, and the EER needs 2 "
                      "clips each of 2 speakers", EmovcWarning, stacklevel=3)
    single = [n for n in train if counts[n] < 2]
    if single:
        warnings.warn(f"{len(single)} of the {len(train)} training speakers have one clip (e.g. "
                      f"{single[0]}): GE2E learns from several clips per speaker, and all the "
                      "crops of such a speaker come from one recording, so it learns to tell "
                      "recordings apart rather than voices; give each speaker several clips",
                      EmovcWarning, stacklevel=3)
    return train, val


def _no_validation(val_speakers: int, n_speakers: int) -> str:
    """Why :func:`split_speakers` can hold out fewer than the 2 speakers an EER needs, when
    the clip counts are not the cause: ``val_speakers`` 1, or a corpus of 2 or 3 speakers
    (2 always train); ``""`` when validation was not asked for (``val_speakers`` 0) or the
    corpus has one speaker (the training refuses it)."""
    if val_speakers == 0 or n_speakers < 2:
        return ""
    if val_speakers == 1:
        return ("the EER needs 2 validation speakers; set val_speakers 2 or more, or 0 for "
                "no validation")
    return (f"a corpus of {n_speakers} speakers leaves fewer than 2 to validate on after the "
            "2 that train; give it 4 speakers or more, or set val_speakers 0 for no validation")


def validation_set(wavs: list[np.ndarray], labels: list[str],
                   ) -> tuple[list[np.ndarray], list[str]] | None:
    """The validation clips an EER can be computed on: those of the speakers with 2 clips or
    more (some may have been left out as unusable), if 2 such speakers are left; else
    ``None`` (no validation), with one :class:`~emovc.errors.EmovcWarning` when clips were
    given."""
    from collections import Counter

    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= 2]
    if len({labels[i] for i in keep}) >= 2:
        return [wavs[i] for i in keep], [labels[i] for i in keep]
    if labels:
        warnings.warn(f"{WHAT} logs no validation EER: its {len(labels)} validation clips "
                      f"(of {len(counts)} speakers) do not hold 2 clips each of 2 speakers",
                      EmovcWarning, stacklevel=3)
    return None


def cache_settings(cfg: GE2ETrainConfig) -> dict:
    """What a clip's cached mel depends on besides its audio: the encoder's mel settings and
    the (resemblyzer) preprocessing."""
    keys = ("sample_rate", "n_mels", "window_ms", "hop_ms")
    return {"mel": {k: GE2EConfig(**cfg.model).to_dict()[k] for k in keys},
            "preprocess": "resemblyzer", "version": CACHE_VERSION}


def corpus_split(cfg: GE2ETrainConfig) -> tuple[list, list]:
    """``(training clips, validation clips)`` of the corpus, as catalogued: each speaker's
    first ``max_utterances_per_speaker`` clips by path, the speakers split by
    :func:`split_speakers` (which warns of speakers with one clip), the validation speakers'
    first :data:`VAL_CLIPS` clips."""
    from emovc.data.catalogs import catalog_corpus

    per: dict[str, list] = {}
    for utt in sorted(catalog_corpus(cfg.data_dir, cfg.corpus), key=lambda u: u.path):
        if len(per.setdefault(utt.speaker, [])) < cfg.max_utterances_per_speaker:
            per[utt.speaker].append(utt)
    train_names, val_names = split_speakers({s: len(u) for s, u in per.items()},
                                            cfg.val_speakers)
    return ([u for s in train_names for u in per[s]],
            [u for s in val_names for u in per[s][:VAL_CLIPS]])


def load_corpus(cfg: GE2ETrainConfig, progress: bool = True,
                split: tuple[list, list] | None = None,
                ) -> tuple[dict[str, list[np.ndarray]], list, list]:
    """Mels ``(frames, n_mels)`` of the training speakers' clips (cached per clip,
    :mod:`~emovc.training.clip_cache`) and (16 kHz waveforms, speaker labels) of the
    validation speakers' first :data:`VAL_CLIPS` clips (``split``: :func:`corpus_split`,
    which warns of speakers with one clip before any clip is read; catalogued here when not
    given). A clip that cannot be used (unreadable, silent, under 0.5 s) is left out with one
    warning for all of them.

    Raises:
        EmovcError: no clip of the training speakers can be used.
    """
    from emovc.audio import load_audio
    from emovc.pipelines.speaker import preprocess
    from emovc.training.clip_cache import clip_folder, load_clips, warn_left_out

    train_clips, val_clips = corpus_split(cfg) if split is None else split
    gcfg = GE2EConfig(**cfg.model)

    def wav(utt) -> np.ndarray:
        return preprocess(load_audio(utt.path), 16000, name=utt.path)

    folder = clip_folder(cfg.cache_dir, cfg.data_dir, "speaker-encoder", cache_settings(cfg))
    got, left_out = load_clips(train_clips, lambda u: {"mel": mel_frames(wav(u), gcfg)},
                               ("mel",), folder, "speaker-encoder corpus", progress)
    mels: dict[str, list[np.ndarray]] = {}
    for utt, a in got:
        mels.setdefault(utt.speaker, []).append(a["mel"])
    val, val_out = ([], {}) if not val_clips else load_clips(
        val_clips, lambda u: {"wav": wav(u)}, ("wav",), None,
        "speaker-encoder validation clips", progress)
    warn_left_out({**left_out, **val_out}, "speaker-encoder corpus")
    return mels, [a["wav"] for _, a in val], [u.speaker for u, _ in val]
