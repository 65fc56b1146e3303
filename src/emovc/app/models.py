"""Lazily loaded, cached pipelines for the web app, with injectable factories.

The app never imports a pipeline at start-up: each one is built on first use through a
factory and cached in a :class:`ModelCache` owned by the app instance (no module globals).
Tests inject small fake pipelines through :class:`Factories`; :func:`default_factories`
wires the real ones (``emovc.pipelines.*``, ``emovc.evaluation``). A pipeline that is not
installed yet raises :class:`ModelNotInstalled`, which the UI shows as a message.
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from emovc.errors import ConfigError, EmovcError


class ModelNotInstalled(EmovcError):
    """A pipeline or bundled model this feature needs is not available."""


class Converter(Protocol):
    """What the convert tab needs from an emotion converter
    (:class:`~emovc.pipelines.conversion.EmotionConverter`'s methods of these names)."""

    source_emotions: list[str]
    target_emotions: list[str]
    detects_source: bool

    def fixed_source(self, target: str) -> str | None: ...

    def detect_source(self, wav: np.ndarray, sr: int, exclude: str | None = None,
                      recognizer: Recognizer | None = None) -> str: ...

    def source_from_probs(self, probs: dict[str, float], exclude: str | None = None
                          ) -> str: ...

    def convert(self, wav: np.ndarray, sr: int, target: str, source: str | None = None,
                intensity: float = 1.0, pitch_level: float = 1.0,
                envelope_gain: float = 1.0, renderer: str | None = None,
                voice_quality: float | None = None) -> np.ndarray: ...


class Recognizer(Protocol):
    """What the recognise tab needs from an emotion recogniser
    (:class:`~emovc.pipelines.recognition.EmotionRecognizer`'s methods of these names)."""

    labels: list[str]

    def predict(self, wav: np.ndarray, sr: int) -> dict[str, float]: ...

    def predict_file_windows(self, path: Path) -> Any: ...


ProgressFn = Callable[[float, str], None]  # (fraction 0..1, description)


@dataclass
class Factories:
    """How to build each pipeline (replace any of them in tests).

    Attributes:
        converter_names: names of the selectable conversion models.
        converter: name -> :class:`Converter`.
        recognizer: () -> :class:`Recognizer`.
        cloner: style -> object with the cloning pipeline's ``clone`` method
            (style: one of ``emovc.pipelines.cloning.STYLES``).
        embedder: () -> speaker embedding function ``(wav (n,), sr) -> (D,)``.
        evaluator: ``(run_dir, out_dir, progress) -> report.html path``.
        listening_test: ``(run_dir, ratings_csv, host) -> server`` listening on a free port
            of ``host`` (the app's own interface), with ``.server_address`` ``(host, port)``,
            ``.shutdown()`` and ``.server_close()``.
        missing: ``() -> {tab: message}`` for features that are not installed (cheap check,
            loads nothing).
    """

    converter_names: Callable[[], list[str]]
    converter: Callable[[str], Converter]
    recognizer: Callable[[], Recognizer]
    cloner: Callable[[str], Any]
    embedder: Callable[[], Callable[[np.ndarray, int], np.ndarray]]
    evaluator: Callable[[Path, Path, ProgressFn], Path]
    listening_test: Callable[[Path, Path, str], Any]
    missing: Callable[[], dict[str, str]] = dict


class ModelCache:
    """Builds each pipeline once (thread-safe) and keeps it for the life of the app."""

    def __init__(self, factories: Factories) -> None:
        self.factories = factories
        self._items: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The cached object for ``key``, built with ``build()`` on first use."""
        with self._lock:
            if key not in self._items:
                self._items[key] = build()
            return self._items[key]

    def converter(self, name: str) -> Converter:
        """Emotion converter ``name`` (a bundled model name)."""
        return self.get(("converter", name), lambda: self.factories.converter(name))

    def recognizer(self) -> Recognizer:
        """The default emotion recogniser."""
        return self.get("recognizer", self.factories.recognizer)

    def cloner(self, style: str = "voice") -> Any:
        """The offline voice cloner in one of the cloning styles (voice, balanced, clear)."""
        return self.get(("cloner", style), lambda: self.factories.cloner(style))

    def embedder(self) -> Callable[[np.ndarray, int], np.ndarray]:
        """The speaker-embedding function."""
        return self.get("embedder", self.factories.embedder)


def _import(module: str, attr: str, feature: str) -> Any:
    """``module.attr``, or :class:`ModelNotInstalled` naming the missing feature."""
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ModelNotInstalled(f"{feature} is not installed in this emovc build "
                                f"({module}.{attr} unavailable: {exc})") from None


def _missing() -> dict[str, str]:
    """Which tabs lack their pipeline module or bundled model (nothing is imported)."""
    from emovc.pretrained.registry import available

    needs = {"convert": ("emovc.pipelines.conversion", "emotion-converter", "emotion conversion"),
             "recognise": ("emovc.pipelines.recognition", "emotion-recognizer",
                           "emotion recognition"),
             "clone": ("emovc.pipelines.cloning", None, "voice cloning"),
             "evaluate": ("emovc.evaluation.api", None, "the evaluation suite")}
    out = {}
    for tab, (module, kind, feature) in needs.items():
        if importlib.util.find_spec(module) is None:
            out[tab] = f"{feature} is not installed in this emovc build ({module} missing)"
        elif kind and not available(kind):
            out[tab] = f"no {feature} model is installed (no bundled {kind!r} model)"
    return out


def _converter_names() -> list[str]:
    """Bundled conversion models, the pipeline's default model first."""
    from emovc.pretrained.registry import available

    names = [m.name for m in available("emotion-converter")]
    try:
        default = importlib.import_module("emovc.pipelines.conversion").DEFAULT_MODEL
    except (ImportError, AttributeError):
        return names
    return sorted(names, key=lambda name: name != default)


def _converter(name: str) -> Converter:
    cls = _import("emovc.pipelines.conversion", "EmotionConverter", "emotion conversion")
    if not name:
        raise ModelNotInstalled("no emotion conversion model is installed (none bundled)")
    return cls.from_pretrained(name)


def _recognizer() -> Recognizer:
    cls = _import("emovc.pipelines.recognition", "EmotionRecognizer", "emotion recognition")
    try:
        return cls.from_pretrained("default")
    except ConfigError as exc:  # no bundled model
        raise ModelNotInstalled(f"emotion recognition model not installed: {exc}") from None


def _cloner(style: str) -> Any:
    cls = _import("emovc.pipelines.cloning", "VoiceCloner", "voice cloning")
    config = _import("emovc.pipelines.cloning", "CloneConfig", "voice cloning")
    return cls(config.for_style(style))


def _embedder() -> Callable[[np.ndarray, int], np.ndarray]:
    """Resemblyzer GE2E d-vectors (weights ship inside the wheel): ``emovc similarity``'s."""
    cls = _import("emovc.pipelines.speaker", "SpeakerEncoder", "speaker embedding")
    return cls.from_pretrained().embed


def _evaluator(run_dir: Path, out_dir: Path, progress: ProgressFn) -> Path:
    """``emovc evaluate RUN_DIR -o OUT_DIR`` as a library call; returns ``report.html``."""
    run_evaluation = _import("emovc.evaluation.api", "run_evaluation", "the evaluation suite")
    eval_config = _import("emovc.evaluation.runner", "EvalConfig", "the evaluation suite")
    read_manifest = _import("emovc.evaluation.manifest", "read_manifest", "the evaluation suite")
    has_text = any(item.text for item in read_manifest(run_dir))  # ASR only scores with text
    steps = iter(np.linspace(0.2, 0.85, 8))
    _, paths = run_evaluation(run_dir, out_dir, eval_config(workers=1, asr=has_text),
                              log=lambda msg: progress(float(next(steps, 0.85)), msg))
    return Path(paths["report"])


def _listening_test(run_dir: Path, ratings_csv: Path, host: str = "127.0.0.1") -> Any:
    """Serve the listening test of ``run_dir`` on a free port of ``host`` (the app's
    interface: with ``--host 0.0.0.0`` participants on the network can reach it) in a thread.

    Returns:
        the running ``ListeningServer`` (``.server_address``, ``.shutdown()``,
        ``.server_close()``; its ``.url`` names 127.0.0.1 whatever the host).
    """
    read_manifest = _import("emovc.evaluation.manifest", "read_manifest", "the listening test")
    build_trials = _import("emovc.evaluation.listening", "build_trials", "the listening test")
    server_cls = _import("emovc.evaluation.listening_server", "ListeningServer",
                         "the listening test")

    class OnHost(server_cls):  # the library's server binds 127.0.0.1: rebind before listening
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        def server_bind(self) -> None:
            self.server_address = (host, self.server_address[1])
            super().server_bind()

    server = OnHost(build_trials(read_manifest(run_dir)), ratings_csv, port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True,
                     name="emovc-listening-test").start()
    return server


def default_factories() -> Factories:
    """Factories of the real pipelines (imported only when first used)."""
    return Factories(converter_names=_converter_names, converter=_converter,
                     recognizer=_recognizer, cloner=_cloner, embedder=_embedder,
                     evaluator=_evaluator, listening_test=_listening_test, missing=_missing)
