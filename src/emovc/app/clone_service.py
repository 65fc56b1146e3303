"""The clone tab's side of :class:`~emovc.app.services.AppBackend`: the text and references
checked in the app's words, the clone spoken with the cloner of the chosen style and written to
``outputs/`` with its provenance tag, and the speaker map placing reference and clone among the
synthetic voices and the session's earlier references, with their cosine similarity."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from emovc.app.limits import APP_SR, load_upload
from emovc.app.models import ProgressFn
from emovc.app.notes import (
    at_app_rate,
    check_english,
    clone_tag,
    collected_warnings,
    no_progress,
    similarity_note,
    with_warnings,
)
from emovc.app.plots import embedding_map_figure
from emovc.app.results import CloneResult
from emovc.app.session import LOCAL_SESSION, BrowserSession
from emovc.app.workdir import safe_stem
from emovc.audio import save_audio
from emovc.data.emotions import normalize_emotion
from emovc.errors import AudioError, ConfigError
from emovc.evaluation.speaker import cosine
from emovc.pipelines.speaker import project


class CloneService:
    """Mixin of :class:`~emovc.app.services.AppBackend` for the clone tab; the class using it
    sets ``work``, ``limits``, ``models`` (:class:`~emovc.app.models.ModelCache`) and
    ``voices`` (:class:`~emovc.app.voices.KnownVoices`) and has ``session(key)``."""

    def clone(self, references: Sequence[str | None], text: str, emotion: str | None,
              consent: bool, progress: ProgressFn = no_progress,
              style: str = "voice", session: str = LOCAL_SESSION) -> CloneResult:
        """Speak ``text`` in the voice of the reference clip(s); needs the speaker's consent.

        ``style``: ``voice`` (most like the speaker), ``balanced`` or ``clear`` (most
        intelligible), see :data:`emovc.pipelines.cloning.STYLES`. The speaker map shows the
        synthetic voices and ``session``'s earlier references; the first reference joins them.
        The cloner is given the uploaded files, as ``emovc clone`` gives it its
        references; its warnings (a noisy, clipped or band-limited reference, reference
        speech cut at its limit, references of several voices, letters the voice cannot say,
        a sentence cut at its length limit) end the summary, one ``⚠`` line each, as ``emovc
        clone`` prints them (a reference named by its file name).
        """
        if not consent:
            raise ConfigError("confirm that the speaker of the reference consented to cloning "
                              "their voice (tick the consent box)")
        text = (text or "").strip()
        if not text:
            raise ConfigError("enter the text the cloned voice should say")
        if len(text) > 500:
            raise ConfigError(f"text is too long: {len(text)} characters (limit 500)")
        check_english(text)
        refs = [r for r in references if r]
        if not refs:
            raise AudioError("no reference given: upload or record the voice to clone")
        progress(0.05, "checking the reference")
        wavs = [load_upload(r, self.limits, self.work, what=f"reference {i + 1}")
                for i, r in enumerate(refs)]
        files = [self.work.inside(r) for r in refs]  # checked by load_upload
        emo = None if emotion in (None, "", "none") else normalize_emotion(emotion)
        progress(0.15, "loading the voice cloner")
        cloner = self.models.cloner(style)
        progress(0.3, "synthesising")
        start = time.perf_counter()
        with collected_warnings() as notes:  # e.g. a noisy or clipped reference: for the page
            # the files, as `emovc clone` gives them: the cloner judges each as recorded (its
            # clipping and rate), not the samples load_upload resampled and freed of DC
            out, sr = cloner.clone(files, text, emotion=emo)
        out = at_app_rate(np.asarray(out, dtype=np.float32), int(sr))
        seconds = time.perf_counter() - start
        path = self.work.new_file("outputs", f"clone-{emo or 'plain'}")
        save_audio(path, out, APP_SR, comment=clone_tag(cloner, [Path(str(r)).name for r in refs],
                                                         emo))
        progress(0.75, "comparing speakers")
        similarity, fig = self._speaker_map(wavs[0], out, Path(str(refs[0])).name,
                                            self.session(session))
        summary = (f"{len(out) / APP_SR:.2f} s of speech in {seconds:.2f} s; "
                   f"{similarity_note(similarity)}")
        progress(1.0, "done")
        return CloneResult(path, similarity, fig, seconds,
                           with_warnings(summary, notes, self.work.root))

    def _speaker_map(self, ref: np.ndarray, out: np.ndarray, ref_name: str,
                     state: BrowserSession) -> tuple[float, Figure]:
        """``(cosine similarity of reference and output, map figure)``; the similarity is NaN
        and the output left off the map when it is too short to embed (under 0.5 s, e.g.
        "Hi": the encoder's minimum, :data:`emovc.pipelines.speaker.MIN_SPEECH_S`)."""
        embed = self.models.embedder()
        e_ref = embed(ref, APP_SR)
        try:
            e_out = [embed(out, APP_SR)]
        except AudioError:
            e_out = []
        known = [*self.voices.voices(), *state.uploads.voices()]
        points, method = project(np.stack([*(v.embedding for v in known), e_ref, *e_out]))
        names = [*(v.name for v in known), "reference", *(["output"] if e_out else [])]
        kinds = [*(v.kind for v in known), "reference", *(["output"] if e_out else [])]
        state.uploads.add(safe_stem(ref_name, "reference"), e_ref)
        similarity = cosine(e_ref, e_out[0]) if e_out else float("nan")
        return similarity, embedding_map_figure(points, names, kinds, method)
