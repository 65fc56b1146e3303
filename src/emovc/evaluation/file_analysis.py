"""Stage 1 of an evaluation: each unique audio file analysed once — WORLD features, an ASR
transcript and a speaker embedding — in a process pool (see :mod:`emovc.evaluation.runner`)."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context

import numpy as np

from emovc.audio.io import audio_info, load_audio, load_audio_with_rate, resample, save_audio
from emovc.audio.processing import soft_limit
from emovc.errors import (
    AudioError,
    EmovcError,
    broken_pool_error,
    call_recording_warnings,
    reissue_warnings,
)
from emovc.evaluation.analysis import MetricConfig, UtteranceFeatures, analyze_utterance
from emovc.evaluation.intelligibility import AsrConfig, Transcriber
from emovc.evaluation.speaker import SpeakerEncoder
from emovc.features.world import resynthesize


@dataclass
class FileAnalysis:
    """Per-file results of stage 1 (``features`` None and ``error`` set on failure)."""

    path: str
    native_sr: int = 0  # the file's own sample rate in Hz (0: not read)
    channels: int = 0  # the file's channels, mixed down to mono (0: not read)
    features: UtteranceFeatures | None = None
    hypothesis: str | None = None
    embedding: np.ndarray | None = None
    error: str = ""
    embedding_error: str = ""  # why ``embedding`` is None although the file was analysed
    seconds: dict = field(default_factory=dict)


def _analyze_batch(tasks: list[tuple[str, str]], cfg: MetricConfig, asr: AsrConfig | None,
                   speaker: str | None, in_worker: bool = False) -> list[FileAnalysis]:
    """Stage 1 worker: ``(path, resynth_from)`` tasks → analyses.

    When ``resynth_from`` is set, ``path`` is first written as the WORLD resynthesis of it.
    ``speaker``: the speaker encoder's name or path (``None``: no embeddings). The ASR decoder
    and the speaker encoder are created once per batch.
    """
    if in_worker:  # one torch thread per worker process: the pool already uses every core
        import torch

        torch.set_num_threads(1)
    transcriber = Transcriber(asr) if asr is not None else None
    encoder = SpeakerEncoder.from_pretrained(speaker) if speaker is not None else None
    return [_analyze_file(path, src, cfg, transcriber, encoder) for path, src in tasks]


def _analyze_file(path: str, resynth_from: str, cfg: MetricConfig,
                  transcriber: Transcriber | None, encoder: SpeakerEncoder | None,
                  ) -> FileAnalysis:
    res = FileAnalysis(path)
    clock = time.process_time  # CPU seconds: stage costs stay comparable on a busy machine
    t0 = clock()
    try:
        if resynth_from:
            src = load_audio(resynth_from, cfg.sample_rate)
            # WORLD overshoots full scale on loud inputs: limited as `emovc resynth` does.
            # Float samples: 16-bit PCM would add its noise floor (-101 dBFS) to the silences
            # of quiet takes (RAVDESS's are near -117 dBFS), and the baseline would measure
            # that noise, not the vocoder (docs/evaluation.md, "Systems scored in every run")
            save_audio(path, soft_limit(resynthesize(src, cfg.world)), cfg.sample_rate,
                       force=True, comment="emovc evaluation: WORLD resynthesis baseline",
                       float_samples=True)
            res.seconds["resynth"] = clock() - t0
        wav, res.native_sr = load_audio_with_rate(path)
        res.channels = _channels(path)
        wav = resample(wav, res.native_sr, cfg.sample_rate)  # as load_audio(path, rate)
        t0 = clock()
        res.features = analyze_utterance(wav, cfg)
        res.seconds["world"] = clock() - t0
    except Exception as exc:  # noqa: BLE001 — one bad file must not sink the run
        res.error = f"{type(exc).__name__}: {exc}"
        return res
    if transcriber is not None:
        t0 = clock()
        res.hypothesis = transcriber.transcribe(wav, cfg.sample_rate)
        res.seconds["asr"] = clock() - t0
    if encoder is not None:
        t0 = clock()
        try:
            res.embedding = encoder.embed(wav, cfg.sample_rate)
        except EmovcError as exc:  # under 0.5 s or silent: similarity becomes NaN, with a note
            res.embedding_error = str(exc)
        res.seconds["speaker"] = clock() - t0
    return res


def _channels(path: str) -> int:
    """The channels ``path``'s header declares (0 where libsndfile cannot read it, e.g. an
    mp3 that only the fallback decoder reads)."""
    try:
        return audio_info(path).channels
    except AudioError:
        return 0


def run_stage1(tasks: list[tuple[str, str]], metrics: MetricConfig, asr: AsrConfig | None,
               speaker: str | None, workers: int) -> dict[str, FileAnalysis]:
    """Analyse every ``(path, resynth_from)`` task once, in ``workers`` spawned processes
    (here when 1 or few tasks); ``asr`` None = no transcripts, ``speaker``: embeddings by
    this speaker encoder (name or path, see
    :meth:`~emovc.pipelines.speaker.SpeakerEncoder.from_pretrained`; None = none)."""
    if workers <= 1 or len(tasks) < 4:
        return {r.path: r for r in _analyze_batch(tasks, metrics, asr, speaker)}
    # resynthesis tasks are slowest: spread them, then deal tasks round-robin into batches
    tasks = sorted(tasks, key=lambda t: not t[1])
    n_batches = min(len(tasks), 4 * workers)
    batches = [tasks[i::n_batches] for i in range(n_batches)]
    # spawn: workers must not inherit torch/numba thread pools of this process
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(partial(call_recording_warnings, _analyze_batch), batches,
                                    [metrics] * n_batches, [asr] * n_batches,
                                    [speaker] * n_batches, [True] * n_batches))
    except BrokenProcessPool as exc:
        raise broken_pool_error(exc) from None
    out = {}
    for batch, records in results:
        reissue_warnings(records)  # the workers' warnings, shown here (once, in our format)
        out.update((r.path, r) for r in batch)
    return out
