"""SV2TTS training above 16 kHz (``--set 'mel={sr: 22050}'``): the synthesizer's targets and
the GTA vocoder's waveforms come from the audio decoded at the mel rate, and a corpus recorded
below that rate is named in one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from emovc.errors import EmovcWarning
from emovc.models.checkpoint import save_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.models.vocoder import WaveRNNConfig
from emovc.training import synthesizer as tsyn
from emovc.training import vocoder as tvoc

MEL22 = {"sr": 22050, "n_mels": 80, "n_fft": 1024, "hop_length": 256}
FLOOR = float(np.log(1e-5))  # log_mel's floor: a band with nothing in it
BELOW = "below the mel settings' rate"


def _wideband_corpus(root: Path, sr: int = 44100) -> Path:
    """A LibriTTS-layout corpus of 2 speakers × 2 transcribed clips recorded at ``sr``: synthetic
    speech with a noise floor over the whole band (as a real recording has above 8 kHz)."""
    from emovc.audio import save_audio
    from emovc.audio.io import resample
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    rng = np.random.default_rng(0)
    for spk in ("11", "12"):
        for i in range(2):
            speech = resample(synthesize(EMOTION_VOICES["neutral"], duration=1.5,
                                         seed=int(spk) + i), 16000, sr)
            wav = speech + 0.01 * rng.standard_normal(len(speech)).astype(np.float32)
            path = save_audio(root / spk / "100" / f"{spk}_100_00000{i}_000000.wav", wav, sr)
            path.with_name(path.stem + ".normalized.txt").write_text(f"Hello number {i}.")
    return root


def _high_bands(mel: dict, above: float = 8500.0) -> np.ndarray:
    """Indices of the mel bands centred above ``above`` Hz."""
    centres = librosa.mel_frequencies(mel["n_mels"] + 2, fmin=0.0, fmax=mel["sr"] / 2)[1:-1]
    return np.flatnonzero(centres > above)


def _rate_warnings(caught) -> list[str]:
    """The messages of the EmovcWarnings about clips below the mel rate."""
    return [str(w.message) for w in caught
            if issubclass(w.category, EmovcWarning) and BELOW in str(w.message)]


def test_the_synthesizer_learns_the_bands_above_8_khz(tmp_path) -> None:
    """Every clip was decoded at 16 kHz and upsampled to mel.sr: the targets' bands above
    8 kHz held nothing (the log floor), and the "22 kHz" voice was band-limited to 8 kHz."""
    corpus = _wideband_corpus(tmp_path / "corpus")
    cfg = tsyn.build_config(str(corpus), "unused", overrides={"mel": MEL22,
                                                               "cache_dir": str(tmp_path / "c")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = tsyn.load_corpus(cfg, progress=False)
    assert len(data) == 4 and _rate_warnings(caught) == []
    high = _high_bands(MEL22)
    assert len(high) >= 5  # 80 bands up to 11025 Hz: the top 6
    for utt in data:
        assert utt.mel.shape[1] == 80
        assert utt.mel[:, high].mean() > FLOOR + 4, utt.mel[:, high].mean()


def _synthesizer(path: Path, mel: dict) -> Path:
    """A random tiny synthesizer checkpoint of ``mel``, on the bundled encoder."""
    torch.manual_seed(0)
    model = Tacotron(TacotronConfig.tiny(speaker_dim=256, n_mels=mel["n_mels"]))
    return save_checkpoint(path, kind=tsyn.KIND, config=model.cfg.to_dict(),
                           state_dict=model.state_dict(),
                           extra={"mel": mel, "symbols": SYMBOLS,
                                  "encoder": {"name": "resemblyzer"}})


def test_the_gta_vocoder_learns_the_waveform_above_8_khz(tmp_path) -> None:
    """The GTA vocoder's waveforms were the 16 kHz speech upsampled: nothing above 8 kHz."""
    corpus = _wideband_corpus(tmp_path / "corpus")
    model = WaveRNNConfig.tiny(n_mels=80, hop_length=256).to_dict()
    cfg = tvoc.build_config(str(corpus), "unused", overrides={
        "mel": MEL22, "model": model, "gta": str(_synthesizer(tmp_path / "taco.pt", MEL22)),
        "cache_dir": str(tmp_path / "c")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clips = tvoc.load_corpus(cfg, progress=False)
    assert len(clips) == 4 and _rate_warnings(caught) == []
    for i in range(len(clips)):
        mel, wav = clips[i]
        power = np.abs(np.fft.rfft(wav)) ** 2
        freqs = np.fft.rfftfreq(len(wav), 1 / MEL22["sr"])
        share = power[freqs > 8500].sum() / power.sum()
        assert share > 1e-3, share  # upsampled 16 kHz audio: ~1e-9
        assert abs(len(wav) / MEL22["hop_length"] - len(mel)) <= 2


@pytest.mark.parametrize("recipe", ["synthesizer", "vocoder"])
def test_a_corpus_below_the_mel_rate_is_named_in_one_warning(recipe, tmp_path,
                                                             transcribed_corpus) -> None:
    """A 16 kHz corpus trained at mel.sr 22050 was taken without a word."""
    corpus = transcribed_corpus(tmp_path / "corpus")  # 16 kHz clips
    if recipe == "synthesizer":
        cfg = tsyn.build_config(str(corpus), "unused", overrides={"mel": MEL22})
        what, load = "synthesizer corpus", tsyn.load_corpus
    else:
        cfg = tvoc.build_config(str(corpus), "unused", overrides={
            "mel": MEL22, "model": WaveRNNConfig.tiny(n_mels=80, hop_length=256).to_dict()})
        what, load = "vocoder corpus", tvoc.load_corpus
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load(cfg, progress=False)
    (message,) = _rate_warnings(caught)
    assert message.startswith(f"4 of the 4 clips of the {what} are recorded below the mel "
                              "settings' rate mel.sr = 22050 Hz (at 16000 Hz, e.g. ")
    assert message.endswith("): resampled up, they leave the mel bands above 8000 Hz empty, "
                            "and the model learns band-limited speech; train at mel.sr 16000 "
                            "(--set 'mel={sr: 16000}') or on audio recorded at 22050 Hz or "
                            "more") and "\n" not in message
