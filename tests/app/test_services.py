"""The app's operations with fake pipelines injected (no gradio, no real models)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.app.limits import UploadLimits
from emovc.app.models import ModelCache, ModelNotInstalled, default_factories
from emovc.app.services import AUTO, AppBackend
from emovc.app.session import MAX_SESSIONS, SESSION_GRACE_S, Sessions
from emovc.app.voices import SYNTHETIC_VOICES
from emovc.app.workdir import PathOutsideWorkDir, WorkDir
from emovc.audio.io import read_comment
from emovc.errors import AudioError, ConfigError

from .conftest import FakeCloner, SourceRule, fake_embed, fake_factories


def test_convert_writes_output_figure_and_session_row(backend: AppBackend, upload) -> None:
    steps = []
    res = backend.convert(str(upload("calm.wav", emotion="calm")), "angry", AUTO, 1.0,
                          "fake-calm-angry", lambda f, d: steps.append(f))
    out, sr = sf.read(res.output)
    assert sr == 16000 and len(out) == 32000
    assert res.output.parent == backend.work.root / "outputs"
    assert res.source == "calm"  # auto-detected among the model's source emotions
    assert "calm → angry" in res.summary and "RTF" in res.summary
    assert len(res.figure.axes) == 3
    assert steps == sorted(steps) and steps[-1] == 1.0
    assert "emotion conversion calm -> angry" in read_comment(res.output)
    assert len(backend.session().run.rows) == 1


def test_convert_intensity_zero_and_explicit_source(backend: AppBackend, upload) -> None:
    clip = upload("x.wav", emotion="calm")
    res = backend.convert(str(clip), "angry", "calm", 0.0, "fake-calm-angry", pitch_level=0.4,
                          envelope_gain=1.5)
    fake = backend.models.converter("fake-calm-angry")
    assert fake.passed == {"pitch_level": 0.4, "envelope_gain": 1.5}
    for text in (res.summary, read_comment(res.output)):
        assert "pitch level 0.4" in text and "envelope gain 1.5" in text
    backend.convert(str(clip), "angry", "calm", 0.0, "fake-calm-angry")
    assert fake.passed == {"pitch_level": 1.0, "envelope_gain": 1.0}  # a fake's defaults: 1
    fake.pitch_level, fake.envelope_gain = 0.5, 1.3  # a model that sets its own defaults
    backend.convert(str(clip), "angry", "calm", 0.0, "fake-calm-angry")
    assert fake.passed == {"pitch_level": 0.5, "envelope_gain": 1.3}
    src, _ = sf.read(clip)
    out, _ = sf.read(res.output)
    np.testing.assert_allclose(out, src, atol=2e-4)  # fake: intensity 0 = unchanged


class RenderingFake:
    """A fake converter that offers a choice of renderer, like the WORLD-feature models."""

    source_emotions = target_emotions = ["calm", "angry"]
    renderers = ("world", "source")
    renderer = "source"
    voice_quality = 1.0
    voice_quality_stats = {"calm": {"jitter": 0.01, "shimmer_db": 0.5}}

    def convert(self, wav, sr, target, source=None, intensity=1.0, pitch_level=1.0,
                envelope_gain=1.0, renderer=None, voice_quality=None, name="audio"):
        self.passed = renderer
        self.quality = voice_quality
        return wav


def test_convert_renderer_choice(backend: AppBackend, backend_with, upload) -> None:
    fake = RenderingFake()
    rendering = backend_with(converter=lambda name: fake)
    clip = str(upload(emotion="calm"))
    assert rendering.converter_renderers("fake-calm-angry") == (["world", "source"], "source")
    res = rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry")
    assert fake.passed == "source" and "renderer source" in res.summary  # the model's own
    assert "renderer source" in read_comment(res.output)
    rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", renderer="world")
    assert fake.passed == "world"
    with pytest.raises(ConfigError, match="unknown renderer 'praat'; valid choices: world"):
        rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", renderer="praat")
    # a model without the choice (the plain fake, like a SpectroGAN)
    assert backend.converter_renderers("fake-calm-angry") == ([], None)
    with pytest.raises(ConfigError, match="has no choice of renderer"):
        backend.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", renderer="world")


def test_convert_voice_quality_choice(backend: AppBackend, backend_with, upload) -> None:
    fake = RenderingFake()
    rendering = backend_with(converter=lambda name: fake)
    clip = str(upload(emotion="calm"))
    assert rendering.converter_voice_quality("fake-calm-angry") == 1.0  # the model's own
    res = rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry")
    assert fake.quality == 1.0 and "voice quality 1" in res.summary
    res = rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", voice_quality=0.5)
    assert fake.quality == 0.5 and "voice quality 0.5" in read_comment(res.output)
    res = rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", renderer="world")
    assert "voice quality" not in res.summary  # WORLD's rendering has no cycles to perturb
    with pytest.raises(ConfigError, match="voice quality must be between 0 and 3"):
        rendering.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", voice_quality=4)
    # a model without the choice (the plain fake, like a SpectroGAN)
    assert backend.converter_voice_quality("fake-calm-angry") is None
    with pytest.raises(ConfigError, match="has no voice-quality setting"):
        backend.convert(clip, "angry", "calm", 1.0, "fake-calm-angry", voice_quality=1.0)


def test_convert_errors_are_readable(backend: AppBackend, upload) -> None:
    clip = str(upload())
    with pytest.raises(ConfigError, match="unknown target emotion 'sad'; valid choices: calm"):
        backend.convert(clip, "sad", None, 1.0, "fake-calm-angry")
    with pytest.raises(ConfigError, match="choose a target emotion"):
        backend.convert(clip, "", None, 1.0, "fake-calm-angry")
    with pytest.raises(ConfigError, match="intensity must be between 0 and 1"):
        backend.convert(clip, "angry", None, 1.5, "fake-calm-angry")
    with pytest.raises(ConfigError, match="pitch level must be between 0 and 1"):
        backend.convert(clip, "angry", None, 1.0, "fake-calm-angry", pitch_level=-0.1)
    with pytest.raises(ConfigError, match="envelope gain must be between 0 and 3"):
        backend.convert(clip, "angry", None, 1.0, "fake-calm-angry", envelope_gain=5)
    with pytest.raises(ModelNotInstalled):
        backend.convert(clip, "angry", None, 1.0, "")
    with pytest.raises(AudioError, match="no audio given"):
        backend.convert(None, "angry", None, 1.0, "fake-calm-angry")


def test_detect_source_restricted_to_model(backend: AppBackend, upload) -> None:
    # a pairwise model: the source follows from the target, so none is set on upload
    label, note = backend.detect_source(str(upload(emotion="angry")), "fake-calm-angry")
    assert label == AUTO and "converts between calm and angry" in note
    assert backend.converter_emotions("fake-calm-angry") == (["calm", "angry"],
                                                              ["calm", "angry"])


def test_recognise(backend: AppBackend, upload) -> None:
    res = backend.recognise(str(upload(emotion="angry")))
    assert max(res.probabilities, key=res.probabilities.get) == "angry"
    assert res.summary.startswith("most likely: angry")
    assert len(res.figure.axes[0].patches) == 8  # one bar per emotion


def test_clone_needs_consent_and_text(backend: AppBackend, upload) -> None:
    ref = str(upload("ref.wav"))
    with pytest.raises(ConfigError, match="consent"):
        backend.clone([ref], "hello", None, consent=False)
    with pytest.raises(ConfigError, match="enter the text"):
        backend.clone([ref], "  ", None, consent=True)
    with pytest.raises(AudioError, match="no reference given"):
        backend.clone([None], "hello", None, consent=True)


def test_clone_output_similarity_and_map(backend: AppBackend, upload) -> None:
    res = backend.clone([str(upload("ref.wav"))], "Kids are talking.", "happy", consent=True)
    out, sr = sf.read(res.output)
    assert sr == 16000 and abs(len(out) - 0.1 * 17 * 16000) <= 1
    assert -1.0 <= res.similarity <= 1.0 and "speaker similarity" in res.summary
    texts = [t.get_text() for t in res.figure.axes[0].texts]
    assert {"reference", "output", *SYNTHETIC_VOICES} <= set(texts)
    # the reference now is a known voice for later maps
    assert len(backend.session().uploads.voices()) == 1


def test_evaluate_session_conversions(backend: AppBackend, upload) -> None:
    with pytest.raises(ConfigError, match="nothing to evaluate yet"):
        backend.evaluate(None)
    backend.convert(str(upload("a.wav", emotion="calm")), "angry", None, 1.0, "fake-calm-angry")
    res = backend.evaluate([])
    assert res.report.is_file() and res.report.is_relative_to(backend.work.root / "reports")
    assert "1 conversions" in res.report.read_text()
    run = next((backend.work.root / "runs").iterdir())
    server = backend._listening
    assert res.listening_url == "http://127.0.0.1:9/" and server.run_dir == run
    assert server.ratings_csv == run / "listening" / "ratings.csv"
    backend.close()
    assert server.stopped and backend._listening is None
    for row in backend.session().run.rows:  # purged outputs drop out of the session
        Path(row["converted"]).unlink()
    with pytest.raises(ConfigError, match="nothing to evaluate yet"):
        backend.evaluate(None)
    rows = list(csv.DictReader(open(run / "conversions.csv")))
    assert rows[0]["target_emotion"] == "angry"
    assert all((run / rows[0][c]).is_file() for c in ("source", "converted"))


def test_a_frozen_run_starts_its_purge_clock_afresh(backend: AppBackend, upload) -> None:
    """The run folder's copies are new files: an hour-old conversion copied into a run must not
    be purged with the session's old files."""
    import os
    import time

    backend.convert(str(upload("a.wav", emotion="calm")), "angry", None, 1.0, "fake-calm-angry")
    hour_ago = time.time() - 3600
    for row in backend.session().run.rows:
        for col in ("source", "converted"):
            os.utime(row[col], (hour_ago, hour_ago))
    backend.evaluate([])
    run = next((backend.work.root / "runs").iterdir())
    assert all(p.stat().st_mtime > hour_ago + 1800 for p in run.glob("*.wav"))



def _map_names(result) -> set[str]:
    return {t.get_text() for t in result.figure.axes[0].texts}


def test_sessions_see_only_their_own_conversions_and_uploads(backend_with, upload) -> None:
    """Two browsers: neither evaluates the other's conversions or sees its references on the
    speaker map; the synthetic voices are shared and embedded once."""
    embedded = []
    backend = backend_with(embedder=lambda: lambda wav, sr: embedded.append(1) or fake_embed(
        wav, sr))
    clip = str(upload("a.wav", emotion="calm"))
    backend.convert(clip, "angry", None, 1.0, "fake-calm-angry", session="alice")
    backend.convert(clip, "calm", None, 1.0, "fake-calm-angry", session="alice")
    alice_voice = str(upload("alice-voice.wav"))
    backend.clone([alice_voice], "Kids.", None, True, session="alice")
    with pytest.raises(ConfigError, match="nothing to evaluate yet"):
        backend.evaluate(None, session="bob")
    bob = backend.clone([str(upload("bob-voice.wav"))], "Kids.", None, True, session="bob")
    assert "alice-voice" not in _map_names(bob) and set(SYNTHETIC_VOICES) <= _map_names(bob)
    backend.convert(clip, "angry", None, 1.0, "fake-calm-angry", session="bob")
    assert "1 conversions" in backend.evaluate(None, session="bob").report.read_text()
    assert "2 conversions" in backend.evaluate(None, session="alice").report.read_text()
    again = backend.clone([alice_voice], "Kids.", None, True, session="alice")
    assert "bob-voice" not in _map_names(again) and "alice-voice" in _map_names(again)
    assert [v.name for v in backend.session("bob").uploads.voices()] == ["bob-voice"]
    assert len(embedded) == len(SYNTHETIC_VOICES) + 3 * 2  # (reference, output) per clone
    with pytest.raises(ConfigError, match="nothing to evaluate yet"):
        backend.evaluate(None)  # callers without a session key have a session of their own


def test_an_ended_session_forgets_its_conversions_and_uploads(work: WorkDir, upload) -> None:
    """The state was dropped as soon as Gradio's unload fired, which it does whenever the
    heartbeat stream ends (a dropped network, a laptop asleep), not only when the tab closes:
    the reconnected tab had lost its conversions. Now it is forgotten after a grace period
    with no use since; a use before then revives it."""
    now = [0.0]
    backend = AppBackend(work, factories=fake_factories(), session_grace_s=600,
                         clock=lambda: now[0])
    res = backend.convert(str(upload("a.wav", emotion="calm")), "angry", None, 1.0,
                          "fake-calm-angry", session="tab")
    backend.clone([str(upload("ref.wav"))], "Kids.", None, True, session="tab")
    backend.session("other")
    backend.end_session("tab")
    backend.end_session("never-seen")  # an unknown key is no error
    now[0] = 599.0  # the tab reconnects within the grace period: its state is still there
    assert "tab" in backend.sessions and "never-seen" not in backend.sessions
    assert "1 conversion" in backend.evaluate(None, session="tab").report.read_text()
    backend.end_session("tab")  # the use revived it: a new end starts a new grace period
    now[0] = 1198.0
    assert "tab" in backend.sessions
    now[0] = 1199.0
    assert "tab" not in backend.sessions and backend.sessions.keys() == ["other"]
    assert res.output.is_file()  # the files stay until the work dir's purge
    with pytest.raises(ConfigError, match="nothing to evaluate yet"):
        backend.evaluate(None, session="tab")  # the same key again is a fresh session
    later = backend.clone([str(upload("new.wav"))], "Kids.", None, True, session="tab")
    assert "ref" not in _map_names(later)
    assert AppBackend(work).sessions.grace_s == SESSION_GRACE_S == 3600
    with pytest.raises(ValueError, match="grace_s"):
        Sessions(grace_s=-1)


def test_the_session_cap_drops_the_least_recently_used(work: WorkDir, upload) -> None:
    assert AppBackend(work).sessions.max_sessions == MAX_SESSIONS == 1000
    backend = AppBackend(work, factories=fake_factories(), max_sessions=2)
    clip = str(upload("a.wav", emotion="calm"))
    for key in ("first", "second"):
        backend.convert(clip, "angry", None, 1.0, "fake-calm-angry", session=key)
    backend.evaluate(None, session="first")  # used again: "second" is now the oldest
    backend.convert(clip, "angry", None, 1.0, "fake-calm-angry", session="third")
    assert backend.sessions.keys() == ["first", "third"]
    with pytest.raises(ConfigError, match="nothing to evaluate yet"):
        backend.evaluate(None, session="second")
    assert backend.sessions.keys() == ["third", "second"]  # "first" made way in turn
    with pytest.raises(ValueError, match="max_sessions"):
        Sessions(0)


def test_evaluate_uploaded_run_matches_files_by_name(backend: AppBackend, upload,
                                                     work: WorkDir) -> None:
    a, b = upload("src.wav"), upload("conv.wav", emotion="angry")
    manifest = work.subdir("uploads") / "conversions.csv"
    manifest.write_text("source,converted,target_emotion\n/etc/elsewhere/src.wav,conv.wav,angry\n")
    assert backend.evaluate([str(a), str(b), str(manifest)]).report.is_file()
    rows = list(csv.DictReader(open(next((work.root / "runs").iterdir()) / "conversions.csv")))
    assert rows[0]["source"] == "src.wav"  # rewritten to the uploaded copy, not /etc/...
    manifest.write_bytes(b"\xef\xbb\xbf" + manifest.read_bytes())  # Excel's "CSV UTF-8"
    assert backend.evaluate([str(a), str(b), str(manifest)]).report.is_file()
    manifest.write_text("source,converted,target_emotion\r\nC:\\data\\in\\src.wav,"
                        "conv.wav,angry\r\n")  # written on Windows
    assert backend.evaluate([str(a), str(b), str(manifest)]).report.is_file()
    manifest.write_text("source,converted,target_emotion\nmissing.wav,conv.wav,angry\n")
    with pytest.raises(ConfigError, match="'missing.wav' .*not uploaded"):
        backend.evaluate([str(a), str(b), str(manifest)])
    with pytest.raises(ConfigError, match="exactly one conversions.csv"):
        backend.evaluate([str(a)])
    # emovc convert names outputs after their inputs: one name for both columns is ambiguous
    manifest.write_text("source,converted,target_emotion\n/data/x/conv.wav,conv.wav,angry\n")
    with pytest.raises(ConfigError, match="both source and converted"):
        backend.evaluate([str(a), str(b), str(manifest)])
    other = work.subdir("uploads2")
    dup = other / "conv.wav"
    dup.write_bytes(b.read_bytes())
    manifest.write_text("source,converted,target_emotion\nsrc.wav,conv.wav,angry\n")
    with pytest.raises(ConfigError, match="two uploaded files are named 'conv.wav'"):
        backend.evaluate([str(a), str(b), str(dup), str(manifest)])


def test_evaluate_refuses_paths_outside_work_dir(backend: AppBackend, tmp_path: Path) -> None:
    (tmp_path / "conversions.csv").write_text("source,converted,target_emotion\n")
    with pytest.raises(PathOutsideWorkDir):
        backend.evaluate([str(tmp_path / "conversions.csv")])


def test_missing_pipeline_gives_a_clear_message(work: WorkDir, upload, factories) -> None:
    def missing():
        raise ModelNotInstalled("emotion recognition is not installed in this emovc build")

    factories.recognizer = missing
    backend = AppBackend(work, factories=factories)
    with pytest.raises(ModelNotInstalled, match="emotion recognition is not installed"):
        backend.recognise(str(upload()))


def test_models_are_built_once() -> None:
    calls = []
    cache = ModelCache(default_factories())
    assert cache.get("k", lambda: calls.append(1) or "m") == "m"
    assert cache.get("k", lambda: calls.append(1) or "other") == "m" and calls == [1]


def test_map_projects_as_emovc_map(backend: AppBackend, upload) -> None:
    """The app had its own projection (UMAP by cosine from 15 points, else PCA), so its map
    and `emovc map` of the same voices differed; both use pipelines.speaker.project now
    (t-SNE from 10 points)."""
    rng = np.random.default_rng(0)
    for k in range(2):  # 6 synthetic voices + 2 earlier uploads + reference + output = 10
        e = rng.normal(size=16)
        backend.session().uploads.add(f"earlier {k}", e / np.linalg.norm(e))
    res = backend.clone([str(upload("ref.wav"))], "Kids are talking.", None, consent=True)
    assert "t-SNE projection" in res.figure.axes[0].get_title()


def test_backend_limits_apply(tmp_path: Path, factories) -> None:
    backend = AppBackend(WorkDir(tmp_path / "w"), UploadLimits(max_duration_s=1.0), factories)
    clip = backend.work.subdir("uploads") / "long.wav"
    from emovc.data.synthetic import synthesize

    sf.write(clip, synthesize(duration=2.0), 16000)
    with pytest.raises(AudioError, match=r"too long: 2.0 s \(limit 1 s\)"):
        backend.recognise(str(clip))
    shutil.rmtree(backend.work.root)


class ThreeWay(SourceRule):
    """A many-to-many fake: any of calm/angry/sad to any other; records the source used."""

    source_emotions = target_emotions = ["calm", "angry", "sad"]

    def convert(self, wav, sr, target, source=None, intensity=1.0, pitch_level=1.0,
                envelope_gain=1.0, name="audio"):
        self.used = source
        return wav


def test_auto_source_uses_the_recogniser_without_the_target(work: WorkDir, upload,
                                                             factories) -> None:
    conv = ThreeWay()
    factories.converter = lambda name: conv
    backend = AppBackend(work, factories=factories)
    assert backend.convert(str(upload("a.wav", emotion="angry")), "sad", AUTO, 1.0,
                           "m2m").source == "angry" == conv.used
    assert backend.convert(str(upload("c.wav", emotion="calm")), "sad", AUTO, 1.0,
                           "m2m").source == "calm"
    label, note = backend.detect_source(str(upload("a2.wav", emotion="angry")), "m2m")
    assert label == "angry" and note.startswith("detected angry (recogniser: angry")

    def missing():
        raise ModelNotInstalled("no recogniser")

    factories.recognizer = missing
    backend = AppBackend(work, factories=factories)  # no recogniser: the converter decides
    assert backend.convert(str(upload("d.wav")), "sad", AUTO, 1.0, "m2m").source is None
    assert conv.used is None


def test_twenty_minute_and_non_audio_uploads_then_keeps_serving(backend: AppBackend, upload,
                                                                work: WorkDir) -> None:
    long = work.subdir("uploads") / "lecture.flac"
    sf.write(long, np.zeros(20 * 60 * 8000, np.float32), 8000)
    with pytest.raises(AudioError, match=r"'lecture.flac' is too long: 20 min 00.0 s"):
        backend.convert(str(long), "angry", AUTO, 1.0, "fake-calm-angry")
    text = work.subdir("uploads") / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(AudioError, match="'notes.txt' is not a supported audio file"):
        backend.recognise(str(text))
    assert backend.convert(str(upload()), "angry", AUTO, 1.0, "fake-calm-angry").output.is_file()


def test_clone_style_picks_the_cloner(backend: AppBackend, upload) -> None:
    ref = str(upload("ref.wav"))
    backend.clone([ref], "Kids are talking.", None, consent=True, style="clear")
    assert backend.models.cloner("clear").style == "clear"
    assert backend.models.cloner("clear") is not backend.models.cloner("voice")


def test_clone_tab_analyses_the_same_reference_once(backend_with, upload, monkeypatch) -> None:
    """Every click of Clone read, checked and analysed the same upload again (the real
    cloner; its voice cache keeps the analysis)."""
    from emovc.app.models import default_factories
    from emovc.models.synthesizer import unit_selection as us

    analysed, analyse = [], us.analyse_reference
    monkeypatch.setattr(us, "analyse_reference",
                        lambda *a, **k: analysed.append(1) or analyse(*a, **k))
    backend = backend_with(cloner=default_factories().cloner)
    ref = str(upload("ref.wav", seconds=4.0))
    for text in ("Kids are talking.", "Dogs are sitting."):
        res = backend.clone([ref], text, None, consent=True, style="clear")
        assert res.output.is_file()
    assert len(analysed) == 1


def test_ui_lists_the_pipeline_styles() -> None:
    from emovc.app.ui import CLONE_STYLES
    from emovc.pipelines.cloning import STYLES

    assert CLONE_STYLES == tuple(STYLES)


def test_clone_too_short_to_embed_has_no_similarity(backend_with, upload) -> None:
    """A one-word clone ("Hi": 0.4 s) is under the speaker encoder's 0.5 s minimum: the
    clone is kept and shown, without a similarity or an output point on the map."""

    class ShortCloner(FakeCloner):
        def clone(self, references, text, emotion=None):
            wav, sr = super().clone(references, text, emotion)
            return wav[: int(0.4 * sr)], sr

    def strict_embed(wav, sr):  # as the real encoder: AudioError under 0.5 s
        if len(wav) < 0.5 * sr:
            raise AudioError(f"too short: {len(wav) / sr:.2f} s (need at least 0.5 s)")
        return fake_embed(wav, sr)

    backend = backend_with(cloner=ShortCloner, embedder=lambda: strict_embed)
    res = backend.clone([str(upload("ref.wav"))], "Hi", None, consent=True)
    assert res.output.is_file() and np.isnan(res.similarity)
    assert "too short for a speaker embedding" in res.summary
    texts = {t.get_text() for t in res.figure.axes[0].texts}
    assert "reference" in texts and "output" not in texts


class TwoToThree(SourceRule):
    """From calm or angry to calm, angry or sad: two sources, but not a pair."""

    source_emotions = ["calm", "angry"]
    target_emotions = ["calm", "angry", "sad"]

    def convert(self, wav, sr, target, source=None, **kwargs):
        return wav


def test_source_is_detected_unless_the_converter_fixes_it(backend_with, upload) -> None:
    """The app had its own pairwise rule (at most two source emotions), unlike the
    converter's (fixed_source: the sources are the targets): for this model it said "the
    source is the one that is not the target", which does not hold for target sad."""
    backend = backend_with(converter=lambda name: TwoToThree())
    assert not backend.source_follows_target("two")
    label, note = backend.detect_source(str(upload(emotion="angry")), "two")
    assert label == "angry" and note.startswith("detected angry")
    assert backend.convert(str(upload("c.wav", emotion="calm")), "sad", AUTO, 1.0,
                           "two").source == "calm"
    assert backend_with().source_follows_target("fake-calm-angry")


def test_bundled_converter_detects_with_the_apps_recogniser(backend_with, upload) -> None:
    """The app passes its cached recogniser to EmotionConverter.detect_source instead of
    repeating the rule, and the converter loads no second recogniser."""
    from emovc.audio import load_audio
    from emovc.pipelines.conversion import EmotionConverter

    from .conftest import FakeRecognizer

    conv = EmotionConverter.from_pretrained("m2m-ravdess")
    backend = backend_with(converter=lambda name: conv)
    clip = upload(emotion="angry")
    label, note = backend.detect_source(str(clip), "m2m-ravdess")
    assert label == conv.detect_source(load_audio(clip), 16000, recognizer=FakeRecognizer())
    assert note.startswith(f"detected {label}")
    res = backend.convert(str(clip), "sad", AUTO, 1.0, "m2m-ravdess")
    assert res.source == conv.detect_source(load_audio(clip), 16000, exclude="sad",
                                            recognizer=FakeRecognizer())
    assert conv._recognizer is None  # never loaded its own
