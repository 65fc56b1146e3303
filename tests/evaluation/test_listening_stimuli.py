"""Listening-test stimuli: one container, one rate, one loudness, whatever the system."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.request

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import ConfigError, EmovcWarning
from emovc.evaluation.listening import build_trials
from emovc.evaluation.listening_ratings import summarize_ratings
from emovc.evaluation.listening_server import ListeningServer
from emovc.evaluation.manifest import EvalItem, read_manifest, write_manifest
from emovc.evaluation.stimuli import PEAK_LIMIT_DBFS, StimulusSet, check_loudness


def _lufs(x: np.ndarray, sr: int) -> float:
    return float(pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float64)))


@pytest.fixture
def uneven_run(tmp_path):
    """RAVDESS-like: quiet FLAC sources at 22.05 kHz, loud 16 kHz WAV conversions."""
    run = tmp_path / "run"
    items = []
    for k, emo in enumerate(["angry", "sad"]):
        src = save_audio(run / f"src{k}.flac",
                         0.03 * synthesize(EMOTION_VOICES["calm"], 1.5, 22050, seed=k), 22050)
        cv = save_audio(run / f"conv{k}.wav",
                        1.6 * synthesize(EMOTION_VOICES[emo], 1.4, seed=k + 5))
        items.append(EvalItem(str(k), src.name, cv.name, emo, "", "", "calm"))
    write_manifest(run / "conversions.csv", items)
    return run


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.headers["Content-Type"], r.read()


def _serve_all(trials, ratings, **kw) -> tuple[dict, ListeningServer]:
    """Every clip of the test as served: ``{(trial_id, slot): (content type, bytes)}``."""
    server = ListeningServer(trials, ratings, port=0, **kw)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        got = {(t.trial_id, slot): _get(f"{server.url}audio/{t.trial_id}/{slot}?listener=al")
               for t in trials for slot in ("x", "a", "b") if t.audio_path(slot)}
        t = next(t for t in trials if t.kind == "mos")
        req = urllib.request.Request(server.url + "rate", data=json.dumps(
            {"trial_id": t.trial_id, "listener": "al", "naturalness": 3,
             "emotion_strength": 3}).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    return got, server


def test_every_clip_is_served_alike_and_loudness_matched(uneven_run, tmp_path):
    """FLAC sources and WAV conversions were served as they are (audio/flac next to
    audio/x-wav), and 20 dB apart in level: the MIME type told the system, the level biased
    "more angry?" and naturalness. Every clip is now 16-bit mono WAV at the test's lowest
    rate and, by default, at one loudness."""
    trials = build_trials(read_manifest(uneven_run), seed=0)
    files = {t.audio for t in trials if t.kind == "mos"}
    raw = [_lufs(*sf.read(p)) for p in files]
    assert max(raw) - min(raw) > 20  # what a listener heard before
    served, _ = _serve_all(trials, tmp_path / "ratings.csv")
    levels = []
    for ctype, body in served.values():
        info = sf.info(io.BytesIO(body))
        assert (ctype, info.format, info.subtype, info.samplerate, info.channels) == (
            "audio/wav", "WAV", "PCM_16", 16000, 1)
        x, sr = sf.read(io.BytesIO(body))
        levels.append(_lufs(x, sr))
        assert 20 * np.log10(np.abs(x).max()) <= PEAK_LIMIT_DBFS + 0.01
    assert max(levels) - min(levels) < 0.5 and abs(np.mean(levels) + 26) < 0.5
    with open(tmp_path / "ratings.csv", newline="") as f:
        assert [r["loudness"] for r in csv.DictReader(f)] == ["-26.0 LUFS"]
    assert summarize_ratings(tmp_path / "ratings.csv")["loudness"] == {"-26.0 LUFS": 1}


def test_loudness_matching_can_be_turned_off_and_the_ratings_say_so(uneven_run, tmp_path):
    trials = build_trials(read_manifest(uneven_run), seed=0)
    served, _ = _serve_all(trials, tmp_path / "ratings.csv", loudness=None)
    levels = []
    for ctype, body in served.values():
        x, sr = sf.read(io.BytesIO(body))
        assert ctype == "audio/wav" and sr == 16000 and sf.info(io.BytesIO(body)).subtype == \
            "PCM_16"
        levels.append(_lufs(x, sr))
    assert max(levels) - min(levels) > 20  # the stored levels
    assert summarize_ratings(tmp_path / "ratings.csv")["loudness"] == {"off": 1}


def test_a_clip_that_would_clip_is_served_at_the_peak_limit_with_a_warning(tmp_path):
    """Raising a peaky clip to the target would clip it; it is scaled to the peak limit
    instead (no limiter changing its sound), and the warning says how much quieter."""
    speech = save_audio(tmp_path / "speech.wav", 0.05 * synthesize(EMOTION_VOICES["calm"], 1.5))
    click = np.full(24000, 1e-3, np.float32)
    click[12000] = 0.9  # loudness of a near-silence, peak near full scale
    peaky = save_audio(tmp_path / "peaky.wav", click)
    with pytest.warns(EmovcWarning, match=r"1 of 2 stimuli would peak above -1 dBFS at "
                                          r"-26 LUFS .*peaky\.wav"):
        stimuli = StimulusSet([speech, peaky])
    assert stimuli.stimuli[str(peaky)].limited and not stimuli.stimuli[str(speech)].limited
    x, _ = sf.read(io.BytesIO(stimuli.wav_bytes(str(peaky))))
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(PEAK_LIMIT_DBFS, abs=0.01)


class _NoMpeg(sf.SoundFile):
    """libsndfile without MPEG support (1.2.2 here; mp3 came in 1.1.0 and is optional):
    an ``.mp3`` does not open, with libsndfile's own error; emovc then decodes it with its
    fallback decoder (librosa's)."""

    def __init__(self, file, *args, **kwargs):
        if str(file).lower().endswith(".mp3"):
            self._file = None  # closed: nothing to release on deletion
            raise sf.LibsndfileError(1, f"Error opening {str(file)!r}: ")  # not recognised
        super().__init__(file, *args, **kwargs)


@pytest.mark.filterwarnings("ignore:PySoundFile failed:UserWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")  # librosa on its audioread fallback
def test_an_mp3_that_libsndfile_cannot_read_is_served(tmp_path, monkeypatch):
    """Every clip's sample rate was read from its header with libsndfile, so an mp3 among a
    run's files (which emovc decodes with its fallback decoder) stopped the listening test
    before it started ("not a readable audio file"), also with loudness matching off. Its
    rate now comes from the decoder: the mp3 sources are served, as WAV at the test's
    lowest rate — theirs."""
    run = tmp_path / "run"
    run.mkdir()
    items = []
    for k, emo in enumerate(["angry", "sad"]):
        sf.write(run / f"src{k}.mp3", 0.3 * synthesize(EMOTION_VOICES["calm"], 1.5, 22050,
                                                       seed=k), 22050, format="WAV")
        cv = save_audio(run / f"conv{k}.wav",
                        0.3 * synthesize(EMOTION_VOICES[emo], 1.4, 24000, seed=k + 5), 24000)
        items.append(EvalItem(str(k), f"src{k}.mp3", cv.name, emo, "", "", "calm"))
    write_manifest(run / "conversions.csv", items)
    trials = build_trials(read_manifest(run), seed=0)
    monkeypatch.setattr(sf, "SoundFile", _NoMpeg)
    with pytest.raises(sf.LibsndfileError):
        sf.info(str(run / "src0.mp3"))  # as such a libsndfile reads it
    for loudness in (None, -26.0):
        served, _ = _serve_all(trials, tmp_path / f"ratings{loudness}.csv", loudness=loudness)
        sources = [body for (tid, slot), (_, body) in served.items()
                   if next(t for t in trials if t.trial_id == tid).audio_path(slot)
                   .endswith(".mp3")]
        assert sources and all(sf.info(io.BytesIO(body)).samplerate == 22050
                               for _, body in served.values())
        x, _ = sf.read(io.BytesIO(sources[0]))
        assert np.abs(x).max() > 0.01  # the clip itself, not silence


def test_a_clip_that_stopped_decoding_names_no_path_to_the_listener(uneven_run, tmp_path,
                                                                    caplog):
    """A file replaced by a broken one after the test started was answered with its decoding
    error, the file's full server path in it, to anyone who can reach the test (the app's
    --host 0.0.0.0); the file name alone could tell the system too. The listener gets a
    plain line; the console gets the file and the error."""
    import urllib.error

    trials = build_trials(read_manifest(uneven_run), seed=0)
    trial = next(t for t in trials if t.kind == "mos" and "conv" in t.audio)
    server = ListeningServer(trials, tmp_path / "ratings.csv", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        open(trial.audio, "wb").write(b"not audio any more")
        with caplog.at_level("ERROR", logger="emovc.listening"), \
                pytest.raises(urllib.error.HTTPError) as err:
            _get(f"{server.url}audio/{trial.trial_id}/x")
        body = err.value.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert err.value.code == 500 and "cannot be played" in json.loads(body)["error"]
    assert str(tmp_path) not in body and "conv" not in body and ".wav" not in body
    assert trial.audio in caplog.text and "not a readable audio file" in caplog.text


@pytest.mark.parametrize("bad", [-5.0, -80.0, float("nan"), "loud"])
def test_a_loudness_target_out_of_range_is_refused(bad):
    with pytest.raises(ConfigError, match="--loudness must be -60 to -10 LUFS"):
        check_loudness(bad)
    assert check_loudness(None) is None and check_loudness(-23) == -23.0


def test_an_older_files_ratings_are_reported_as_served_as_stored(tmp_path):
    from emovc.evaluation.api import ratings_table

    path = tmp_path / "old.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "listener", "trial_id", "kind", "item_id", "target_emotion",
                    "system", "naturalness", "emotion_strength", "system_a", "system_b",
                    "choice", "preferred"])
        w.writerow(["t", "al", "t1", "mos", "0", "angry", "converted", "4", "3", "", "", "",
                    ""])
    summary = summarize_ratings(path)
    assert summary["loudness"] == {"not recorded": 1}
    assert "clips served as stored (by a version before loudness matching)" in ratings_table(
        summary)
