"""What the app says: recognition as the command line gives it (windows, may-not-be-speech),
no server paths in messages, and the convert and clone messages of the s39 audit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile as sf

from emovc.app.limits import UploadLimits, hide_paths, load_upload
from emovc.app.services import AUTO, AppBackend
from emovc.app.workdir import WorkDir
from emovc.audio.io import read_comment
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, ConfigError, EmovcError

from .conftest import FakeRecognizer, fake_factories

SR = 16000


@pytest.fixture()
def long_backend(work: WorkDir) -> AppBackend:
    """The fakes, with clips up to 60 s (the app's default limit)."""
    return AppBackend(work, UploadLimits(max_duration_s=60.0), fake_factories())


def _loud_then_quiet(work: WorkDir, loud_s: float, quiet_s: float, name: str = "long.wav"):
    """``loud_s`` s of speech peaking at 0.6 then ``quiet_s`` s peaking at 0.2 (the fake
    recogniser: angry, then calm)."""
    loud = synthesize(EMOTION_VOICES["angry"], duration=loud_s, sr=SR, seed=1)
    quiet = synthesize(EMOTION_VOICES["calm"], duration=quiet_s, sr=SR, seed=2)
    wav = np.concatenate([0.6 * loud / np.abs(loud).max(), 0.2 * quiet / np.abs(quiet).max()])
    path = work.subdir("uploads") / name
    sf.write(path, wav.astype(np.float32), SR)
    return path


def test_a_long_clip_is_recognised_in_windows_as_the_cli_does(long_backend: AppBackend,
                                                              work: WorkDir) -> None:
    """Recognise classified a clip over 20 s as one (angry here: its first 10 s are loud),
    while `emovc ser predict` and the convert tab's detection average 20 s windows."""
    path = _loud_then_quiet(work, 10.0, 35.0)
    rec = FakeRecognizer()
    assert max(rec.predict(sf.read(path)[0], SR).items(), key=lambda kv: kv[1])[0] == "angry"
    res = long_backend.recognise(str(path))
    assert res.probabilities == pytest.approx(rec.predict_file_windows(path).probs)
    assert res.summary.startswith("most likely: calm")
    lines = res.summary.splitlines()
    assert "the mean of 3 windows of up to 20 s" in lines[1]
    assert lines[2:] == ["  0:00-0:15  angry 86%  neutral 2%  calm 2%",
                         "  0:15-0:30  calm 86%  neutral 2%  happy 2%",
                         "  0:30-0:45  calm 86%  neutral 2%  happy 2%"]


def test_a_short_clip_is_one_window(backend: AppBackend, upload) -> None:
    res = backend.recognise(str(upload(emotion="angry")))
    assert res.summary == "most likely: angry (86%)"


def test_recognise_says_when_a_clip_may_not_be_speech(backend: AppBackend,
                                                      work: WorkDir) -> None:
    """White noise got a confident label and no caveat: the library's warning went to the
    server's stderr only."""
    noise = work.subdir("uploads") / "noise.wav"
    sf.write(noise, np.random.default_rng(0).uniform(-0.3, 0.3, 3 * SR).astype(np.float32), SR)
    res = backend.recognise(str(noise))
    first, note = res.summary.splitlines()
    assert first.startswith("most likely:")
    assert note.startswith("⚠ 'noise.wav' may not be speech: only ")
    assert note.endswith("its emotion labels are a guess")
    assert str(work.root) not in res.summary


def test_the_real_recogniser_gives_the_clis_numbers(work: WorkDir) -> None:
    """The bundled recogniser through the app and as `emovc ser predict` uses it
    (EmotionRecognizer.predict_file) on a 45 s clip."""
    from emovc.pipelines.recognition import EmotionRecognizer

    rec = EmotionRecognizer.from_pretrained("default")
    backend = AppBackend(work, UploadLimits(max_duration_s=60.0),
                         fake_factories(recognizer=lambda: rec))
    path = _loud_then_quiet(work, 15.0, 30.0)
    res = backend.recognise(str(path))
    assert res.probabilities == pytest.approx(rec.predict_file(path), abs=1e-6)
    assert "the mean of 3 windows" in res.summary


# --- no server paths ---------------------------------------------------------------------

def test_hide_paths() -> None:
    root = "/tmp/emovc-app-1"
    assert hide_paths(f"{root}/uploads/ab/conversions.csv: missing column(s) source",
                      root) == "'conversions.csv': missing column(s) source"
    assert hide_paths(f"file '{root}/uploads/a b.wav' is bad", root) == "file 'a b.wav' is bad"
    assert hide_paths(f"in {root}.", root) == "in the app's work dir."
    assert hide_paths(f"{root}2/a.wav", root) == f"{root}2/a.wav"  # another folder


def test_evaluate_errors_name_no_server_path(backend: AppBackend, upload,
                                             work: WorkDir) -> None:
    """Two evaluate errors showed full work-dir paths: a csv without the needed columns,
    and an unknown emotion (raised by the evaluator's manifest reader)."""
    from emovc.app.models import _evaluator

    a, b = upload("src.wav"), upload("conv.wav", emotion="angry")
    table = work.subdir("uploads") / "conversions.csv"
    table.write_text("input,output\nsrc.wav,conv.wav\n")
    with pytest.raises(EmovcError) as info:
        backend.evaluate([str(a), str(b), str(table)])
    assert "'conversions.csv'" in str(info.value) and str(work.root) not in str(info.value)
    table.write_text("source,converted,target_emotion\nsrc.wav,conv.wav,furious\n")
    real = AppBackend(work, backend.limits, fake_factories(evaluator=_evaluator))
    with pytest.raises(EmovcError, match="unknown emotion 'furious'") as info:
        real.evaluate([str(a), str(b), str(table)])
    assert str(work.root) not in str(info.value)
    assert "'conversions.csv' line 2" in str(info.value)


def test_an_unreadable_mp3_reads_like_any_unreadable_file(work: WorkDir) -> None:
    """It gave "audio: not a readable audio file: 'garbage.mp3' (NoBackendError)"."""
    garbage = work.subdir("uploads") / "garbage.mp3"
    garbage.write_bytes(np.random.default_rng(0).bytes(20_000))
    with pytest.raises(AudioError) as info:
        load_upload(garbage, UploadLimits(), work)
    assert str(info.value).startswith("'garbage.mp3' is not a readable audio file (expected")
    assert "Error" not in str(info.value)


# --- convert -----------------------------------------------------------------------------

def test_same_source_and_target_points_to_auto_detect(backend: AppBackend, upload) -> None:
    """The source set on upload (detected calm) with target calm said only "give another
    target emotion", though auto-detect would convert it."""
    with pytest.raises(ConfigError, match=f"set the source emotion to {AUTO}.*or to the "
                                          "recording's real emotion"):
        backend.convert(str(upload(emotion="calm")), "calm", "calm", 1.0, "fake-calm-angry")


def test_the_status_says_the_output_is_16_khz_mono(backend: AppBackend, upload) -> None:
    clip = upload("stereo.wav", sr=44100)
    res = backend.convert(str(clip), "angry", "calm", 1.0, "fake-calm-angry")
    assert "(16 kHz mono)" in res.summary
    assert sf.info(res.output).samplerate == SR and sf.info(res.output).channels == 1


def test_bundled_converter_output_is_tagged_as_emovc_convert_tags_it(backend_with,
                                                                     upload) -> None:
    """The app's tag lacked the model's SHA-256 and the smoothing of `emovc convert`'s."""
    from emovc.pipelines.conversion import EmotionConverter

    conv = EmotionConverter.from_pretrained("m2m-ravdess")
    backend = backend_with(converter=lambda name: conv)
    clip = str(upload(emotion="calm"))
    res = backend.convert(clip, "angry", "calm", 0.5, "m2m-ravdess")
    assert read_comment(res.output) == conv.provenance_tag("calm", "angry", 0.5)
    assert f"sha256:{conv.digest}" in read_comment(res.output) and conv.digest
    res = backend.convert(clip, "angry", "calm", 1.0, "m2m-ravdess", renderer="world",
                          pitch_level=0.5)
    assert read_comment(res.output) == conv.provenance_tag("calm", "angry", 1.0,
                                                           pitch_level=0.5, renderer="world")


# --- clone -------------------------------------------------------------------------------

def test_non_latin_text_is_refused_in_the_apps_words(backend: AppBackend, upload) -> None:
    """The cloner's refusal ends "(Python: FrontendConfig.voice; the command line has no
    option for it)", which a web user cannot act on."""
    ref = str(upload("ref.wav"))
    with pytest.raises(ConfigError) as info:
        backend.clone([ref], "Привет, мир", None, consent=True)
    message = str(info.value)
    assert "English" in message and "Python" not in message and "П" in message
    # Latin text with a few other letters is the cloner's to warn about, not refused
    assert backend.clone([ref], "Hello Мир", None, consent=True).output.is_file()


def test_clone_is_tagged_as_emovc_clone_tags_it(backend: AppBackend, upload) -> None:
    """The app's clone tag named neither the reference nor the method."""
    res = backend.clone([str(upload("alice.wav"))], "Kids are talking.", "happy",
                        consent=True)
    tag = read_comment(res.output)
    assert "synthetic speech from reference alice.wav, emotion happy, by unit selection" in tag


def _noisy(work: WorkDir, name: str, snr_db: float = 10.0, seconds: float = 4.0):
    """Synthetic speech with white noise ``snr_db`` below its power, in the uploads."""
    wav = synthesize(EMOTION_VOICES["neutral"], duration=seconds, sr=SR, seed=3)
    noise = np.random.default_rng(0).normal(0, np.std(wav) * 10 ** (-snr_db / 20), wav.size)
    path = work.subdir("uploads") / name
    sf.write(path, (wav + noise).astype(np.float32), SR)
    return path


def test_convert_says_when_the_upload_is_noisy(backend_with, work: WorkDir, upload) -> None:
    """`emovc convert` warns of a noisy input; the convert tab (the converter on samples)
    said nothing. The warning is the library's, naming the upload; the output is what the
    converter makes of the samples."""
    from emovc.pipelines.conversion import EmotionConverter

    conv = EmotionConverter.from_pretrained("m2m-ravdess")
    backend = backend_with(converter=lambda name: conv)
    noisy = _noisy(work, "noisy.wav", seconds=3.0)
    res = backend.convert(str(noisy), "angry", "calm", 1.0, "m2m-ravdess")
    first, *notes = res.summary.splitlines()
    assert "RTF" in first and len(notes) == 1
    assert notes[0].startswith("⚠ 'noisy.wav' is noisy: its estimated SNR is ")
    assert "quieter recording" in notes[0] and str(work.root) not in res.summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = conv.convert(load_upload(str(noisy), backend.limits, work), SR, "angry",
                            source="calm")
    assert np.allclose(sf.read(res.output, dtype="float32")[0], want, atol=1 / 32768)
    clean = backend.convert(str(upload("clean.wav", emotion="calm")), "angry", "calm", 1.0,
                            "m2m-ravdess")
    assert "⚠" not in clean.summary


def test_clone_shows_the_clones_warnings(backend_with, work: WorkDir) -> None:
    """A noisy reference, and text with letters the voice cannot say, gave a clone and a
    similarity; the cloner's warnings about them reached the server log only."""
    from emovc.pipelines.cloning import CloneConfig, VoiceCloner

    backend = backend_with(cloner=lambda style: VoiceCloner(CloneConfig.for_style(style)))
    ref = str(_noisy(work, "noisy.wav"))
    for _ in range(2):  # again on a repeat: Python shows a warning once per place and text
        res = backend.clone([ref], "Kids are talking by the d\u043e\u043er.", None,
                            consent=True)  # Cyrillic о
        first, *notes = res.summary.splitlines()
        assert "speaker similarity" in first
        assert any(n.startswith("⚠ reference noisy.wav is noisy: its estimated SNR is ")
                   for n in notes), notes
        assert any(n.startswith("⚠ text ") and "\u043e" in n for n in notes), notes
    assert str(work.root) not in res.summary


def test_only_this_requests_warnings_are_collected() -> None:
    """The warnings of another request (thread) and other kinds of warning are shown as
    before; this thread's EmovcWarnings are collected, a repeat included."""
    import threading

    from emovc.app.notes import collected_warnings
    from emovc.errors import EmovcWarning

    def other_request():
        warnings.warn("b.wav is noisy", EmovcWarning, stacklevel=1)

    with pytest.warns(Warning) as shown:
        with collected_warnings() as notes:
            thread = threading.Thread(target=other_request)
            thread.start()
            thread.join()
            for _ in range(2):
                warnings.warn("a.wav is noisy", EmovcWarning, stacklevel=1)
            warnings.warn("old", DeprecationWarning, stacklevel=1)
    assert notes == ["a.wav is noisy", "a.wav is noisy"]
    assert sorted(str(w.message) for w in shown) == ["b.wav is noisy", "old"]


def test_overlapping_requests_each_collect_their_own_warnings(monkeypatch) -> None:
    """Requests run in Gradio's worker threads, and each collection saved and restored
    Python's one warning hook and filter list (``warnings.catch_warnings``): with
    requests overlapping, the first to finish put the server's hook back under the others
    (their later warnings reached the log, not their page) and the last left its own hook
    chained in for good. Twelve overlapping requests, finishing in the order they started
    and running library code's own ``catch_warnings`` meanwhile: each page gets exactly
    its warnings, other warnings reach the server's hook, and afterwards so does every
    warning, through the hook a lone request leaves (no wrapper per request)."""
    import threading

    from emovc.app.notes import collected_warnings
    from emovc.errors import EmovcWarning

    logged: list[str] = []

    def server_log(message, category, filename, lineno, file=None, line=None):
        logged.append(str(message))

    monkeypatch.setattr(warnings, "showwarning", server_log)
    with collected_warnings() as notes:  # a lone request
        warnings.warn("lone.wav is noisy", EmovcWarning, stacklevel=1)
    assert notes == ["lone.wav is noisy"] and logged == []
    hook = warnings.showwarning

    n = 12
    inside = [threading.Event() for _ in range(n)]
    done = [threading.Event() for _ in range(n)]
    pages: dict[int, list[str]] = {}

    def request(i: int) -> None:
        if i:
            inside[i - 1].wait(10)  # start in order
        with collected_warnings() as page:
            inside[i].set()
            warnings.warn(f"{i}.wav is noisy", EmovcWarning, stacklevel=1)
            inside[-1].wait(10)  # all requests running
            if i:
                done[i - 1].wait(10)  # the earlier ones have finished
            warnings.warn(f"{i}.wav is noisy", EmovcWarning, stacklevel=1)  # a repeat
            warnings.warn(f"library note {i}", UserWarning, stacklevel=1)
            with warnings.catch_warnings():  # library code of this request
                warnings.simplefilter("ignore", DeprecationWarning)
            warnings.warn(f"{i}.wav is clipped", EmovcWarning, stacklevel=1)
        pages[i] = page
        done[i].set()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert pages == {i: [f"{i}.wav is noisy", f"{i}.wav is noisy", f"{i}.wav is clipped"]
                     for i in range(n)}
    assert sorted(logged) == sorted(f"library note {i}" for i in range(n))
    assert warnings.showwarning is hook
    warnings.warn("later.wav is noisy", EmovcWarning, stacklevel=1)  # no request collects
    assert logged[-1] == "later.wav is noisy"


def test_reference_label_names_the_clone_minimum() -> None:
    from emovc.app.ui import MIN_REFERENCE_S
    from emovc.pipelines.cloning import CloneConfig

    assert MIN_REFERENCE_S == CloneConfig().min_reference_s
