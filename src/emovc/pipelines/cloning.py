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
last voices (``voice_cache_seconds`` of reference speech, :data:`VOICE_CACHE_SECONDS` by
default), so the same references given
again (the same samples, names and settings) are not analysed again, and files unchanged since
(:mod:`emovc.pipelines.clone_cache`) not read again. Cloning a voice requires
the speaker's consent; every file written carries a provenance tag.

:class:`VoiceCloner` is the public face (loading, text to speech, files); its settings are in
:mod:`emovc.pipelines.clone_config` (:class:`CloneConfig`, :data:`STYLES`), its reference side
(preparing voices, their cache and warnings) in :mod:`emovc.pipelines.clone_voices`
(:class:`~emovc.pipelines.clone_voices.VoicePreparation`), the output checks, consent and
provenance tag in :mod:`emovc.pipelines.clone_output`, and what it loads besides (folder
hints, the emotion converter) in :mod:`emovc.pipelines.clone_loading`; their public names are
importable from here as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from emovc.audio import normalize_loudness, save_audio
from emovc.audio.io import resample
from emovc.data.emotions import normalize_emotion
from emovc.errors import AudioError, ConfigError
from emovc.features.world import WorldConfig
from emovc.fileio import refuse_input_overwrite
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines.clone_cache import VoiceCache
from emovc.pipelines.clone_config import STYLES, CloneConfig  # noqa: F401 — the cloning API
from emovc.pipelines.clone_loading import (
    apply_emotion,
    check_neural_frontend,
    load_converter,
    model_file_hint,
    run_folder_hint,
)
from emovc.pipelines.clone_output import (  # noqa: F401 — re-exported: the cloning API
    WRITE_EXTENSIONS,
    check_output,
    provenance_tag,
    require_consent,
)
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
from emovc.pipelines.clone_voices import (  # noqa: F401 — VOICE_CACHE_SECONDS re-exported
    VOICE_CACHE_SECONDS,
    VoicePreparation,
)
from emovc.pipelines.frontend import (  # noqa: F401 — FrontendConfig: CloneConfig's part
    EspeakFrontend,
    FrontendConfig,
)
from emovc.pipelines.sentences import (  # noqa: F401 — split_sentences re-exported
    check_text,
    join_with_pauses,
    split_sentences,
    text_sentences,
)

SR = 16000
METHODS = ("unit-selection",)


class VoiceCloner(VoicePreparation):
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
        self._voices = VoiceCache()  # the last voices prepared
        #: reference speech, seconds, of the last voices kept (the newest always; 0 keeps
        #: only it); an app serving many voices may lower it: about 1.2 MB per second
        self.voice_cache_seconds = VOICE_CACHE_SECONDS

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default",
                        config: CloneConfig | None = None, device: str | None = None,
                        progress: bool = False) -> VoiceCloner:
        """``"default"``/``"unit-selection"``: the offline cloner (no weights needed); a folder
        with ``synthesizer.pt`` + ``vocoder.pt``: the trained neural SV2TTS path. ``config``:
        the reference preparation and sentence settings (and, offline, the unit selection's
        and the front-end's; the neural path reads text with the espeak-ng voice its
        synthesizer was trained on, and a ``config.frontend`` other than the default must
        name that voice).
        ``device``: where the neural models run (``NeuralCloner``'s ``device``; ``None`` =
        ``"auto"``, a CUDA GPU if torch sees one); the offline path has no torch model and
        runs on the CPU, so it refuses a device. ``progress``: the neural path's vocoder bar
        on stderr when it is a terminal (``NeuralCloner``'s ``progress``; ``emovc clone``
        turns it on); the offline path has none.

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
                                                     pause_s=cloner.config.pause_s,
                                                     progress=progress)
            check_neural_frontend(cloner.config.frontend, cloner.neural.frontend.config,
                                   folder)
            return cloner
        if models:  # half a trained cloner: name the missing file and how to make it
            missing = ({"synthesizer.pt", "vocoder.pt"} - set(models)).pop()
            raise ConfigError(f"cloner folder {folder} holds {models[0]} but no {missing}; the "
                              f"neural cloner needs both: train it with emovc train-voice "
                              f"{missing.removesuffix('.pt')} DATA_DIR -o RUN_DIR --export "
                              f"{folder}")
        if (folder / "model.pt").is_file():  # a training run folder, not a voice folder
            raise ConfigError(run_folder_hint(folder))
        if folder.is_dir():
            raise ConfigError(f"cloner folder {folder} holds neither synthesizer.pt nor "
                              f"vocoder.pt; valid choices: {valid}")
        if folder.is_file():
            raise ConfigError(model_file_hint(folder))
        raise ConfigError(f"unknown cloner {str(name_or_path)!r}; valid choices: {valid}")

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
                self._converter = load_converter()
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
