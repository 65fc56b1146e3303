"""Device choice of the neural SV2TTS models (no GPU needed: torch's "meta" device and a
patched ``torch.cuda`` stand in for one)."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
import torch

from emovc.errors import ConfigError
from emovc.models.device import resolve_device
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines import sv2tts
from emovc.pipelines.sv2tts import NeuralCloner

HOP, R = 40, 2  # tiny vocoder's samples per frame; tiny synthesizer's frames per step
SPEAKER = np.full(256, 1 / 16, np.float32)


def _gpus(monkeypatch, count: int) -> None:
    """Make torch report ``count`` CUDA GPUs (0: none)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def test_auto_is_a_gpu_when_there_is_one(monkeypatch) -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected  # this machine, unpatched
    _gpus(monkeypatch, 0)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device() == torch.device("cpu")
    _gpus(monkeypatch, 2)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("CUDA:1") == torch.device("cuda:1")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device(" cpu ") == torch.device("cpu")


@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_is_refused_in_one_line(monkeypatch, name) -> None:
    _gpus(monkeypatch, 0)
    with pytest.raises(ConfigError, match=f"device '{name}' needs a CUDA GPU, but torch finds "
                                          "none .*; valid choices here: auto, cpu$") as err:
        resolve_device(name)
    assert "\n" not in str(err.value)


def test_a_gpu_index_beyond_the_gpus_is_refused(monkeypatch) -> None:
    _gpus(monkeypatch, 1)
    with pytest.raises(ConfigError, match="device 'cuda:1' does not exist: torch finds 1 CUDA "
                                          "GPU; valid choices here: auto, cpu, cuda, cuda:0$"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "cuda0", "", "mps"])
def test_unknown_devices_are_refused_naming_the_choices(name) -> None:
    with pytest.raises(ConfigError, match=f"unknown device '{name}'; valid choices: auto, cpu, "
                                          "cuda, cuda:N") as err:
        resolve_device(name)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="device must be a string .* got int"):
        resolve_device(0)


def test_inference_keeps_to_the_models_device() -> None:
    """Tensors made during inference go where the input is, not to torch's default device:
    with "meta" as the default, one made without a device would meet the CPU model there and
    fail (as on a GPU, where the model sits apart from the CPU default)."""
    torch.manual_seed(0)
    taco = Tacotron(TacotronConfig.tiny()).eval()
    voc = WaveRNN(WaveRNNConfig.tiny()).eval()
    ids, speaker, mel = torch.randint(2, 40, (9,)), torch.rand(16), torch.rand(3, 20)
    with torch.device("meta"):
        out, stopped = taco.infer_until_stop(ids, speaker, max_frames=8)
        wav = voc.generate(mel)
    assert out.device.type == "cpu" and out.shape[1] == 20 and isinstance(stopped, bool)
    assert wav.device.type == "cpu" and wav.shape == (120,)
    torch.testing.assert_close(wav, voc.generate(mel))  # same seed, same samples


def test_infer_says_whether_the_stop_token_ended_it() -> None:
    torch.manual_seed(0)
    taco = Tacotron(TacotronConfig.tiny()).eval()
    ids, speaker = torch.randint(2, 40, (9,)), torch.rand(16)
    with torch.no_grad():
        taco.stop_proj.weight.zero_()
        taco.stop_proj.bias.fill_(-20.0)  # never stops
    mel, stopped = taco.infer_until_stop(ids, speaker, max_frames=13)
    assert mel.shape == (12, 20) and not stopped  # whole steps of 2 frames
    assert taco.infer_until_stop(ids, speaker, max_frames=1)[0].shape == (2, 20)  # ≥ 1 step
    with torch.no_grad():
        taco.stop_proj.bias.fill_(20.0)  # stops at once
    mel, stopped = taco.infer_until_stop(ids, speaker, max_frames=13)
    assert mel.shape == (2, 20) and stopped
    assert taco.infer(ids, speaker, max_frames=13).shape == (2, 20)


# --- NeuralCloner ---------------------------------------------------------------------------

class _NoEncoder:
    """Stands in for the speaker encoder (the tests pass embeddings themselves)."""


def _cloner(device: str = "cpu") -> NeuralCloner:
    """Tiny cloner whose stop token ends every utterance after one decoder step."""
    torch.manual_seed(0)
    taco = Tacotron(TacotronConfig.tiny(speaker_dim=256))
    with torch.no_grad():
        taco.stop_proj.weight.zero_()
        taco.stop_proj.bias.fill_(20.0)
    return NeuralCloner(taco, WaveRNN(WaveRNNConfig.tiny()), SYMBOLS, encoder=_NoEncoder(),
                        device=device)


def test_cpu_device_places_the_models_and_returns_numpy() -> None:
    cloner = _cloner()
    assert cloner.device == torch.device("cpu")
    assert {p.device.type for m in (cloner.synthesizer, cloner.vocoder)
            for p in m.parameters()} == {"cpu"}
    wav, sr = cloner.synthesize(SPEAKER, "Hi.")
    assert isinstance(wav, np.ndarray) and wav.dtype == np.float32 and sr == 16000
    assert wav.shape == (R * HOP,)  # the stop token ended it after one step


def test_models_move_to_the_chosen_device(monkeypatch) -> None:
    """The models go to the resolved device (torch's "meta" device standing in for a GPU)."""
    monkeypatch.setattr(sv2tts, "resolve_device", lambda device: torch.device("meta"))
    cloner = _cloner(device="cuda")
    assert cloner.device == torch.device("meta")
    assert {p.device.type for m in (cloner.synthesizer, cloner.vocoder)
            for p in m.parameters()} == {"meta"}


def test_inputs_go_to_the_cloners_device() -> None:
    """Ids and embedding are made on ``cloner.device``, not on torch's default device (here
    "meta", which would fail against the CPU models, as the CPU default would on a GPU)."""
    cloner = _cloner()
    expected = cloner.synthesize(SPEAKER, "Hi.")[0]
    with torch.device("meta"):
        wav, _ = cloner.synthesize(SPEAKER, "Hi.")
    np.testing.assert_array_equal(wav, expected)


def test_cloner_auto_is_the_cpu_without_a_gpu(monkeypatch) -> None:
    _gpus(monkeypatch, 0)
    assert _cloner(device="auto").device == torch.device("cpu")
    assert NeuralCloner.__init__.__kwdefaults__["device"] == "auto"


@pytest.mark.parametrize(("device", "message"), [
    ("cuda", "device 'cuda' needs a CUDA GPU, but torch finds none"),
    ("cuda:0", "device 'cuda:0' needs a CUDA GPU"),
    ("gpu", "unknown device 'gpu'; valid choices: auto, cpu, cuda, cuda:N"),
])
def test_bad_devices_are_refused_before_loading(monkeypatch, tmp_path, device, message) -> None:
    """One line, before the (here missing) checkpoints are read."""
    _gpus(monkeypatch, 0)
    with pytest.raises(ConfigError, match=message) as err:
        NeuralCloner.from_folder(tmp_path / "no-such-folder", device=device)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=message):
        _cloner(device=device)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_vocoder_shows_its_progress_on_a_terminal_and_samples_the_same(monkeypatch) -> None:
    """A full-size WaveRNN makes about 0.1 s of audio per CPU second: a clone of a few
    sentences sat silent for minutes. On a terminal a bar counts the samples; in a log (no
    terminal) nothing is written; the samples do not depend on it."""
    torch.manual_seed(0)
    voc = WaveRNN(WaveRNNConfig.tiny()).eval()
    mel = torch.rand(60, 20)  # 60 frames of 40 samples
    plain = voc.generate(mel)
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    torch.testing.assert_close(voc.generate(mel, progress=True), plain)
    assert log.getvalue() == ""
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    torch.testing.assert_close(voc.generate(mel, progress=True), plain)
    assert "vocoder" in term.getvalue() and "sample" in term.getvalue()
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    voc.generate(mel)
    assert term.getvalue() == ""


def test_the_cloners_vocoder_bar_is_off_unless_asked_for(monkeypatch) -> None:
    """Review 42b L5: NeuralCloner always asked for the vocoder's bar, so a library user's
    terminal, and the app server's for every neural clone request (interleaved across its
    threads), drew one; it is an option, off by default (`emovc clone` turns it on)."""
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    cloner = _cloner()
    assert cloner.progress is False
    quiet, _ = cloner.synthesize(SPEAKER, "Hi.")
    assert term.getvalue() == ""
    cloner.progress = True
    shown, _ = cloner.synthesize(SPEAKER, "Hi.")
    assert "vocoder" in term.getvalue()
    np.testing.assert_array_equal(shown, quiet)


def test_the_vocoder_bar_is_closed_when_generation_stops(monkeypatch) -> None:
    """Review 42b L5: an error or Ctrl-C in the sample loop skipped ``bar.close()``, leaving
    the bar on the terminal."""
    from emovc.models.vocoder import wavernn

    bars = []

    def kept(total: int, show: bool):
        bars.append(make(total, show))
        return bars[-1]

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    make = wavernn._sample_bar
    monkeypatch.setattr(wavernn, "_sample_bar", kept)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    voc = WaveRNN(WaveRNNConfig.tiny()).eval()
    monkeypatch.setattr(torch, "multinomial", interrupt)
    with pytest.raises(KeyboardInterrupt):
        voc.generate(torch.rand(60, 20), progress=True)
    (bar,) = bars
    assert bar.disable  # tqdm's close() sets it; the bar was shown (a terminal) until then
