"""Zero-shot voice cloning: say new text in the voice of a few seconds of reference speech.

What runs offline now (no trained synthesizer needed, 2 CPU cores)::

    text ──espeak-ng──▶ front-end speech ──unit selection──▶ speech in the reference voice
                         (EspeakFrontend)   (reference frames chosen by speaker-normalised
                                             content features; reference waveform segments
                                             joined with cross-fades)

with a similarity ↔ intelligibility trade-off chosen by :data:`STYLES` (``voice``, ``balanced``,
``clear``; :meth:`CloneConfig.for_style`), optionally followed by emotion conversion
(``emotion=``). The SV2TTS neural path (GE2E
embedding → Tacotron-2 → WaveRNN) is available for users who train it
(:mod:`emovc.training.synthesizer`, :mod:`emovc.training.vocoder`); see ``docs/cloning.md``.

References are preprocessed like every emovc input: resampled to 16 kHz, optionally denoised
(spectral gating with ``noisereduce``), VAD-trimmed and loudness-normalised. Prepared and
analysed once, they make a :class:`~emovc.pipelines.clone_refs.Voice`
(:meth:`VoiceCloner.prepare_voice`) that clones any number of texts; a cloner also keeps its
last voices (:data:`VOICE_CACHE_SECONDS` of reference speech), so the same references given
again (the same samples, names and settings) are not analysed again. Cloning a voice requires
the speaker's consent; every file written carries a provenance tag.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from emovc.audio import normalize_loudness, save_audio
from emovc.audio.io import WRITE_FORMATS, resample
from emovc.data.emotions import normalize_emotion
from emovc.errors import (
    AudioError,
    ConfigError,
    EmovcError,
    EmovcWarning,
    choice_error,
    warn_every_time,
)
from emovc.features.world import WorldConfig
from emovc.fileio import check_output_file, refuse_input_overwrite
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines.clone_refs import (  # noqa: F401 — re-exported: the cloning API
    MIN_VOICED_SHARE,
    PREPARATION,
    ReadReference,
    Reference,
    Voice,
    band_limit_note,
    cap_note,
    check_voiced,
    clip_note,
    denoise_wav,
    drop_repeats,
    noise_note,
    prepare_reference,
    read_reference,
    reference_list,
    speaker_mismatch,
)
from emovc.pipelines.clone_refs import cap_total as _cap
from emovc.pipelines.frontend import EspeakFrontend, FrontendConfig
from emovc.pipelines.sentences import (  # noqa: F401 — split_sentences re-exported
    check_text,
    join_with_pauses,
    split_sentences,
    text_sentences,
)

SR = 16000
METHODS = ("unit-selection",)
#: similarity ↔ intelligibility trade-off of the offline path (measured in docs/cloning.md):
#: "voice" = the reference's own units (most like the speaker, often hard to understand),
#: "clear" = the front-end re-synthesised in the speaker's F0/envelope statistics (every phone
#: kept, less like the speaker), "balanced" = reference units where they match the text's
#: phones well, statistics-mapped front-end frames elsewhere.
STYLES = {
    "voice": {"phone_weight": 2.0, "fallback_cost": None},
    "balanced": {"phone_weight": 4.0, "fallback_cost": 3.5},
    "clear": {"phone_weight": 0.0, "fallback_cost": 0.0},
}
#: output formats clone_to_file can write (those of emovc.audio.save_audio)
WRITE_EXTENSIONS = tuple(WRITE_FORMATS)
#: reference speech, seconds, of the voices a cloner keeps (its last ones, the newest always)
#: so that references given again are not analysed again: a prepared and analysed voice takes
#: about 1.2 MB per second of speech (WORLD envelopes and features; docs/cloning.md)
VOICE_CACHE_SECONDS = 120.0


@dataclass(frozen=True)
class CloneConfig:
    """Settings of the offline cloning path.

    Attributes:
        frontend: espeak-ng voice settings (a voice folder's synthesizer reads the text with
            the voice it was trained on: another one is refused).
        units: unit-selection settings.
        min_reference_s: total reference speech required after trimming, seconds.
        max_reference_s: reference speech used at most (longer input is cut), seconds.
        denoise: spectral-gating noise reduction of the references (``noisereduce``).
        target_dbfs: output/reference active speech level.
        pause_s: silence inserted between sentences.
    """

    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    units: us.UnitSelectionConfig = field(default_factory=us.UnitSelectionConfig)
    min_reference_s: float = 2.0
    max_reference_s: float = 60.0
    denoise: bool = False
    target_dbfs: float = -23.0
    pause_s: float = 0.25

    def __post_init__(self) -> None:
        """Refuse wrong types and out-of-range values with one-line ConfigErrors."""
        _check_instance("frontend", self.frontend, FrontendConfig)
        _check_instance("units", self.units, us.UnitSelectionConfig)
        _check_instance("denoise", self.denoise, bool)
        _check_number("min_reference_s", self.min_reference_s, 0.0, math.inf, "seconds ≥ 0")
        _check_number("max_reference_s", self.max_reference_s, max(self.min_reference_s, 1e-9),
                      math.inf, f"seconds ≥ min_reference_s ({self.min_reference_s:g}), > 0")
        _check_number("target_dbfs", self.target_dbfs, -70.0, 0.0, "dBFS in [-70, 0]")
        _check_number("pause_s", self.pause_s, 0.0, math.inf, "seconds ≥ 0")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_style(cls, style: str = "voice", **kwargs) -> CloneConfig:
        """Config of one :data:`STYLES` preset (other ``CloneConfig`` fields as ``kwargs``)."""
        if not isinstance(style, str) or style not in STYLES:
            raise choice_error("cloning style", style, tuple(STYLES))
        names = [f.name for f in fields(cls) if f.name != "units"]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise ConfigError(f"unknown CloneConfig field {unknown[0]!r}; valid fields: "
                              f"{', '.join(names)}")
        units = replace(us.UnitSelectionConfig(), **STYLES[style])
        return cls(units=units, **kwargs)


def _check_instance(name: str, value: object, kind: type) -> None:
    """``CloneConfig.<name>`` must be a ``kind``."""
    if not isinstance(value, kind):
        raise ConfigError(f"CloneConfig.{name} must be a {kind.__name__}, "
                          f"got {type(value).__name__}")


def _check_number(name: str, value: object, low: float, high: float, expected: str) -> None:
    """``CloneConfig.<name>`` must be a real number in ``[low, high]`` (``expected`` says so)."""
    ok = (isinstance(value, (int, float, np.integer, np.floating))
          and not isinstance(value, bool) and low <= float(value) <= high)
    if not ok:
        raise ConfigError(f"CloneConfig.{name} must be a number of {expected}, got {value!r}")


class VoiceCloner:
    """Text + reference recordings → speech in the reference voice (16 kHz float32).

    Build it with :meth:`from_pretrained` (``"default"``: offline unit selection, no
    weights; or a folder with a trained ``synthesizer.pt`` + ``vocoder.pt``).

    Example:
        >>> from emovc import VoiceCloner, save_audio
        >>> cloner = VoiceCloner.from_pretrained("default")      # doctest: +SKIP
        >>> refs = ["alice1.wav", "alice2.wav"]                  # 2 s of speech at least
        >>> wav, sr = cloner.clone(refs, "Thanks for calling.")  # doctest: +SKIP
        >>> sr, wav.dtype                                        # doctest: +SKIP
        (16000, dtype('float32'))
        >>> cloner.clone_to_file(refs, "Thanks.", "out.wav", consent=True)  # doctest: +SKIP
        PosixPath('out.wav')

    Several texts in one voice: prepare it once (:meth:`prepare_voice`), then each text
    costs synthesis only::

        voice = cloner.prepare_voice(refs)            # read, checked, analysed once
        for i, line in enumerate(lines):
            wav, sr = cloner.clone(voice, line)

    (The same references given to ``clone`` again are found in the cloner's cache of its
    last voices, too, and their warnings repeated.)
    """

    def __init__(self, config: CloneConfig | None = None) -> None:
        if config is not None and not isinstance(config, CloneConfig):
            raise ConfigError(f"config must be a CloneConfig, got {type(config).__name__}")
        self.config = config or CloneConfig()
        self.frontend = EspeakFrontend(self.config.frontend)
        self.world = WorldConfig()
        self.neural = None  # NeuralCloner when loaded from trained SV2TTS models
        self._converter = None  # the bundled emotion converter, loaded on first use
        self._converter_lock = threading.Lock()
        self._voices: OrderedDict[tuple, Voice] = OrderedDict()  # last voices prepared
        self._voices_lock = threading.Lock()

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default",
                        config: CloneConfig | None = None, device: str | None = None,
                        ) -> VoiceCloner:
        """``"default"``/``"unit-selection"``: the offline cloner (no weights needed); a folder
        with ``synthesizer.pt`` + ``vocoder.pt``: the trained neural SV2TTS path. ``config``:
        the reference preparation and sentence settings (and, offline, the unit selection's
        and the front-end's; the neural path reads text with the espeak-ng voice its
        synthesizer was trained on, and a ``config.frontend`` other than the default must
        name that voice).
        ``device``: where the neural models run (``NeuralCloner``'s ``device``; ``None`` =
        ``"auto"``, a CUDA GPU if torch sees one); the offline path has no torch model and
        runs on the CPU, so it refuses a device.

        Raises:
            ConfigError: not a name or path, an unknown name, a folder without both models
                (the message names the missing one), a device for the offline path, an
                unknown or unavailable device, or a ``config.frontend`` voice other than
                the one the folder's synthesizer was trained on.
        """
        valid = f"default, {', '.join(METHODS)}, or a folder with synthesizer.pt + vocoder.pt"
        if not isinstance(name_or_path, (str, os.PathLike)):
            raise ConfigError(f"cloner must be a name or a folder path ({valid}), "
                              f"got {type(name_or_path).__name__}")
        if str(name_or_path) in ("default", *METHODS):
            if device is not None:
                raise ConfigError(f"a device places a trained SV2TTS model (a folder with "
                                  f"synthesizer.pt + vocoder.pt); unit selection has no torch "
                                  f"model and runs on the CPU: leave device={device!r} out")
            return cls(config)
        folder = Path(name_or_path)
        models = [n for n in ("synthesizer.pt", "vocoder.pt") if (folder / n).is_file()]
        if len(models) == 2:
            from emovc.pipelines.sv2tts import NeuralCloner

            cloner = cls(config)
            cloner.neural = NeuralCloner.from_folder(folder, "auto" if device is None else device,
                                                     pause_s=cloner.config.pause_s)
            _check_neural_frontend(cloner.config.frontend, cloner.neural.frontend.config,
                                   folder)
            return cloner
        if models:  # half a trained cloner: name the missing file and how to make it
            missing = ({"synthesizer.pt", "vocoder.pt"} - set(models)).pop()
            raise ConfigError(f"cloner folder {folder} holds {models[0]} but no {missing}; the "
                              f"neural cloner needs both: train it with emovc train-voice "
                              f"{missing.removesuffix('.pt')} DATA_DIR -o RUN_DIR --export "
                              f"{folder}")
        if (folder / "model.pt").is_file():  # a training run folder, not a voice folder
            raise ConfigError(_run_folder_hint(folder))
        if folder.is_dir():
            raise ConfigError(f"cloner folder {folder} holds neither synthesizer.pt nor "
                              f"vocoder.pt; valid choices: {valid}")
        if folder.is_file():
            raise ConfigError(_model_file_hint(folder))
        raise ConfigError(f"unknown cloner {str(name_or_path)!r}; valid choices: {valid}")

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
        the same names) are taken from this cloner's last voices (up to
        :data:`VOICE_CACHE_SECONDS` of reference speech in all), with the same warnings
        again.

        Raises:
            AudioError: no reference, a silent/unreadable/unvoiced one, a sample rate in kHz,
                or less than ``min_reference_s`` of speech in total.
        """
        references = reference_list(references)
        if not references:
            raise AudioError("no reference audio given; pass at least one --reference file "
                             "(Python: a path or a (wav, sr) pair)")
        read = [read_reference(r, i) for i, r in enumerate(references)]
        files = tuple(Path(r) for r in references if not isinstance(r, tuple))
        key = (self._preparation(), files,
               tuple((r.name, r.sr, r.rate, r.clipped, r.digest()) for r in read))
        with self._voices_lock:
            voice = self._voices.get(key)
            if voice is not None:
                self._voices.move_to_end(key)
        if voice is not None:
            for note in voice.notes:
                _warn_caller(note)
            return voice
        voice = self._prepare(read, files)
        with self._voices_lock:
            self._voices[key] = voice
            while (len(self._voices) > 1 and sum(v.seconds for v in self._voices.values())
                   > VOICE_CACHE_SECONDS):
                self._voices.popitem(last=False)
        return voice

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

    def clone(self, references: Voice | Sequence[Reference] | Reference, text: str,
              emotion: str | None = None) -> tuple[np.ndarray, int]:
        """Speak ``text`` in the references' voice.

        Args:
            references: a :class:`Voice` (:meth:`prepare_voice`: its references are not read
                again), or file paths or ``(wav, sr)`` pairs of the target speaker (a list,
                or a single path or pair); ``wav`` mono float ``(n,)`` or channels-last
                ``(n, channels)`` (mixed down) at ``sr`` Hz.
            text: the words to say (English by default; see ``FrontendConfig.voice``).
            emotion: optional target emotion (``None``: none), applied by the bundled
                emotion converter.

        Returns:
            ``(wav (n,) float32, 16000)``: always 16 kHz. Sentences are joined with
            ``config.pause_s`` of silence. The front-end's audio is resampled to 16 kHz
            whatever ``FrontendConfig.sample_rate`` is, and so is a neural vocoder's output
            at its own rate (the rate of its mel settings). The neural synthesizer ends each
            sentence at its stop token, or at a limit that follows the sentence's length
            (:class:`~emovc.pipelines.sv2tts.DecodeLimit`), where it is cut with a warning.

        Raises:
            EmovcError: text that is not a string, is empty or has nothing the front-end
                can pronounce, or an unknown emotion (``""`` included), all before the
                references are read; any reference problem of :meth:`prepare_voice`
                (before synthesis), or a voice prepared with other reference settings; with
                ``emotion``, a clone without voiced speech to convert.

        Repeated calls with the same references, text and config give the same audio: the
        espeak-ng front-end is reloaded for every sentence and the phone recogniser's feature
        normalisation is reset for every utterance, so that no state carries over
        (:mod:`emovc.pipelines.frontend`, :mod:`emovc.features.phones`).
        """
        sentences = text_sentences(text)
        if emotion is not None:  # unknown names ("" included) fail before any work
            emotion = normalize_emotion(emotion)
        # letters of other scripts: one warning or refusal per text, before the references
        # are read and analysed (the neural path's front-end is its synthesizer's)
        (self.frontend if self.neural is None else self.neural.frontend).check_text(text)
        voice = self._voice(references)
        refs = list(voice.wavs)
        if self.neural is not None:
            neural = self.neural
            # the encoder object itself is the key: another encoder embeds otherwise
            speaker = voice.analysis(("speaker", getattr(neural, "encoder", neural)),
                                     lambda: neural.embed([(r, SR) for r in refs]))
            rate = neural.sample_rate
            pieces = (resample(w, rate, SR) for w in
                      neural.synthesize_sentences(speaker, sentences, checked=True))
            return self._finish(self._join(pieces), emotion)
        units = voice.analysis(("units", self.config.units, self.world),
                               lambda: us.analyse_reference(refs, self.config.units, self.world))
        return self._finish(self._join(self._unit_sentence(s, units) for s in sentences),
                            emotion)

    def _unit_sentence(self, sentence: str, units: us.ReferenceUnits) -> np.ndarray:
        """One sentence by unit selection: float32 ``(n,)`` at 16 kHz. The front-end's audio
        is resampled to 16 kHz; its phone segments are in seconds, so they stay aligned."""
        src, src_sr, phones = self.frontend.synthesize_with_phones(sentence, checked=True)
        src = resample(src, src_sr, SR)
        return us.convert(src, units, self.config.units, self.world, phones)

    def _join(self, pieces: Iterable[np.ndarray]) -> np.ndarray:
        """Sentences (float32 ``(n_i,)`` at 16 kHz) joined with ``config.pause_s`` of silence."""
        return join_with_pauses(pieces, self.config.pause_s, SR)

    def _finish(self, wav: np.ndarray, emotion: str | None) -> tuple[np.ndarray, int]:
        """Loudness-normalise 16 kHz ``wav`` ``(n,)`` and apply ``emotion``; ``(wav, 16000)``."""
        wav = normalize_loudness(wav, SR, self.config.target_dbfs)
        if emotion:
            self._check_convertible(wav)
            wav = apply_emotion(wav, SR, emotion, converter=self.emotion_converter())
        return wav, SR

    def _check_convertible(self, wav: np.ndarray) -> None:
        """Refuse to convert the emotion of a clone (float32 ``(n,)`` at 16 kHz) without
        voiced speech, naming the clone and the likely cause: the converter's own check
        called it "audio", which read as the reference."""
        from emovc.pipelines.conversion import check_input

        try:
            check_input(wav, SR, name="the synthesized clone")
        except AudioError as exc:
            cause = ("; the voice model is likely undertrained (train its synthesizer and "
                     "vocoder longer)" if self.neural is not None else "")
            raise AudioError(f"{str(exc).split(' (')[0]}, so its emotion cannot be converted"
                             f"{cause}; leave out --emotion (Python: emotion=None) to hear "
                             "it") from None

    def emotion_converter(self):
        """The bundled emotion converter, loaded on the first call and kept on this cloner."""
        with self._converter_lock:
            if self._converter is None:
                self._converter = _load_converter()
            return self._converter

    def clone_to_file(self, references: Voice | Sequence[Reference] | Reference, text: str,
                      out: str | os.PathLike, *, consent: bool, emotion: str | None = None,
                      force: bool = False) -> Path:
        """Clone and write ``out`` with a provenance tag; requires ``consent=True``.
        ``references``: as :meth:`clone` (a :class:`Voice`, or the recordings).

        The output path is checked before any work (:func:`check_output`).

        Raises:
            EmovcError: no consent, a bad output path, or any input problem of :meth:`clone`.
        """
        require_consent(consent)
        check_text(text)
        if emotion is not None:  # the canonical label ("Anger": angry) for the tag, too
            emotion = normalize_emotion(emotion)
        if not isinstance(references, Voice):
            references = reference_list(references)
        out = check_output(out, force)
        refs = (list(references.files) if isinstance(references, Voice) else
                [Path(r) for r in references if not isinstance(r, tuple)])
        refuse_input_overwrite(out, refs, "a reference file")
        wav, sr = self.clone(references, text, emotion=emotion)
        method = "neural SV2TTS" if self.neural is not None else "unit selection"
        return save_audio(out, wav, sr, force=force,
                          comment=provenance_tag(refs, emotion, method))


def _check_neural_frontend(asked: FrontendConfig, trained: FrontendConfig, folder: Path) -> None:
    """A ``CloneConfig.frontend`` given for a voice folder (one other than the default) must
    be the espeak-ng voice its synthesizer was trained on: it reads no other phonemes.

    Raises:
        ConfigError: another voice (one line naming both).
    """
    from emovc.pipelines.sv2tts import same_voice

    if asked == FrontendConfig() or same_voice(asked, trained):
        return
    raise ConfigError(f"CloneConfig.frontend voice {asked.voice!r} is not the espeak-ng voice "
                      f"the synthesizer of {folder} was trained on ({trained.voice!r}): it "
                      f"reads that voice's phonemes only; leave frontend out, or give "
                      f"FrontendConfig(voice={trained.voice!r})")


def check_output(out: str | os.PathLike, force: bool = False) -> Path:
    """Check an output audio path before any work; returns it as a ``Path``.

    Raises:
        EmovcError: ``out`` is a folder, its extension cannot be written
            (:data:`WRITE_EXTENSIONS`), or it exists and ``force`` is false.
    """
    if not isinstance(out, (str, os.PathLike)):
        raise ConfigError(f"output must be a file path, got {type(out).__name__}")
    return check_output_file(out, WRITE_EXTENSIONS, force, "audio", error=AudioError)


def require_consent(consent: object) -> None:
    """Refuse to clone without the reference speaker's consent: ``consent`` must be ``True``
    itself (not a truthy string such as ``"no"``)."""
    if consent is not True:
        raise EmovcError(f"cloning a voice needs the speaker's consent: consent must be True "
                         f"(got {consent!r}); confirm with --consent (Python: consent=True) that "
                         f"the reference speaker agreed to have their voice cloned")


def provenance_tag(references: Sequence[Path], emotion: str | None,
                   method: str = "unit selection") -> str:
    """Metadata comment marking a file as synthetic (written into every cloned file), naming
    the references, the emotion and the cloning method."""
    from emovc import __version__

    names = ", ".join(dict.fromkeys(p.name for p in references)) or "in-memory audio"
    extra = f", emotion {emotion}" if emotion else ""
    return (f"emovc {__version__}: cloned voice (synthetic speech from reference {names}"
            f"{extra}, by {method}; speaker consent confirmed)")


def _warn_caller(message: str) -> None:
    """One :class:`EmovcWarning` line, on every call, attributed to the first caller outside
    this module (the line that called ``clone``, ``prepare_voice``, ...)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warn_every_time(message, EmovcWarning, stacklevel=level)


@functools.lru_cache(maxsize=1)
def _speaker_encoder():
    """The bundled GE2E speaker encoder (loaded once per process)."""
    from emovc.pipelines.speaker import SpeakerEncoder

    return SpeakerEncoder.from_pretrained()


def _load_converter():
    """The bundled default emotion converter (``EmotionConverter.from_pretrained()``)."""
    try:
        from emovc.pipelines.conversion import EmotionConverter
    except ImportError as exc:
        msg = f"--emotion needs the emotion converter, which is unavailable ({exc})"
        raise EmovcError(msg) from None
    return EmotionConverter.from_pretrained()


def apply_emotion(wav: np.ndarray, sr: int, emotion: str, converter=None) -> np.ndarray:
    """Convert cloned speech ``(n,)`` at ``sr`` Hz to ``emotion`` with ``converter`` (default:
    the bundled emotion converter, loaded for this call)."""
    converter = converter if converter is not None else _load_converter()
    # cloned read speech is neutral; fall back to automatic source detection otherwise
    source = "neutral" if "neutral" in converter.source_emotions else None
    if source == emotion:  # already neutral read speech
        return np.asarray(wav, dtype=np.float32)
    out = converter.convert(wav, sr, target=emotion, source=source,
                            name="the synthesized clone")
    return np.asarray(out, dtype=np.float32)


def _model_file_hint(path: Path) -> str:
    """Why a file (``runs/taco/model.pt``, ``voices/v1/synthesizer.pt``) is not a cloner:
    a trained cloner is a voice folder."""
    folder = path.parent
    if path.name in ("synthesizer.pt", "vocoder.pt"):
        return f"{path} is a file; pass its voice folder {folder} (--model takes the folder)"
    return (f"{path} is a file; a trained cloner is a voice folder holding synthesizer.pt + "
            "vocoder.pt (--model VOICE_DIR; emovc train-voice synthesizer|vocoder ... --export "
            "VOICE_DIR makes it)")


def _run_folder_hint(folder: Path) -> str:
    """Why ``folder`` (a training run folder: it holds a ``model.pt``) is not a voice folder,
    and, for a synthesizer's or vocoder's run, how to make one."""
    from emovc.models.checkpoint import checkpoint_kind
    from emovc.pipelines.sv2tts import SYNTH_KIND, VOCODER_KIND

    kind = checkpoint_kind(folder / "model.pt")
    if kind in (SYNTH_KIND, VOCODER_KIND):
        return (f"{folder} is the run folder of a {kind} training, not a voice folder: re-run "
                "its emovc train-voice command with --export VOICE_DIR (a finished run is only "
                "exported), then pass --model VOICE_DIR")
    return (f"{folder} holds a model.pt ({kind or 'not an emovc checkpoint'}), not a voice "
            "folder's synthesizer.pt + vocoder.pt (emovc train-voice ... --export VOICE_DIR "
            "makes one)")
