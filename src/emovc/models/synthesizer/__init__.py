"""Synthesizers for voice cloning.

- :mod:`~emovc.models.synthesizer.unit_selection`: training-free unit selection from the
  reference speaker's own frames (the offline default).
- :mod:`~emovc.models.synthesizer.tacotron`: speaker-conditioned Tacotron 2 (SV2TTS) for
  users who train it (:mod:`emovc.training.synthesizer`).
- :mod:`~emovc.models.synthesizer.text`: phoneme symbol table.
"""
