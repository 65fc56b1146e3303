"""Frame-level phone labels from PocketSphinx phone recognition ("allphone" search).

Used by the cloning unit selection as a speaker-independent content feature: the reference
speech and the espeak-ng front-end are both decoded into US-English phones (CMU set, 39 phones
plus silence) with PocketSphinx's bundled acoustic model and phone bigram, and a reference frame
whose phone differs from the front-end frame's pays an extra target cost. The recogniser is the
one already bundled with the ``pocketsphinx`` wheel (no download); we wrap it rather than train
our own phone recogniser because no other offline English acoustic model ships on PyPI.

Accuracy is that of a 2010s GMM phone recogniser (roughly one phone in three wrong on read
speech), so the labels are a soft hint next to the spectral matching, not a transcription.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

PHONE_SR = 16000
FRAME_MS = 10.0  # PocketSphinx frame rate
NON_SPEECH = ("SIL", "+NSN+", "+SPN+", "+BREATH+", "+GARBAGE+", "(NULL)")
#: label index of silence/noise; the 39 CMU phones follow in alphabetical order
PHONES = ("SIL", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
          "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R",
          "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH")
_INDEX = {p: i for i, p in enumerate(PHONES)}
UNKNOWN = -1  #: label of frames whose phone is unknown (no phone cost is applied there)

# espeak-ng (en / en-us voices) phoneme mnemonics -> CMU phones; stress marks and trailing
# variant digits are stripped first (e.g. "'3:" -> "3:", "@2" -> "@"). Written here because
# no package maps espeak's internal phoneme names to ARPAbet.
_ESPEAK_TO_CMU = {
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V",
    "T": "TH", "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "x": "HH",
    "tS": "CH", "dZ": "JH", "m": "M", "n": "N", "N": "NG", "l": "L", "r": "R", "w": "W",
    "j": "Y", "t#": "T", "d#": "D", "n-": "N", "l/": "L", "r-": "R", "@L": "L", "?": "SIL",
    "_": "SIL", "_:": "SIL", "_!": "SIL", "_|": "SIL",
    "@": "AH", "V": "AH", "a#": "AH", "3": "ER", "3:": "ER", "@r": "ER", "a": "AE",
    "aa": "AE", "A:": "AA", "A": "AA", "A@": "AA", "0": "AA", "aI": "AY", "aI@": "AY",
    "aU": "AW", "e": "EH", "E": "EH", "e@": "EH", "eI": "EY", "i": "IY", "i:": "IY",
    "i@": "IH", "I": "IH", "I#": "IH", "O": "AO", "O:": "AO", "O@": "AO", "o@": "AO",
    "OI": "OY", "oU": "OW", "o": "OW", "U": "UH", "U@": "UH", "u:": "UW", "u": "UW",
}


def espeak_phone_index(name: str) -> int:
    """Index into :data:`PHONES` of an espeak-ng phoneme mnemonic (:data:`UNKNOWN` if none)."""
    core = name.lstrip("'\",%=")
    for key in (core, core.rstrip("0123456789") or core):
        if key in _ESPEAK_TO_CMU:
            return _INDEX[_ESPEAK_TO_CMU[key]]
    return UNKNOWN


def segment_labels(segments: list[tuple[int, float, float]], n_frames: int,
                   frame_period_ms: float, default: int = 0) -> np.ndarray:
    """``(n_frames,)`` int64 labels from ``[(label, start_s, end_s), ...]`` segments; frame ``t``
    is centred at ``t · frame_period_ms``; frames outside every segment get ``default``."""
    labels = np.full(int(n_frames), default, dtype=np.int64)
    centres = np.arange(int(n_frames)) * frame_period_ms / 1000
    for label, start, end in segments:
        labels[(centres >= start) & (centres < end)] = label
    return labels


class PhoneRecognizer:
    """PocketSphinx allphone decoder (bundled en-US model), created once and reused."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder, get_model_path

        lm = os.path.join(get_model_path(), "en-us", "en-us-phone.lm.bin")
        # wide beams: phone decoding has no lexicon to prune with; lw 2 as in the
        # PocketSphinx phone-recognition example
        self._decoder = Decoder(samprate=PHONE_SR, loglevel="FATAL", allphone=lm, lw=2.0,
                                beam=1e-20, pbeam=1e-20)

    def segments(self, wav: np.ndarray) -> list[tuple[str, float, float]]:
        """``[(phone, start_s, end_s), ...]`` of a 16 kHz float waveform ``(n,)``.

        Non-speech segments (silence, noise, breath) are reported as ``"SIL"``.
        """
        pcm = (np.clip(np.asarray(wav, np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
        d = self._decoder
        d.reinit_feat()  # no feature normalisation carried over from the previous utterance
        d.start_utt()
        d.process_raw(pcm.tobytes(), full_utt=True)
        d.end_utt()
        out = []
        for seg in d.seg():
            name = "SIL" if seg.word in NON_SPEECH else seg.word
            out.append((name, seg.start_frame * FRAME_MS / 1000,
                        (seg.end_frame + 1) * FRAME_MS / 1000))
        return out

    def frame_labels(self, wav: np.ndarray, n_frames: int, frame_period_ms: float) -> np.ndarray:
        """``(n_frames,)`` int64 phone index (into :data:`PHONES`) per analysis frame.

        Frame ``t`` is centred at ``t · frame_period_ms`` (the WORLD grid); frames outside every
        decoded segment are silence (0).
        """
        segments = [(_INDEX.get(name, 0), a, b) for name, a, b in self.segments(wav)]
        return segment_labels(segments, n_frames, frame_period_ms)


_LOCK = threading.Lock()  # one shared PocketSphinx decoder; it is not thread-safe


@lru_cache(maxsize=1)
def _shared_recognizer() -> PhoneRecognizer:
    return PhoneRecognizer()


def decode_labels(wav: np.ndarray, n_frames: int, frame_period_ms: float) -> np.ndarray:
    """:meth:`PhoneRecognizer.frame_labels` with one process-wide recogniser (created on first
    use, calls serialised by a lock)."""
    with _LOCK:
        return _shared_recognizer().frame_labels(wav, n_frames, frame_period_ms)
