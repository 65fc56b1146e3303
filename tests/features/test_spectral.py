"""STFT magnitude, (fast) Griffin-Lim and log-mel spectrograms against librosa/known answers."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from emovc.data.synthetic import EMOTION_VOICES
from emovc.data.synthetic import synthesize as speech
from emovc.errors import AudioError, ConfigError
from emovc.features.spectral import (
    STFTConfig,
    griffin_lim,
    mel_spectrogram,
    spectral_convergence,
    stft_magnitude,
)

CFG = STFTConfig()


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small FFTs: one torch thread is fastest, and far faster on a shared, loaded CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def wav() -> np.ndarray:
    return speech(EMOTION_VOICES["neutral"], duration=1.0, seed=5)


@pytest.fixture(scope="module")
def mag(wav) -> np.ndarray:
    return stft_magnitude(wav, CFG)


@pytest.mark.parametrize("n_fft,hop,win", [(512, 128, None), (1024, 256, 800)])
def test_stft_matches_librosa(wav, n_fft, hop, win):
    cfg = STFTConfig(n_fft=n_fft, hop_length=hop, win_length=win)
    ours = stft_magnitude(wav, cfg)
    ref = np.abs(librosa.stft(wav, n_fft=n_fft, hop_length=hop, win_length=win,
                              pad_mode="reflect"))
    assert ours.shape == ref.shape == (n_fft // 2 + 1, 1 + wav.shape[0] // hop)
    assert np.max(np.abs(ours - ref)) < 1e-4 * ref.max()


def test_stft_batched_torch(wav):
    x = torch.from_numpy(np.stack([wav, wav[::-1].copy()]))
    m = stft_magnitude(x, CFG)
    assert isinstance(m, torch.Tensor) and m.shape == (2, 257, 126)
    assert np.allclose(m[0].numpy(), stft_magnitude(wav, CFG), atol=1e-5)
    assert stft_magnitude(x[0], CFG).shape == (257, 126)


def test_griffin_lim_converges(wav, mag):
    sc = [spectral_convergence(mag, griffin_lim(mag, CFG, n_iter=n, momentum=0.0), CFG)
          for n in (2, 8, 32)]
    assert sc[0] > sc[1] > sc[2]


def test_fast_griffin_lim_beats_plain(wav, mag):
    for n in (8, 32):
        plain = spectral_convergence(mag, griffin_lim(mag, CFG, n_iter=n, momentum=0.0), CFG)
        fast = spectral_convergence(mag, griffin_lim(mag, CFG, n_iter=n, momentum=0.99), CFG)
        assert fast < plain


def test_griffin_lim_true_phase_is_exact(wav, mag):
    phase = np.angle(librosa.stft(wav, n_fft=512, hop_length=128, pad_mode="reflect"))
    y = griffin_lim(mag, CFG, n_iter=0, init_phase=phase, length=wav.shape[0])
    assert y.dtype == np.float32 and y.shape == wav.shape
    assert np.max(np.abs(y - wav)) < 1e-4
    # a few iterations from the true phase stay consistent
    y = griffin_lim(mag, CFG, n_iter=4, init_phase=phase, length=wav.shape[0])
    assert spectral_convergence(mag, y, CFG) < 0.01


def test_griffin_lim_batch_matches_single(wav, mag):
    other = stft_magnitude(speech(EMOTION_VOICES["angry"], duration=1.0, seed=6), CFG)
    batch = torch.from_numpy(np.stack([mag, other]))
    out = griffin_lim(batch, CFG, n_iter=8, length=wav.shape[0])
    assert out.shape == (2, wav.shape[0])
    for item, m in zip(out, (mag, other), strict=True):
        single = griffin_lim(m, CFG, n_iter=8, length=wav.shape[0])
        assert np.allclose(item.numpy(), single, atol=1e-4)


def test_mel_spectrogram_matches_librosa(wav):
    ours = mel_spectrogram(wav, sr=16000, n_mels=80, n_fft=1024, hop_length=256)
    ref = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=1024, hop_length=256,
                                         n_mels=80, power=1.0, pad_mode="reflect")
    assert ours.shape == (80, 1 + wav.shape[0] // 256)
    assert np.allclose(ours, np.log(np.maximum(ref, 1e-5)), atol=1e-3)
    batch = mel_spectrogram(torch.from_numpy(np.stack([wav, wav])))
    assert batch.shape == (2, 80, ours.shape[1])
    assert np.allclose(batch[1].numpy(), ours, atol=1e-5)


def test_config_and_bad_input(mag):
    cfg = STFTConfig(n_fft=1024, hop_length=256, win_length=1024)
    assert STFTConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError):
        STFTConfig(hop_length=1024)
    with pytest.raises(ConfigError, match="unknown STFTConfig keys"):
        STFTConfig.from_dict({"n_fft": 512, "hop": 3})
    with pytest.raises(AudioError, match="too short"):
        stft_magnitude(np.zeros(100, dtype=np.float32), CFG)
    with pytest.raises(AudioError, match="shape"):
        stft_magnitude(np.zeros((2, 2, 1000), dtype=np.float32), CFG)
    wav = np.sin(np.linspace(0, 300, 4000)).astype(np.float32)
    with pytest.raises(AudioError, match="dtype int16"):  # was read as PCM-scale floats
        stft_magnitude((wav * 32767).astype(np.int16), CFG)
    with pytest.raises(AudioError, match="NaN"):
        mel_spectrogram(np.full(4000, np.nan))
    with pytest.raises(AudioError, match="reads as 4000 clips of 2 samples"):
        stft_magnitude(np.stack([wav, wav], axis=1), CFG)  # channels-last stereo
    with pytest.raises(ConfigError, match="F = 257"):
        griffin_lim(mag[:100], CFG)
    with pytest.raises(ConfigError, match="init_phase"):
        griffin_lim(mag, CFG, init_phase=np.zeros((3, 3)))


def test_numpy_batches_are_refused_not_cut_to_their_first_row(wav, mag):
    """A (2, n) NumPy array gave the first row's spectrogram only; a (B, F, T) magnitude the
    first item's waveform."""
    two = np.stack([0.1 * wav, wav])
    for fn in (lambda x: stft_magnitude(x, CFG), mel_spectrogram):
        with pytest.raises(AudioError, match=r"shape \(n,\), got \(2, 16000\)"):
            fn(two)
    assert stft_magnitude(torch.from_numpy(two), CFG).shape[0] == 2  # torch: a batch
    assert np.array_equal(stft_magnitude(wav[None], CFG), mag)  # (1, n): one clip, as before
    with pytest.raises(ConfigError, match=r"\(F, T\) with F = 257, got \(2, 257, "):
        griffin_lim(np.stack([mag, mag]), CFG)
    with pytest.raises(ConfigError, match=rf"got \({mag.shape[1]}, 257\)$"):  # as given
        griffin_lim(mag.T, CFG)
