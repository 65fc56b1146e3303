"""Parametric text-to-speech front-end: espeak-ng synthesised into a memory buffer.

espeak-ng is loaded from the ``espeakng-loader`` wheel (it ships ``libespeak-ng`` and its voice
data), so no system espeak is needed. We call the C library through ``ctypes`` in synchronous
retrieval mode: samples arrive in a callback and are collected into a numpy buffer — nothing is
played or written to disk. espeak-ng keeps global state and is not thread-safe, so every call
is serialised by a lock.

The same text gives the same samples on every call: espeak-ng's waveform generator keeps state
from one utterance to the next (pitch-flutter position, wave phase, AGC in C ``static``
variables that neither ``espeak_Terminate`` nor ``espeak_Initialize`` reset), which made the
length and timing of an utterance depend on what was spoken before. Each call therefore loads
a private copy of the library afresh and unloads it afterwards (``dlclose``; about 5 ms).

>>> wav, sr = EspeakFrontend().synthesize("Hello world.")
>>> sr, wav.dtype
(16000, dtype('float32'))
"""

from __future__ import annotations

import _ctypes
import atexit
import ctypes
import os
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from emovc.errors import ConfigError, EmovcError, EmovcWarning, warn_every_time
from emovc.pipelines.sentences import EMPTY_TEXT, check_text, shortened

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}
_PHONEMES_IPA = 0x02
_INITIALIZE_PHONEME_EVENTS = 0x0001
_EVENT_LIST_TERMINATED, _EVENT_PHONEME = 0, 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h (the fields we read: type, sample, id.string)."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))
_LOCK = threading.Lock()
_STATE: dict = {}


@dataclass(frozen=True)
class FrontendConfig:
    """espeak-ng voice settings.

    Attributes:
        voice: espeak-ng voice name (``"en-us"``, ``"en"``, ``"en-us+f3"`` for a variant...).
        rate: speaking rate in words per minute (espeak-ng range 80-450).
        pitch: base pitch 0-100 (50 = voice default).
        pitch_range: intonation range 0-100 (0 = monotone).
        sample_rate: output sample rate in Hz (espeak-ng's native 22.05 kHz is resampled).
    """

    voice: str = "en-us"
    rate: int = 160
    pitch: int = 50
    pitch_range: int = 50
    sample_rate: int = 16000


def _library_path() -> str:
    """Path of a private copy of libespeak-ng (made once per process, removed at exit), so
    that nothing else in the process holds it open and :func:`_session` can really unload it;
    the wheel's own file if the copy cannot be made."""
    if "path" in _STATE and os.path.isfile(_STATE["path"]):
        return _STATE["path"]
    try:
        import espeakng_loader
    except ImportError:  # pragma: no cover - dependency of emovc
        msg = "the text front-end needs espeakng-loader: pip install espeakng-loader"
        raise EmovcError(msg) from None
    src = espeakng_loader.get_library_path()
    _remove_orphans(tempfile.gettempdir())
    try:
        folder = tempfile.mkdtemp(prefix=f"{COPY_PREFIX}{os.getpid()}-")
        atexit.register(_remove_copy, folder, os.getpid())
        path = shutil.copy(src, os.path.join(folder, os.path.basename(src)))
    except OSError:  # pragma: no cover - read-only temp dir: fresh statics are not guaranteed
        path = src
    _STATE.update(path=path, data=espeakng_loader.get_data_path().encode())
    return path


COPY_PREFIX = "emovc-espeak-"  # + "<pid>-<random>": the folder of a process's library copy


def _remove_orphans(tmp: str) -> None:
    """Delete library copies of processes that no longer run (killed by a signal, their
    exit handler never ran); copies of running processes are left alone."""
    for entry in os.scandir(tmp):
        pid = entry.name.removeprefix(COPY_PREFIX).split("-")[0]
        if entry.name.startswith(COPY_PREFIX) and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_copy(folder: str, owner_pid: int) -> None:
    """Delete the library copy at exit, in the process that made it only (not in a fork)."""
    if os.getpid() == owner_pid:
        shutil.rmtree(folder, ignore_errors=True)


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and result types of the espeak-ng functions we call."""
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                          ctypes.c_int]


@contextmanager
def _session(chunks: list[np.ndarray], phones: list[tuple[str, int]]
             ) -> Iterator[tuple[ctypes.CDLL, int]]:
    """Freshly loaded and initialised libespeak-ng, unloaded on exit; yields (lib, native
    sample rate). Synthesised int16 blocks are appended to ``chunks`` and phoneme events
    ``(espeak mnemonic, start sample)`` to ``phones``. Call with :data:`_LOCK` held."""
    lib = ctypes.CDLL(_library_path())
    try:
        _declare(lib)
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, _STATE["data"],
                                   _INITIALIZE_PHONEME_EVENTS)
        if sr <= 0:
            raise EmovcError("espeak-ng failed to initialise (voice data missing?)")

        def collect(wav, n, events):  # called by espeak-ng for every synthesised block
            if n > 0 and wav:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while events and events[i].type != _EVENT_LIST_TERMINATED:
                if events[i].type == _EVENT_PHONEME:  # (espeak phoneme mnemonic, start sample)
                    phones.append((events[i].id.string.decode("ascii", "replace"),
                                   events[i].sample))
                i += 1
            return 0

        cb = _CALLBACK(collect)
        lib.espeak_SetSynthCallback(cb)
        try:
            yield lib, sr
        finally:
            lib.espeak_Terminate()
    finally:
        _unload(lib)


def _unload(lib: ctypes.CDLL) -> None:
    """``dlclose`` the library so that the next :func:`_session` starts with fresh C statics."""
    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
    if close is not None:
        close(lib._handle)


def _set_voice(lib: ctypes.CDLL, cfg: FrontendConfig) -> None:
    if lib.espeak_SetVoiceByName(cfg.voice.encode()) != 0:
        raise ConfigError(f"unknown espeak-ng voice {cfg.voice!r}; try en-us, en, en-gb, de, fr")
    for name, value in (("rate", cfg.rate), ("pitch", cfg.pitch), ("range", cfg.pitch_range),
                        ("volume", 100)):
        lib.espeak_SetParameter(_PARAM[name], int(value), 0)


class EspeakFrontend:
    """Text → speech waveform and text → IPA phonemes with the bundled espeak-ng."""

    def __init__(self, config: FrontendConfig | None = None) -> None:
        self.config = config or FrontendConfig()

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Speak ``text``; returns (float32 waveform ``(n,)``, ``config.sample_rate``).

        Raises:
            EmovcError: empty text, text with nothing an English voice can pronounce
                (:func:`check_pronounceable`, which warns of letters of other scripts), or
                espeak-ng produced no audio.
        """
        wav, sr, _ = self.synthesize_with_phones(text)
        return wav, sr

    def check_text(self, text: str) -> str:
        """``text`` stripped, once checked as :meth:`synthesize` checks it (a caller that
        speaks it in parts checks the whole text first, then passes ``checked=True``: one
        warning per text, and a refusal before any part is spoken).

        Raises:
            ConfigError: not a string.
            EmovcError: empty, or nothing in it that this voice can pronounce.
        """
        return _check_text(text, self.config.voice)

    def synthesize_with_phones(self, text: str, checked: bool = False,
                               ) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
        """Like :meth:`synthesize`, plus the phonemes espeak-ng spoke:
        ``[(espeak mnemonic, start_s, end_s), ...]`` in output time (``"_"`` = pause).
        ``checked``: part of a text that :meth:`check_text` passed (not checked for letters
        of other scripts again)."""
        text = _check_text(text, None if checked else self.config.voice)
        chunks: list[np.ndarray] = []
        marks: list[tuple[str, int]] = []
        with _LOCK, _session(chunks, marks) as (lib, native_sr):
            _set_voice(lib, self.config)
            raw = text.encode("utf-8") + b"\0"
            lib.espeak_Synth(raw, len(raw), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        if pcm.size == 0:
            raise EmovcError(f"espeak-ng produced no audio for text {text[:40]!r}")
        wav = pcm.astype(np.float32) / 32768.0
        ends = [s for _, s in marks[1:]] + [pcm.size]
        phones = [(name, start / native_sr, end / native_sr)
                  for (name, start), end in zip(marks, ends, strict=True) if end > start]
        if native_sr != self.config.sample_rate:
            import soxr

            wav = soxr.resample(wav, native_sr, self.config.sample_rate).astype(np.float32)
        return wav, self.config.sample_rate, phones

    def phonemes(self, text: str, checked: bool = False) -> str:
        """IPA phoneme string of ``text`` (words separated by spaces, clauses by ``" | "``);
        ``checked`` as for :meth:`synthesize_with_phones`.

        Raises:
            EmovcError: empty text, or (an English voice) text with no Latin letter or digit
                (:func:`check_pronounceable`, which warns of letters of other scripts).
        """
        text = _check_text(text, None if checked else self.config.voice)
        with _LOCK, _session([], []) as (lib, _):
            _set_voice(lib, self.config)
            buf = ctypes.create_string_buffer(text.encode("utf-8"))
            ptr = ctypes.c_char_p(ctypes.addressof(buf))
            out = []
            while ptr.value:  # espeak-ng advances ptr clause by clause and NULLs it at the end
                res = lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, _PHONEMES_IPA)
                if res:
                    out.append(res.decode("utf-8").strip())
        return " | ".join(o for o in out if o)


def _check_text(text: object, voice: str | None = "en-us") -> str:
    """``text`` stripped, for espeak-ng: a string (:func:`~emovc.pipelines.sentences.check_text`)
    with something in it besides white space, checked by :func:`check_pronounceable` for
    ``voice`` (``None``: not).

    Raises:
        ConfigError: not a string.
        EmovcError: empty or blank, or nothing in it that ``voice`` can pronounce.
    """
    text = check_text(text).strip()
    if not text:
        raise EmovcError(EMPTY_TEXT)
    return text if voice is None else check_pronounceable(text, voice)


#: letters an English voice reads whose Unicode names are not "LATIN ...": the micro sign
#: ("micro") and the ordinal indicators
_READ_TOO = frozenset("µªº")
#: the Letterlike Symbols block (ℓ, ℃, №, ℮ ...): Latin-script symbols, not another script's
_LETTERLIKE = (0x2100, 0x214F)


def foreign_letters(text: str) -> list[str]:
    """The letters of ``text`` outside the Latin script (Cyrillic, Greek, CJK, Arabic,
    Hebrew, kana, Hangul, fullwidth forms ...), each once, in order: an English espeak-ng
    voice cannot pronounce them and spells each out by name ("Cyrillic letter ...",
    "Chinese letter"). Accented Latin letters (é, ñ, ø, ß), digits and punctuation are not
    among them, nor are modifier letters (the apostrophe ʼ U+02BC some keyboards type, the
    IPA stress marks ˈ ˌ, ʰ ...) and letterlike symbols (ℓ, ℃, №)."""
    return [ch for ch in dict.fromkeys(text)
            if unicodedata.category(ch).startswith("L") and ch not in _READ_TOO
            and not unicodedata.name(ch, "").startswith(("LATIN ", "MODIFIER LETTER "))
            and not _LETTERLIKE[0] <= ord(ch) <= _LETTERLIKE[1]]


def check_pronounceable(text: str, voice: str = "en-us") -> str:
    """``text``, checked for letters an English ``voice`` (``en``, ``en-us``, ``en-gb+f3``
    ...) cannot pronounce (:func:`foreign_letters`): one :class:`~emovc.errors.EmovcWarning`
    naming them (they are spelled out letter by letter), or a refusal when no Latin letter or
    digit is left to speak. Other voices' text is not checked.

    Raises:
        EmovcError: the text has such letters and nothing else to pronounce.
    """
    if not voice.lower().startswith("en"):
        return text
    foreign = foreign_letters(text)
    if not foreign:
        return text
    scripts = dict.fromkeys(_script(ch) for ch in foreign)
    shown = (" ".join(foreign[:12]) + (" …" if len(foreign) > 12 else "")
             + f" ({', '.join(scripts)})")
    where = f"the English front-end (espeak-ng voice {voice})"
    if nothing_else_to_pronounce(text, foreign):
        raise EmovcError(f"text {shortened(text)} has nothing {where} can pronounce: its "
                         f"letters {shown} are not Latin ones; give English text, or an "
                         "espeak-ng voice of its language (Python: FrontendConfig.voice; the "
                         "command line has no option for it)")
    warn_every_time(f"text {shortened(text)} has letters {where} cannot pronounce, which it "
                    f"spells out letter by letter: {shown}", EmovcWarning, stacklevel=4)
    return text


def nothing_else_to_pronounce(text: str, foreign: list[str]) -> bool:
    """Whether ``text`` has no letter or digit besides its letters of other scripts
    ``foreign`` (:func:`foreign_letters`): an English voice has nothing to say (the refusal
    of :func:`check_pronounceable`, and of the web app in its own words)."""
    return bool(foreign) and not any(ch.isalnum() for ch in text if ch not in foreign)


def _script(ch: str) -> str:
    """``"Cyrillic"``, ``"Greek"``, ``"CJK"`` ... (the first word of its Unicode name)."""
    word = (unicodedata.name(ch, "") or "unnamed").split()[0].split("-")[0]
    return word.capitalize() if len(word) > 3 else word
