"""Neural vocoder (WaveRNN) for the SV2TTS cloning path."""

from emovc.models.vocoder.wavernn import WaveRNN, WaveRNNConfig, mulaw_decode, mulaw_encode

__all__ = ["WaveRNN", "WaveRNNConfig", "mulaw_decode", "mulaw_encode"]
