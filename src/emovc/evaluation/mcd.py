"""Mel-cepstral distortion (MCD) between two utterances after DTW alignment.

Definition (fixed across emovc): with ``c`` the pyworld-coded envelope of 25 coefficients
minus c0 (24 dims) and a FastDTW path ``P`` (radius 1, Euclidean on ``c``)::

    MCD = 1/|P| * Σ_{(i,j) ∈ P} (10 / ln 10) * sqrt(2 * Σ_d (c_a[i, d] - c_b[j, d])²)   [dB]

Averaged over every frame pair of the path (silences included). This whole-path MCD is the
number the literature reports; but on takes with long silences (RAVDESS: about half of each
file) it mostly measures how the silences are rendered, so the evaluation also reports

    MCD_speech = the same mean over the steps of ``P`` whose frames are speech on both sides

(:func:`~emovc.evaluation.analysis.speech_frames`: within 30 dB of each file's active speech
level), and the share of the path that is not (``nonspeech_share``: the steps with a
non-speech frame on either side).
"""

from __future__ import annotations

import numpy as np

from emovc.evaluation.alignment import dtw_path
from emovc.evaluation.analysis import MetricConfig, UtteranceFeatures, analyze_utterance
from emovc.evaluation.f0_metrics import f0_scores

MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)
MIN_SPEECH_PAIRS = 10  # fewer path steps that are speech on both sides: no MCD over speech


def frame_mcd(mc_a: np.ndarray, mc_b: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Per-path-step MCD in dB, ``(K,)``, for coded envelopes ``(Ta, D)``/``(Tb, D)``."""
    diff = mc_a[path[:, 0]] - mc_b[path[:, 1]]
    return MCD_SCALE * np.sqrt(np.sum(diff * diff, axis=1))


def mel_cepstral_distortion(mc_a: np.ndarray, mc_b: np.ndarray,
                            path: np.ndarray | None = None, radius: int = 1) -> float:
    """Mean MCD (dB) along ``path`` (computed with FastDTW when not given)."""
    if path is None:
        path = dtw_path(mc_a, mc_b, radius)
    return float(np.mean(frame_mcd(mc_a, mc_b, path)))


def align(a: UtteranceFeatures, b: UtteranceFeatures, radius: int = 1) -> np.ndarray:
    """FastDTW path ``(K, 2)`` between two analysed utterances (on their coded envelopes)."""
    return dtw_path(a.mcep, b.mcep, radius)


def mcd_waveforms(wav_a: np.ndarray, wav_b: np.ndarray,
                  cfg: MetricConfig = MetricConfig()) -> float:
    """MCD (dB) between two waveforms at ``cfg.sample_rate`` (analysis + alignment included)."""
    fa, fb = analyze_utterance(wav_a, cfg), analyze_utterance(wav_b, cfg)
    return mel_cepstral_distortion(fa.mcep, fb.mcep, radius=cfg.dtw_radius)


def speech_mcd(frame_db: np.ndarray, a: UtteranceFeatures, b: UtteranceFeatures,
               path: np.ndarray) -> dict[str, float]:
    """``{"mcd_speech_db": mean of the per-step MCD ``frame_db`` (``(K,)`` dB) over the
    steps of ``path`` that are speech in both ``a`` and ``b``, "nonspeech_share": share of
    the steps that are not}``; the mean is NaN over fewer than :data:`MIN_SPEECH_PAIRS`
    steps, both are NaN when either utterance has no speech marks."""
    nan = float("nan")
    if a.speech is None or b.speech is None:
        return {"mcd_speech_db": nan, "nonspeech_share": nan}
    both = a.speech[path[:, 0]] & b.speech[path[:, 1]]
    k = int(both.sum())
    return {"mcd_speech_db": float(np.mean(frame_db[both])) if k >= MIN_SPEECH_PAIRS else nan,
            "nonspeech_share": 1.0 - k / len(path)}


def compare_features(a: UtteranceFeatures, b: UtteranceFeatures,
                     radius: int = 1) -> dict[str, float]:
    """The evaluation's distortion metrics of analysed utterance ``a`` against ``b`` along
    one FastDTW path (:func:`align`, ``radius`` frames): ``mcd_db`` (whole path),
    ``mcd_speech_db`` and ``nonspeech_share`` (:func:`speech_mcd`), ``f0_rmse_cents``,
    ``f0_corr``, ``vuv_error`` (share of path steps whose voicing differs) and
    ``voiced_pairs``. ``emovc evaluate`` scores each output against its reference with it."""
    path = align(a, b, radius)
    frame_db = frame_mcd(a.mcep, b.mcep, path)
    return {"mcd_db": float(np.mean(frame_db)), **speech_mcd(frame_db, a, b, path),
            **f0_scores(a.f0, b.f0, path).to_dict()}


def compare_waveforms(wav_a: np.ndarray, wav_b: np.ndarray,
                      cfg: MetricConfig = MetricConfig()) -> dict[str, float]:
    """:func:`compare_features` of ``wav_a`` against ``wav_b`` (both ``(n,)`` float at
    ``cfg.sample_rate`` Hz), each analysed as the evaluation analyses its files (e.g. a
    vocoder's resynthesis against its input)."""
    return compare_features(analyze_utterance(wav_a, cfg), analyze_utterance(wav_b, cfg),
                            cfg.dtw_radius)
