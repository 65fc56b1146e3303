"""GE2E speaker encoder network, loss and mel front-end."""

from emovc.models.speaker_encoder.ge2e import (
    GE2E,
    GE2EConfig,
    embed_utterance,
    ge2e_loss,
    mel_frames,
    partial_slices,
)

__all__ = ["GE2E", "GE2EConfig", "embed_utterance", "ge2e_loss", "mel_frames", "partial_slices"]
