"""Data layer: corpus catalogs, manifests, speaker-independent splits and the feature cache.

Example::

    from emovc.data import catalog_corpus, prepare_corpus, ravdess_split
    manifest = catalog_corpus("/data/ravdess16k")   # Manifest of 1200 utterances
    split = ravdess_split(manifest)                  # train actors 01-16, val 17-20
    cache = prepare_corpus("/data/ravdess16k")       # WORLD + mel features, cached
    cache.load(split.val[0])["mcep"].shape           # (T, 36)

Preprocessing, feature sets and the cache (:mod:`emovc.data.preprocess`,
:mod:`emovc.data.featuresets`, :mod:`emovc.data.prepare`, :mod:`emovc.data.cache`) import the
audio/feature layers and are loaded lazily so that ``import emovc.data`` stays light.
"""

from __future__ import annotations

from emovc.data.catalogs import CATALOGS, catalog_corpus, detect_corpus, scan_corpus
from emovc.data.emotions import EMOTIONS, emotion_index, normalize_emotion
from emovc.data.manifest import Manifest, Utterance
from emovc.data.splits import Split, kfold_by_speaker, ravdess_split, split_by_speaker

_LAZY = {
    "PreparedCorpus": "emovc.data.cache",
    "default_cache_dir": "emovc.data.cache",
    "FEATURE_SETS": "emovc.data.featuresets",
    "MelConfig": "emovc.data.featuresets",
    "PreprocessConfig": "emovc.data.preprocess",
    "load_preprocessed": "emovc.data.preprocess",
    "preprocess_waveform": "emovc.data.preprocess",
    "prepare_corpus": "emovc.data.prepare",
    "prepare_manifest": "emovc.data.prepare",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emovc.data' has no attribute {name!r}")


__all__ = [
    "CATALOGS", "EMOTIONS", "Manifest", "Split", "Utterance", "catalog_corpus", "detect_corpus",
    "emotion_index", "kfold_by_speaker", "normalize_emotion", "ravdess_split", "scan_corpus",
    "split_by_speaker", *_LAZY,
]
