import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.audio import audio_info, load_audio, save_audio
from emovc.audio.io import read_comment
from emovc.errors import AudioError, OutputExistsError


def test_save_load_round_trip(tmp_path: Path, speech: np.ndarray) -> None:
    path = save_audio(tmp_path / "a.wav", speech, 16000)
    back = load_audio(path, 16000)
    assert back.shape == speech.shape and back.dtype == np.float32
    assert np.max(np.abs(back - speech)) < 1e-4  # 16-bit quantisation only


def test_float_samples_keep_quiet_audio_exactly(tmp_path: Path, speech: np.ndarray) -> None:
    quiet = (speech * 10 ** (-90 / 20)).astype(np.float32)  # below 16-bit's resolution
    path = save_audio(tmp_path / "q.wav", quiet, 16000, float_samples=True, comment="x")
    assert sf.info(path).subtype == "FLOAT" and read_comment(path) == "x"
    assert np.array_equal(load_audio(path, 16000), quiet)
    pcm = load_audio(save_audio(tmp_path / "p.wav", quiet, 16000), 16000)
    assert np.max(np.abs(pcm - quiet)) > 1e-6  # what 16-bit PCM loses
    with pytest.raises(AudioError, match=r"\.wav files only"):
        save_audio(tmp_path / "q.flac", quiet, 16000, float_samples=True)


@pytest.mark.parametrize("ext", [".flac", ".ogg"])
def test_other_formats_round_trip(tmp_path: Path, speech: np.ndarray, ext: str) -> None:
    back = load_audio(save_audio(tmp_path / f"a{ext}", speech, 16000), 16000)
    n = min(len(back), len(speech))
    assert abs(len(back) - len(speech)) < 2000
    assert np.corrcoef(back[:n], speech[:n])[0, 1] > 0.9


def test_resample_and_mono_mix(tmp_path: Path, speech: np.ndarray) -> None:
    stereo = np.stack([speech, speech], axis=1)
    sf.write(tmp_path / "st.wav", stereo, 16000)
    out = load_audio(tmp_path / "st.wav", 8000)
    assert out.ndim == 1 and abs(len(out) - len(speech) // 2) <= 1
    assert audio_info(tmp_path / "st.wav").channels == 2


def test_save_is_atomic_and_refuses_overwrite(tmp_path: Path, speech: np.ndarray) -> None:
    path = save_audio(tmp_path / "sub" / "a.wav", speech, 16000, comment="emovc test")
    with pytest.raises(OutputExistsError, match="--force"):
        save_audio(path, speech, 16000)
    save_audio(path, speech * 0.5, 16000, force=True)
    assert read_comment(path) == ""  # overwritten without comment
    assert [p.name for p in path.parent.iterdir()] == ["a.wav"]  # no temp files left


def test_provenance_comment(tmp_path: Path, speech: np.ndarray) -> None:
    path = save_audio(tmp_path / "a.flac", speech, 16000, comment="emovc 0.1: converted")
    assert read_comment(path) == "emovc 0.1: converted"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.wav", None, "not found"),
        ("text.wav", b"hello, not audio", "not a readable audio file"),
        ("empty.wav", b"", "empty file"),
        ("notes.txt", b"hello", "unsupported audio format"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        load_audio(path)


@pytest.mark.parametrize("name", ["take.aiff", "take.aif", "TAKE.AIFF"])
def test_aiff_files_are_read_like_wav(tmp_path: Path, speech: np.ndarray, name: str) -> None:
    """AIFF (libsndfile reads it) was refused by its extension, by every command."""
    sf.write(tmp_path / "take.wav", speech, 16000, subtype="PCM_16")
    sf.write(tmp_path / name, speech, 16000, format="AIFF", subtype="PCM_16")
    np.testing.assert_array_equal(load_audio(tmp_path / name, 16000),
                                  load_audio(tmp_path / "take.wav", 16000))
    assert audio_info(tmp_path / name).sample_rate == 16000


def test_nan_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="NaN"):
        save_audio(tmp_path / "x.wav", np.array([0.0, np.nan], dtype=np.float32))
    assert not (tmp_path / "x.wav").exists()
    assert not list(tmp_path.iterdir())  # nor a temporary file


def test_save_refuses_stereo_and_integer_samples(tmp_path: Path, speech: np.ndarray) -> None:
    """A (n, 2) array used to be written as one interleaved channel of twice the length, and
    int16 samples clipped to full scale."""
    with pytest.raises(AudioError, match=r"mono audio of shape \(n,\), got shape"):
        save_audio(tmp_path / "s.wav", np.stack([speech, speech], axis=1), 16000)
    with pytest.raises(AudioError, match="integer PCM"):
        save_audio(tmp_path / "i.wav", (speech * 32767).astype(np.int16), 16000)
    assert not list(tmp_path.iterdir())
    save_audio(tmp_path / "c.wav", speech[:, None], 16000)  # one channel as a column is fine


def test_save_checks_the_rate_as_load_does(tmp_path: Path, speech: np.ndarray) -> None:
    """0 and -1 leaked LibsndfileError naming a hidden temporary file, 16000.0 a TypeError,
    and True wrote a 1 Hz file."""
    from emovc.audio.io import audio_writer

    for sr in (0, -1, True, 16, "16000", 16000.5):
        with pytest.raises(AudioError, match=r"^(sr must be a positive integer|implausible sr)"):
            save_audio(tmp_path / "r.wav", speech, sr)
        with pytest.raises(AudioError, match="sr"), audio_writer(tmp_path / "w.wav", sr):
            pass
    assert not list(tmp_path.iterdir())
    path = save_audio(tmp_path / "f.wav", speech, 16000.0)  # as load_audio(path, sr=16000.0)
    assert sf.info(path).samplerate == 16000 and len(load_audio(path, 16000.0)) == len(speech)


def test_save_refuses_empty_audio_that_load_would_refuse(tmp_path: Path) -> None:
    from emovc.audio.io import audio_writer

    with pytest.raises(AudioError, match=r"^refusing to save audio with no samples: .*e\.wav$"):
        save_audio(tmp_path / "e.wav", np.zeros(0, np.float32))
    with pytest.raises(AudioError, match="no samples"), audio_writer(tmp_path / "w.wav") as w:
        w(np.zeros(0, np.float32))
    assert not list(tmp_path.iterdir())  # nor a temporary file


def test_load_removes_a_dc_offset_and_keeps_clean_files_exact(tmp_path):
    """A constant offset (cheap recorders) shifted level meters, silence detection, speaker
    embeddings and the recogniser; a clean file's samples are returned as they are."""
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    sf.write(tmp_path / "clean.wav", tone, 16000, subtype="FLOAT")
    sf.write(tmp_path / "dc.wav", tone + 0.05, 16000, subtype="FLOAT")
    clean = load_audio(tmp_path / "clean.wav")
    assert np.array_equal(clean, tone)
    assert np.allclose(load_audio(tmp_path / "dc.wav"), tone - tone.mean(), atol=1e-6)


@pytest.mark.parametrize("bad, channels", [(np.nan, 1), (np.inf, 1), (-np.inf, 2)])
def test_nan_or_inf_samples_are_named_before_the_dc_removal_spreads_them(tmp_path, bad,
                                                                         channels):
    """One Inf sample made the DC offset Inf and, once removed, every sample non-finite;
    prepare then called the 4 s clip "too short: 0.05 s"."""
    t = np.arange(64000) / 16000
    x = np.repeat((0.3 * np.sin(2 * np.pi * 150 * t) + 0.05)[:, None], channels, 1)
    x[5000, -1] = bad
    sf.write(tmp_path / "x.wav", x.astype(np.float32), 16000, subtype="FLOAT")
    for sr in (16000, 22050, None):  # with and without resampling
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no numpy RuntimeWarning on the way
            with pytest.raises(AudioError, match=r"x\.wav contains NaN or Inf samples$"):
                load_audio(tmp_path / "x.wav", sr)


def test_channels_that_cancel_in_the_mix_are_named_not_called_silent(tmp_path):
    t = np.arange(16000) / 16000
    left = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    sf.write(tmp_path / "anti.wav", np.stack([left, -left], 1), 16000)
    with pytest.raises(AudioError, match=r"its 2 channels cancel when mixed to mono \(the mix "
                                         r"is \d+ dB below them; is one phase-inverted\?\)"):
        load_audio(tmp_path / "anti.wav")
    sf.write(tmp_path / "one.wav", np.stack([left, 0 * left], 1), 16000)  # one silent: fine
    assert np.allclose(load_audio(tmp_path / "one.wav"), left / 2, atol=1e-4)


def test_long_ogg_is_written_in_pieces(tmp_path):
    """libsndfile 1.2.2's Vorbis encoder crashed the process on one write of 2**21 samples
    (131 s at 16 kHz): a long pause came out of the converter as one block that size."""
    n = (1 << 21) + 5
    x = (0.1 * np.sin(np.arange(n) * 0.05)).astype(np.float32)
    save_audio(tmp_path / "long.ogg", x)
    assert len(load_audio(tmp_path / "long.ogg")) == n


def test_a_truncated_file_gives_its_decodable_start_with_a_warning(tmp_path: Path,
                                                                   speech: np.ndarray) -> None:
    """A FLAC cut short (an interrupted copy or download) decodes up to where it breaks: that
    start is used, with a warning naming what is left; a file that breaks at once is an
    error. Both readers (streamed load_audio and whole load_channels) agree."""
    import soundfile as sf

    from emovc.audio.io import load_channels
    from emovc.errors import EmovcWarning

    whole = tmp_path / "whole.flac"
    sf.write(whole, np.tile(speech, 4), 16000)
    data = whole.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.warns(EmovcWarning, match=r"cut.flac is damaged or truncated: only its first"):
        wav = load_audio(cut)
    with pytest.warns(EmovcWarning, match="damaged or truncated"):
        chans, _ = load_channels(cut)
    n = len(np.tile(speech, 4))
    assert 0.3 * n < len(wav) < n and len(chans) == len(wav)
    np.testing.assert_allclose(wav, load_audio(whole)[: len(wav)], atol=1e-6)
    (tmp_path / "stub.flac").write_bytes(data[:200])  # the header only
    with pytest.raises(AudioError):
        load_audio(tmp_path / "stub.flac")


@pytest.mark.parametrize("fmt", ["WAV", "WAVEX", "RF64", "W64"])
def test_a_truncated_wav_is_warned_about_like_a_truncated_flac(tmp_path: Path,
                                                              speech: np.ndarray, fmt: str
                                                              ) -> None:
    """libsndfile clips a WAV's frame count to the bytes present, so a WAV cut short (an
    interrupted recording) read silently as a shorter file: its data chunk's declared size
    is checked (RIFF, RF64, Wave64), with the FLAC's warning, duration and refusal."""
    from emovc.audio.io import load_channels
    from emovc.errors import EmovcWarning

    whole = tmp_path / "whole.wav"
    sf.write(whole, np.tile(speech, 3), 16000, format=fmt, subtype="PCM_16")
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(EmovcWarning, match=r"cut.wav is damaged or truncated: only its first "
                                          r"[23]\.\d\d s of 6.00 s decode; using those"):
        wav = load_audio(cut)
    with pytest.warns(EmovcWarning, match="damaged or truncated"):
        chans, _ = load_channels(cut)
    assert len(wav) == len(chans) < 3.1 * 16000
    assert audio_info(cut).duration == pytest.approx(6.0, abs=1e-3)  # the header's, as FLAC's
    (tmp_path / "stub.wav").write_bytes(data[: len(data) // 100])  # < 0.1 s of 6 s
    with pytest.raises(AudioError, match=r"damaged or truncated audio file: .*stub.wav"):
        load_audio(tmp_path / "stub.wav")


@pytest.mark.parametrize("size", [0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFF000])
def test_a_streamed_wav_of_unknown_length_is_not_called_truncated(tmp_path: Path,
                                                                 speech: np.ndarray,
                                                                 size: int) -> None:
    """A writer that cannot seek back (a pipe) leaves a placeholder data size (ffmpeg,
    arecord, SoX): no warning; and a whole file gets none either."""
    import struct

    path = save_audio(tmp_path / "s.wav", speech, 16000)
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at:at + 4] = struct.pack("<I", size)
    (tmp_path / "streamed.wav").write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("s.wav", "streamed.wav"):
            assert len(load_audio(tmp_path / name)) == len(speech)


def _overstate(path: Path, extra: int) -> Path:
    """``path`` with its RIFF data chunk declaring ``extra`` bytes more than it holds."""
    import struct

    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at:at + 4] = struct.pack("<I", struct.unpack("<I", data[at:at + 4])[0] + extra)
    out = path.with_name("over_" + path.name)
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("frames", [16000, 800])
def test_a_header_that_overstates_its_data_by_a_sliver_is_not_called_cut(tmp_path: Path,
                                                                        frames: int) -> None:
    """A sloppy writer's header may count a frame or a pad byte more than it wrote: no
    warning, the file loads whole (also a clip under 0.1 s) and its duration is what is
    there; 10 ms or more missing is a cut."""
    from emovc.errors import EmovcWarning

    rng = np.random.default_rng(0)
    wav = (0.3 * rng.standard_normal(frames)).astype(np.float32)
    sf.write(tmp_path / "s.wav", wav, 16000, subtype="PCM_16")
    for extra in (1, 2, 2 * 159):  # a pad byte, one frame, 159 frames (< 10 ms)
        over = _overstate(tmp_path / "s.wav", extra)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(load_audio(over, sr=None)) == frames
            assert audio_info(over).duration == pytest.approx(frames / 16000)
    over = _overstate(tmp_path / "s.wav", 2 * 160)  # 10 ms
    if frames >= 1600:
        with pytest.warns(EmovcWarning, match=r"first 1.00 s of 1.01 s decode"):
            load_audio(over, sr=None)
    else:
        with pytest.raises(AudioError, match="damaged or truncated"):
            load_audio(over, sr=None)


def test_a_cut_rifx_wav_is_warned_about(tmp_path: Path, speech: np.ndarray) -> None:
    """A big-endian WAV (RIFX) cut short is warned about like a RIFF one."""
    from emovc.errors import EmovcWarning

    sf.write(tmp_path / "whole.wav", np.tile(speech, 3), 16000, subtype="PCM_16",
             endian="BIG")
    data = (tmp_path / "whole.wav").read_bytes()
    assert data[:4] == b"RIFX"
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with pytest.warns(EmovcWarning, match=r"of 6.00 s decode"):
        load_audio(tmp_path / "cut.wav")


def test_an_odd_sized_chunk_before_the_data_is_walked_past(tmp_path: Path,
                                                          speech: np.ndarray) -> None:
    """A chunk of odd size before the data chunk is followed by a pad byte: the data
    chunk is still found, so a whole file loads silently and a cut one is warned about."""
    import struct

    from emovc.errors import EmovcWarning

    path = save_audio(tmp_path / "s.wav", np.tile(speech, 3), 16000)
    data = path.read_bytes()
    at = data.index(b"data")
    odd = b"junk" + struct.pack("<I", 3) + b"abc\x00"
    data = data[:at] + odd + data[at:]
    data = data[:4] + struct.pack("<I", len(data) - 8) + data[8:]
    (tmp_path / "odd.wav").write_bytes(data)
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_audio(tmp_path / "odd.wav")) == 3 * len(speech)
    with pytest.warns(EmovcWarning, match=r"of 6.00 s decode"):
        load_audio(tmp_path / "cut.wav")


def test_an_rf64_placeholder_of_all_ones_is_an_unknown_length(tmp_path: Path,
                                                              speech: np.ndarray) -> None:
    """An RF64 ds64 data size of 2**64-1 (a streaming writer's placeholder) is no cut
    (libsndfile will not open such a file; other readers of the header might)."""
    import struct

    from emovc.audio.io import declared_frames

    sf.write(tmp_path / "s.wav", speech, 16000, format="RF64", subtype="PCM_16")
    data = bytearray((tmp_path / "s.wav").read_bytes())
    at = data.index(b"ds64") + 8 + 8  # after the chunk header and the RIFF size
    data[at:at + 8] = struct.pack("<Q", 2**64 - 1)
    (tmp_path / "streamed.wav").write_bytes(bytes(data))
    assert declared_frames(tmp_path / "streamed.wav", len(speech), 16000) == len(speech)


def test_the_files_rate_can_be_kept_and_learned(tmp_path: Path, speech: np.ndarray) -> None:
    """load_audio(path, sr=None) kept the rate but did not return it; the function that
    does was private."""
    import emovc
    import emovc.audio

    path = tmp_path / "a.flac"
    sf.write(path, speech + 0.05, 22050)  # a DC offset, removed as by load_audio
    for module in (emovc, emovc.audio):
        assert "load_audio_with_rate" in module.__all__
        wav, sr = module.load_audio_with_rate(path)
        assert sr == 22050 and np.array_equal(wav, load_audio(path, sr=None))
        assert abs(float(wav.mean())) < 1e-3


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_whole_audio_info_refuses_a_file_that_is_not_all_there(tmp_path: Path,
                                                              speech: np.ndarray,
                                                              ext: str) -> None:
    """A reused output must be complete: audio_info reads a cut WAV's or FLAC's header and
    gives its whole duration, so a cut file passed for a good one (emovc augment's resume)."""
    from emovc.audio.io import whole_audio_info

    whole = save_audio(tmp_path / f"whole{ext}", speech, 16000)
    assert whole_audio_info(whole).duration == pytest.approx(2.0, abs=1e-3)
    data = whole.read_bytes()
    (tmp_path / f"half{ext}").write_bytes(data[: len(data) // 2])
    assert audio_info(tmp_path / f"half{ext}").duration == pytest.approx(2.0, abs=1e-3)
    (tmp_path / f"stub{ext}").write_bytes(data[:100])
    (tmp_path / f"empty{ext}").write_bytes(b"")
    for name in ("half", "stub", "empty"):
        cut = tmp_path / f"{name}{ext}"
        with pytest.raises(AudioError, match=rf"{name}{ext}") as info:
            whole_audio_info(cut)
        assert "\n" not in str(info.value)
    header_only = tmp_path / "header.wav"
    sf.write(header_only, np.zeros(0), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="no samples"):
        whole_audio_info(header_only)
