"""Small fake pipelines for the app's unit tests (the e2e test uses the real ones)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emovc.app.limits import UploadLimits
from emovc.app.models import Factories
from emovc.app.services import AppBackend
from emovc.app.workdir import WorkDir
from emovc.audio import save_audio
from emovc.data.emotions import EMOTIONS, normalize_emotion
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import choice_error
from emovc.pipelines.ser_windows import recognise_file
from emovc.pipelines.source_choice import choose_source, recognise_long


class SourceRule:
    """EmotionConverter's source rule for a model without level offsets: a pair's other
    emotion, else the recogniser's choice among the sources other than the target."""

    source_emotions: list[str]
    target_emotions: list[str]
    uses_source = True

    def fixed_source(self, target):
        pair = self.source_emotions
        if len(pair) == 2 and sorted(pair) == sorted(self.target_emotions) and target in pair:
            return pair[1] if target == pair[0] else pair[0]
        return None

    @property
    def detects_source(self):
        return self.uses_source and any(self.fixed_source(t) is None
                                        for t in self.target_emotions)

    def detect_source(self, wav, sr, exclude=None, recognizer=None):
        return self.source_from_probs(recognise_long(recognizer, wav, sr), exclude)

    def source_from_probs(self, probs, exclude=None):
        allowed = [e for e in self.source_emotions if e != exclude]
        return choose_source(probs, allowed, emotions=self.source_emotions)


class FakeConverter(SourceRule):
    """calm <-> angry 'conversion': louder/quieter copy of the input."""

    source_emotions = ["calm", "angry"]
    target_emotions = ["calm", "angry"]

    def convert(self, wav, sr, target, source=None, intensity=1.0, pitch_level=1.0,
                envelope_gain=1.0, name="audio"):
        self.passed = {"pitch_level": pitch_level, "envelope_gain": envelope_gain}
        target = normalize_emotion(target)
        if target not in self.target_emotions:
            raise choice_error("target emotion", target, self.target_emotions)
        gain = 1.5 if target == "angry" else 0.6
        return (wav * (1 + (gain - 1) * intensity)).clip(-1, 1)


class FakeRecognizer:
    """Probabilities from the peak level: loud clips (peak > 0.4) are 'angry'; files are
    classified as EmotionRecognizer.predict_file_windows does (20 s windows, the
    may-not-be-speech warning)."""

    labels = list(EMOTIONS)

    def predict(self, wav, sr):
        loud = float(np.max(np.abs(wav))) > 0.4
        probs = {e: 0.02 for e in EMOTIONS}
        probs["angry" if loud else "calm"] = 1 - 0.02 * (len(EMOTIONS) - 1)
        return probs

    def predict_file_windows(self, path):
        return recognise_file(path, 16000, lambda wav, sr, name: self.predict(wav, sr))


class FakeCloner:
    """0.1 s of synthetic speech per character, in a fixed voice, at 22.05 kHz."""

    def __init__(self, style: str = "voice") -> None:
        self.style = style

    def clone(self, references, text, emotion=None):
        assert all(isinstance(r, Path) and r.is_file() for r in references)  # the uploads
        voice = EMOTION_VOICES.get(emotion or "neutral", EMOTION_VOICES["neutral"])
        return synthesize(voice, duration=max(0.8, 0.1 * len(text)), sr=22050, seed=3), 22050


def fake_embed(wav, sr):
    """16 log band energies, unit norm (stands in for a d-vector)."""
    spec = np.abs(np.fft.rfft(wav[: sr], n=1024)) + 1e-6
    bands = np.log(np.array([b.mean() for b in np.array_split(spec, 16)]))
    bands -= bands.mean()
    return bands / (np.linalg.norm(bands) + 1e-9)


def fake_evaluate(run_dir: Path, out_dir: Path, progress) -> Path:
    """The report and the data files next to it, as emovc evaluate writes them."""
    rows = (run_dir / "conversions.csv").read_text().strip().splitlines()
    report = out_dir / "report.html"
    report.write_text(f"<html><body><h1>report</h1><p>{len(rows) - 1} conversions</p>"
                      "</body></html>")
    (out_dir / "metrics.json").write_text("{}")
    (out_dir / "per_utterance.csv").write_text("item_id\n")
    return report


class FakeListeningServer:
    """Stands in for emovc.evaluation's listening-test server."""

    def __init__(self, run_dir: Path, ratings_csv: Path, host: str = "127.0.0.1") -> None:
        self.server_address = (host, 9)
        self.run_dir, self.ratings_csv, self.stopped = run_dir, ratings_csv, False

    def shutdown(self) -> None:
        self.stopped = True

    def server_close(self) -> None:
        pass


def fake_factories(**overrides) -> Factories:
    parts = dict(converter_names=lambda: ["fake-calm-angry"],
                 converter=lambda name: FakeConverter(), recognizer=FakeRecognizer,
                 cloner=FakeCloner, embedder=lambda: fake_embed, evaluator=fake_evaluate,
                 listening_test=FakeListeningServer)
    parts.update(overrides)
    return Factories(**parts)


@pytest.fixture()
def factories() -> Factories:
    return fake_factories()


@pytest.fixture()
def work(tmp_path: Path) -> WorkDir:
    return WorkDir(tmp_path / "work")


@pytest.fixture()
def backend(work: WorkDir) -> AppBackend:
    return AppBackend(work, UploadLimits(max_upload_mb=2.0, max_duration_s=10.0),
                      fake_factories())


@pytest.fixture()
def backend_with(work: WorkDir):
    """``make(**overrides)``: an AppBackend over the fake pipelines, some of them replaced."""

    def make(**overrides) -> AppBackend:
        return AppBackend(work, UploadLimits(max_upload_mb=2.0, max_duration_s=10.0),
                          fake_factories(**overrides))

    return make


@pytest.fixture()
def upload(work: WorkDir):
    """Write a clip into the work dir's upload folder (where gradio puts uploads)."""

    def make(name: str = "clip.wav", seconds: float = 2.0, emotion: str = "neutral",
             sr: int = 16000) -> Path:
        wav = synthesize(EMOTION_VOICES[emotion], duration=seconds, sr=sr, seed=0)
        return save_audio(work.subdir("uploads") / name, wav, sr)

    return make
