"""The reference side of :class:`~emovc.pipelines.cloning.VoiceCloner`: references read,
checked and prepared into a :class:`~emovc.pipelines.clone_refs.Voice` (each warning given as it
is found, attributed to the caller and kept with the voice), the cloner's cache of its last
voices (:data:`VOICE_CACHE_SECONDS`, :mod:`emovc.pipelines.clone_cache`), the mixed-speaker
check with the bundled speaker encoder, and the refusal of a voice prepared with other
settings."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emovc.errors import AudioError, ConfigError, EmovcWarning, warn_every_time
from emovc.pipelines.clone_cache import file_stamps, stamp_key
from emovc.pipelines.clone_refs import (
    PREPARATION,
    SR,
    ReadReference,
    Reference,
    Voice,
    band_limit_note,
    cap_note,
    clip_note,
    drop_repeats,
    noise_note,
    prepare_reference,
    read_reference,
    reference_list,
    speaker_mismatch,
)
from emovc.pipelines.clone_refs import cap_total as _cap

#: reference speech, seconds, of the voices a cloner keeps (its last ones, the newest always)
#: so that references given again are not analysed again: a prepared and analysed voice takes
#: about 1.2 MB per second of speech (WORLD envelopes and features; docs/cloning.md)
VOICE_CACHE_SECONDS = 120.0
#: the modules of :class:`~emovc.pipelines.cloning.VoiceCloner`: a warning names the first
#: caller outside them (the line that called ``clone``, ``prepare_voice``, ...)
CLONER_MODULES = frozenset({"emovc.pipelines.cloning", __name__})


class VoicePreparation:
    """Mixin of :class:`~emovc.pipelines.cloning.VoiceCloner` for its references; the class
    using it sets ``config`` (a :class:`~emovc.pipelines.clone_config.CloneConfig`),
    ``_voices`` (a :class:`~emovc.pipelines.clone_cache.VoiceCache` of its last voices) and
    ``voice_cache_seconds`` (its bound, :data:`VOICE_CACHE_SECONDS` by default)."""

    def load_references(self, references: Sequence[Reference] | Reference) -> list[np.ndarray]:
        """Load and preprocess references (paths or ``(wav, sr)`` pairs, or one of them;
        see :func:`reference_list` and :func:`prepare_reference`): :meth:`prepare_voice`'s
        clips.

        Returns:
            float32 ``(m_i,)`` clips at 16 kHz.

        Raises:
            AudioError: as :meth:`prepare_voice`.
        """
        return list(self.prepare_voice(references).wavs)

    def prepare_voice(self, references: Sequence[Reference] | Reference) -> Voice:
        """Read, check and prepare references (paths or ``(wav, sr)`` pairs, or one of them;
        see :func:`reference_list` and :func:`prepare_reference`) into a :class:`Voice` that
        :meth:`clone` and :meth:`clone_to_file` take in their place, so that several texts
        cost one reference analysis (the unit selection's or the speaker embedding is made
        on the first clone and kept in the voice).

        A recording given more than once (the same file, or the same samples) is used once,
        with a warning (:func:`drop_repeats`); one recorded below 16 kHz is used with a
        warning that the clone will sound band-limited (:func:`band_limit_note`), a clipped
        one with ``emovc convert``'s clipping warning (:func:`clip_note`), a noisy one with a
        warning that the clone will carry its noise (:func:`noise_note`), and references that
        may be of several speakers with a warning naming the odd one
        (:func:`speaker_mismatch`). The same references given again (the same samples under
        the same names) are taken from this cloner's last voices (up to its
        ``voice_cache_seconds`` of reference speech in all, :data:`VOICE_CACHE_SECONDS` by
        default), with the same warnings
        again; files unchanged since they were read (their path, size and times,
        :func:`~emovc.pipelines.clone_cache.file_stamps`) are not even read again. Concurrent
        calls with the same references prepare them once.

        Raises:
            AudioError: no reference, a silent/unreadable/unvoiced one, a sample rate in kHz,
                or less than ``min_reference_s`` of speech in total.
        """
        references = reference_list(references)
        if not references:
            raise AudioError("no reference audio given; pass at least one --reference file "
                             "(Python: a path or a (wav, sr) pair)")
        files = tuple(Path(r) for r in references if not isinstance(r, tuple))
        preparation = self._preparation()
        stamps = file_stamps(references)
        if stamps is None:  # found by content only: a pair, or a file changed just now
            voice, _, fresh = self._voice_of(references, files, preparation)
        else:
            by_files = stamp_key(preparation, files, stamps)
            with self._voices.claim(by_files):
                voice, fresh = self._voices.get(by_files), False
                if voice is None:
                    voice, key, fresh = self._voice_of(references, files, preparation)
                    if file_stamps(references) == stamps:  # not changed while it was read
                        self._voices.add_stamp(by_files, key)
        if not fresh:  # a cached voice gives its warnings again
            for note in voice.notes:
                _warn_caller(note)
        return voice

    def _voice_of(self, references: list[Reference], files: tuple[Path, ...],
                  preparation: tuple) -> tuple[Voice, tuple, bool]:
        """``(voice, content key, fresh)``: the cached voice of ``references`` found by what
        they hold (read now), else prepared now and cached (``fresh``: its warnings were
        given as they were found); one preparation for concurrent calls with the same key."""
        read = [read_reference(r, i) for i, r in enumerate(references)]
        key = (preparation, files,
               tuple((r.name, r.sr, r.rate, r.clipped, r.digest()) for r in read))
        with self._voices.claim(key):
            voice = self._voices.get(key)
            if voice is not None:
                return voice, key, False
            voice = self._prepare(read, files)
            self._voices.put(key, voice, self.voice_cache_seconds)
            return voice, key, True

    def _preparation(self) -> tuple:
        """This cloner's :data:`PREPARATION` settings."""
        return tuple(getattr(self.config, name) for name in PREPARATION)

    def _prepare(self, refs: list[ReadReference], files: tuple[Path, ...]) -> Voice:
        """The :class:`Voice` of references as read; each warning is given as it is found
        (before an error that ends the preparation) and kept in :attr:`Voice.notes`."""
        notes: list[str] = []

        def note(message: str) -> None:
            if message:
                notes.append(message)
                _warn_caller(message)

        cfg = self.config
        read, repeats = drop_repeats(refs)
        note(repeats)
        for r in read:
            note(band_limit_note(r))
            note(clip_note(r))
        wavs = [prepare_reference(r.wav, r.sr, cfg.denoise, cfg.target_dbfs, r.name)
                for r in read]
        for r in read:  # checked by prepare_reference, so measured as read (not denoised)
            note(noise_note(r, cfg.denoise))
        names = [r.name for r in read]
        total = sum(len(w) for w in wavs) / SR
        if total < cfg.min_reference_s:
            raise AudioError(f"reference speech too short: {total:.2f} s after trimming "
                             f"(need at least {cfg.min_reference_s:g} s)")
        if len(wavs) > 1:
            note(self._mixed_note(wavs, names))
        cap = int(cfg.max_reference_s * SR)
        note(cap_note(wavs, names, cap))
        wavs = _cap(wavs, cap)
        return Voice(tuple(wavs), tuple(names[:len(wavs)]), files, tuple(notes),
                     self._preparation())

    def _mixed_note(self, wavs: list[np.ndarray], names: list[str]) -> str:
        """A one-line warning when the references sound like several speakers, else ``""``."""
        encoder = _speaker_encoder()
        try:
            emb = np.stack([encoder.embed(w, SR, name=n) for w, n in zip(wavs, names,
                                                                         strict=True)])
        except AudioError:  # too little speech for an embedding: nothing to compare
            return ""
        return speaker_mismatch(emb, names)

    def _voice(self, references: Voice | Sequence[Reference] | Reference) -> Voice:
        """``references`` as a :class:`Voice` (prepared now unless it is one).

        Raises:
            ConfigError: a voice prepared with other :data:`PREPARATION` settings than this
                cloner's.
        """
        if not isinstance(references, Voice):
            return self.prepare_voice(references)
        if references.preparation != self._preparation():
            asked = dict(zip(PREPARATION, self._preparation(), strict=True))
            made = dict(zip(PREPARATION, references.preparation, strict=True))
            differ = ", ".join(f"{k}={made[k]!r} (this cloner: {asked[k]!r})"
                               for k in PREPARATION if made[k] != asked[k])
            raise ConfigError(f"this voice was prepared with other reference settings: "
                              f"{differ}; prepare it with this cloner (cloner.prepare_voice("
                              "references))")
        return references


def _warn_caller(message: str) -> None:
    """One :class:`EmovcWarning` line, on every call, attributed to the first caller outside
    :data:`CLONER_MODULES` (the line that called ``clone``, ``prepare_voice``, ...)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__") in CLONER_MODULES:
        frame, level = frame.f_back, level + 1
    warn_every_time(message, EmovcWarning, stacklevel=level)


@functools.lru_cache(maxsize=1)
def _speaker_encoder():
    """The bundled GE2E speaker encoder (loaded once per process)."""
    from emovc.pipelines.speaker import SpeakerEncoder

    return SpeakerEncoder.from_pretrained()
