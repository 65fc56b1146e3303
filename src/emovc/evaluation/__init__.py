"""Evaluation suite: objective metrics, baselines, HTML report and listening tests.

Every quality number emovc reports comes from here::

    >>> from emovc.evaluation import run_evaluation, EvalConfig     # doctest: +SKIP
    >>> result, files = run_evaluation("runs/calm2angry", "eval/calm2angry")  # doctest: +SKIP

Metric building blocks (``mel_cepstral_distortion``, ``f0_scores``, ``speaker_similarity``,
``equal_error_rate``, ``word_error_rate``) can be used on their own, e.g. by the voice-cloning
benchmarks.
"""

from emovc.evaluation.alignment import dtw_path
from emovc.evaluation.analysis import MetricConfig, UtteranceFeatures, analyze_utterance
from emovc.evaluation.f0_metrics import (
    F0Scores,
    duration_ratio,
    f0_correlation,
    f0_rmse_cents,
    f0_scores,
    vuv_error_rate,
)
from emovc.evaluation.intelligibility import Transcriber, normalize_text, word_error_rate
from emovc.evaluation.manifest import EvalItem, read_manifest, write_manifest
from emovc.evaluation.mcd import mcd_waveforms, mel_cepstral_distortion
from emovc.evaluation.speaker import (
    EERResult,
    SpeakerEncoder,
    embed,
    equal_error_rate,
    speaker_similarity,
)
from emovc.evaluation.stats import binomial_ci, mean_ci

__all__ = [
    "EERResult", "EvalConfig", "EvalItem", "F0Scores", "MetricConfig", "SpeakerEncoder",
    "Transcriber", "UtteranceFeatures", "analyze_utterance", "binomial_ci", "dtw_path",
    "duration_ratio", "embed", "equal_error_rate", "evaluate", "f0_correlation",
    "f0_rmse_cents", "f0_scores", "mcd_waveforms", "mean_ci", "mel_cepstral_distortion",
    "normalize_text", "read_manifest", "run_evaluation", "speaker_similarity",
    "summarize_ratings", "vuv_error_rate", "word_error_rate", "write_manifest",
]

_LAZY = {  # heavier modules (matplotlib, jinja2, http.server) load on first use
    "EvalConfig": "emovc.evaluation.runner",
    "evaluate": "emovc.evaluation.runner",
    "run_evaluation": "emovc.evaluation.api",
    "summarize_ratings": "emovc.evaluation.listening_ratings",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emovc.evaluation' has no attribute {name!r}")
