"""Run the evaluation suite over a manifest: per-utterance metrics for the converted speech and
its baselines, aggregated per system and per target emotion.

Systems scored for every item:

- ``converted``     — the conversion under test;
- ``source``        — the unconverted source (how far the input already is from the target);
- ``world_resynth`` — WORLD analysis/synthesis of the source (the vocoder's own cost);
- ``reference``     — the real take of the target emotion, when the manifest has one (emotion
  rate and WER of real speech; spectral/F0 distances to itself are not computed).

Work is organised so each audio file is analysed once: (1) WORLD analysis + ASR per unique file
in a process pool, (2) speaker embeddings and emotion probabilities per unique file in this
process, (3) DTW-based pair metrics per (system output, reference) pair.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from emovc.audio.io import load_audio
from emovc.errors import EmovcError
from emovc.evaluation.aggregate import aggregate, confusions, coverage_notes, nonspeech_notes
from emovc.evaluation.analysis import MetricConfig
from emovc.evaluation.checks import sanity_notes
from emovc.evaluation.emotion import (
    UNJUDGED,
    EmotionJudge,
    canonical_label,
    canonical_probs,
    load_default_judge,
    top_label,
    training_overlap_notes,
)
from emovc.evaluation.f0_metrics import duration_ratio
from emovc.evaluation.file_analysis import FileAnalysis, run_stage1
from emovc.evaluation.intelligibility import AsrConfig, word_errors
from emovc.evaluation.manifest import EvalItem
from emovc.evaluation.mcd import compare_features
from emovc.evaluation.provenance import provenance
from emovc.evaluation.speaker import SpeakerEncoder, cosine

SYSTEMS = ("converted", "source", "world_resynth", "reference")
SYSTEM_TITLES = {
    "converted": "converted", "source": "unconverted source",
    "world_resynth": "WORLD resynthesis of source", "reference": "real target take",
}


@dataclass(frozen=True)
class EvalConfig:
    """What to compute.

    Attributes:
        metrics: acoustic analysis / DTW settings.
        asr: compute word error rates (needs ``text`` in the manifest).
        emotion: score with an emotion recogniser.
        speaker: compute speaker similarity.
        baselines: also score the source, its WORLD resynthesis and the reference.
        workers: processes for analysis + ASR (1 = in this process).
        asr_config: PocketSphinx settings.
        recognizer: name or path of the emovc recogniser used when no judge is passed.
        speaker_encoder: speaker encoder of the similarity: ``"resemblyzer"`` (bundled) or a
            trained one's ``model.pt`` / run folder (emovc's ``speaker-encoder/ge2e``).
        n_examples: items shown with plots and players in the report.
    """

    metrics: MetricConfig = field(default_factory=MetricConfig)
    asr: bool = True
    emotion: bool = True
    speaker: bool = True
    baselines: bool = True
    workers: int = 2
    asr_config: AsrConfig = field(default_factory=AsrConfig)
    recognizer: str = "default"
    n_examples: int = 4
    speaker_encoder: str = "resemblyzer"


@dataclass
class EvaluationResult:
    """Everything the writers and the report need."""

    items: list[EvalItem]
    config: EvalConfig
    rows: list[dict]
    overall: dict
    per_emotion: list[dict]
    confusion: dict
    systems: list[str]
    notes: list[str]
    timing: dict
    files: dict[str, FileAnalysis]
    audio_for: dict[tuple[str, str], str]
    emotion_labels: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)  # models and library versions


def _resynth_path(out_dir: Path, source: str) -> str:
    tag = hashlib.sha1(source.encode()).hexdigest()[:8]
    return str(out_dir / "baselines" / "world_resynth" / f"{Path(source).stem}-{tag}.wav")


def plan_audio(items: list[EvalItem], out_dir: Path, baselines: bool,
               ) -> dict[tuple[str, str], str]:
    """Audio file of every (item_id, system) pair that will be scored."""
    plan = {}
    for it in items:
        plan[(it.item_id, "converted")] = it.converted
        if baselines:
            plan[(it.item_id, "source")] = it.source
            plan[(it.item_id, "world_resynth")] = _resynth_path(out_dir, it.source)
            if it.reference:
                plan[(it.item_id, "reference")] = it.reference
    return plan


def _judge_all(judge: EmotionJudge, paths: list[str], sr: int,
               notes: list[str]) -> dict[str, dict]:
    """Emotion probabilities of each clip, keyed by canonical emotion names (a judge may say
    "Anger"); a clip the judge rejects (e.g. too little speech) gets none, and a note."""
    out = {}
    for p in paths:
        try:
            out[p] = canonical_probs(judge.predict(load_audio(p, sr), sr))
        except EmovcError as exc:
            notes.append(f"no emotion prediction for {p}: {exc}")
    return out


def _pair_row(it: EvalItem, system: str, path: str, files: dict[str, FileAnalysis],
              emb: dict, probs: dict | None, cfg: EvalConfig) -> dict:
    """Metrics of one system output of one item (NaN / '' where not applicable).

    ``probs`` is ``None`` when no emotion judge ran; when one ran, an output it could not
    judge (not analysable, or rejected by the judge) is a miss, predicted ``UNJUDGED``.
    """
    nan = float("nan")
    fa = files.get(path)
    src, ref = files.get(it.source), files.get(it.reference) if it.reference else None
    row = {"item_id": it.item_id, "system": system, "target_emotion": it.target_emotion,
           "source_emotion": it.source_emotion, "audio": path, "source": it.source,
           "reference": it.reference, "text": it.text, "error": fa.error if fa else "missing",
           "duration_s": nan, "duration_ratio": nan, "mcd_db": nan, "mcd_speech_db": nan,
           "nonspeech_share": nan, "f0_rmse_cents": nan,
           "f0_corr": nan, "vuv_error": nan, "voiced_pairs": 0, "spk_sim_source": nan,
           "spk_sim_reference": nan, "emotion_pred": "", "emotion_hit": "", "p_target": nan,
           "asr_hypothesis": "", "word_errors": "", "ref_words": ""}
    if probs is not None and path not in probs:
        row.update(emotion_pred=UNJUDGED, emotion_hit=False)
    if fa is None or fa.features is None:
        return row
    feats = fa.features
    row["duration_s"] = feats.duration
    if src is not None and src.features is not None:
        row["duration_ratio"] = duration_ratio(feats.duration, src.features.duration)
    if system != "reference" and ref is not None and ref.features is not None:
        row.update(compare_features(feats, ref.features, cfg.metrics.dtw_radius))
    if path in emb and it.source in emb:
        row["spk_sim_source"] = cosine(emb[path], emb[it.source])
    if system != "reference" and path in emb and it.reference in emb:
        row["spk_sim_reference"] = cosine(emb[path], emb[it.reference])
    if probs and path in probs:
        pred = top_label(probs[path])
        row.update(emotion_pred=pred, emotion_hit=pred == it.target_emotion,
                   p_target=float(probs[path].get(it.target_emotion, nan)))
    if fa.hypothesis is not None:
        row["asr_hypothesis"] = fa.hypothesis
        if it.text:
            row["word_errors"], row["ref_words"] = word_errors(it.text, fa.hypothesis)
    return row


def evaluate(items: list[EvalItem], out_dir: str | Path, cfg: EvalConfig = EvalConfig(),
             judge: EmotionJudge | None = None, log=None) -> EvaluationResult:
    """Score every item and its baselines.

    Args:
        items: conversions to score (see :func:`~emovc.evaluation.manifest.read_manifest`).
        out_dir: folder for generated baseline audio (``baselines/world_resynth/``).
        cfg: what to compute.
        judge: emotion recogniser (``.labels``, ``.predict(wav, sr)``); ``None`` loads
            ``cfg.recognizer`` when ``cfg.emotion`` (the default one skipped with a note if it
            cannot be loaded; a named one that cannot be is an error).
        log: optional ``callable(str)`` for progress messages.

    Returns:
        :class:`EvaluationResult` (write it with :func:`emovc.evaluation.report.write_all`).
    """
    say = log or (lambda msg: None)
    out_dir = Path(out_dir)
    if not any(it.text for it in items):  # nothing to score transcripts against
        cfg = replace(cfg, asr=False)
        asr_note = "no 'text' column: word error rates not computed"
    else:
        asr_note = "word error rates disabled (--no-asr)" if not cfg.asr else ""
    notes: list[str] = []  # about the whole run
    file_notes: list[str] = []  # one per file: can be many, so they come last
    timing: dict = {}
    sr = cfg.metrics.sample_rate
    plan = plan_audio(items, out_dir, cfg.baselines)
    resynth_src = {_resynth_path(out_dir, it.source): it.source for it in items}
    unique = sorted({*plan.values(), *(it.source for it in items),
                     *(it.reference for it in items if it.reference)})
    tasks = [(p, resynth_src.get(p, "")) for p in unique]

    passed = type(judge).__qualname__ if cfg.emotion and judge is not None else None
    if cfg.emotion and judge is None:  # before the long analysis: a named one must exist
        judge, why = load_default_judge(cfg.recognizer)
        if judge is None and cfg.recognizer != "default":
            reason = why.removeprefix("emotion recognition skipped: ")
            raise EmovcError(f"recogniser {cfg.recognizer!r} could not be loaded: {reason}")
        if judge is None:
            notes.append(why)

    if cfg.speaker:  # before the long analysis: a bad name or file must fail now
        SpeakerEncoder.from_pretrained(cfg.speaker_encoder)
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    say(f"analysing {len(tasks)} files (WORLD{' + ASR' if cfg.asr else ''}"
        f"{' + speaker' if cfg.speaker else ''}, {cfg.workers} worker(s))")
    files = run_stage1(tasks, cfg.metrics, cfg.asr_config if cfg.asr else None,
                       cfg.speaker_encoder if cfg.speaker else None, cfg.workers)
    timing["analysis_wall_s"] = time.perf_counter() - t0
    for p, fa in files.items():
        if fa.error:
            file_notes.append(f"could not analyse {p}: {fa.error}")
        elif fa.embedding_error:
            file_notes.append(f"no speaker embedding of {p} (its speaker similarity is left "
                              f"out): {fa.embedding_error}")

    ok_paths = [p for p in unique if files[p].features is not None]
    emb = {p: f.embedding for p, f in files.items() if f.embedding is not None}
    probs: dict | None = None
    labels: list[str] = []
    if cfg.emotion:
        if judge is not None:
            t0, c0 = time.perf_counter(), time.process_time()
            say(f"emotion recognition of {len(ok_paths)} files")
            labels = list(dict.fromkeys(canonical_label(lab) for lab in judge.labels))
            probs = _judge_all(judge, ok_paths, sr, file_notes)
            notes.extend(label_coverage_notes(items, labels))
            notes.extend(training_overlap_notes(items, judge))
            timing["emotion_wall_s"] = time.perf_counter() - t0
            timing["emotion_cpu_s"] = time.process_time() - c0
    else:
        notes.append("emotion recognition disabled (--no-emotion)")
    if asr_note:
        notes.append(asr_note)
    if not any(it.reference for it in items):
        notes.append("no references: MCD / F0 metrics and the reference baseline not computed")

    t0 = time.perf_counter()
    by_id = {it.item_id: it for it in items}
    rows = [_pair_row(by_id[iid], sys_, path, files, emb,
                      probs if not labels or by_id[iid].target_emotion in labels else None, cfg)
            for (iid, sys_), path in sorted(plan.items(),
                                            key=lambda kv: (kv[0][0], SYSTEMS.index(kv[0][1])))]
    timing["pairs_wall_s"] = time.perf_counter() - t0
    notes.extend(rate_mismatch_notes(rows, files, sr))
    timing["cpu_s"] = _cpu_seconds() - cpu0
    _stage_rtf(timing, files, plan)
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    overall, per_emotion = aggregate(rows, systems)
    # what the tables' means leave out first, then the run's notes, then the files'
    notes = [*coverage_notes(overall, cfg.emotion and judge is not None),
             *nonspeech_notes(overall), *sanity_notes(items, files), *notes, *file_notes]
    loaded = cfg.recognizer if cfg.emotion and judge is not None and passed is None else None
    return EvaluationResult(items=items, config=cfg, rows=rows, overall=overall,
                            per_emotion=per_emotion, confusion=confusions(rows, systems, labels),
                            systems=systems, notes=notes, timing=timing, files=files,
                            audio_for=plan, emotion_labels=labels,
                            provenance=provenance(loaded, passed, cfg.speaker_encoder
                                                  if cfg.speaker else None))


def label_coverage_notes(items: list[EvalItem], labels: list[str]) -> list[str]:
    """A note for the target emotions the judge cannot output (a recogniser trained on fewer
    emotions): their items are left out of the emotion rates, not counted as misses."""
    missing = sorted({it.target_emotion for it in items} - set(labels))
    if not missing:
        return []
    n = sum(it.target_emotion in missing for it in items)
    return [f"the emotion recogniser has no label {', '.join(missing)} (its labels: "
            f"{', '.join(labels)}): the emotion rate leaves out the {n} item(s) with "
            f"{'that target' if len(missing) == 1 else 'those targets'}"]


def rate_mismatch_notes(rows: list[dict], files: dict[str, FileAnalysis], sr: int) -> list[str]:
    """A note when outputs were compared with references stored at another sample rate.

    Every file is resampled to ``sr`` Hz, and a file that was not already at ``sr`` loses
    the top few hundred Hz below ``sr / 2`` to the resampler's filter; WORLD's envelope of
    that empty band differs so much from a full band's that 12 converted RAVDESS outputs
    stored at 16 kHz and copied to 44.1 or 48 kHz scored 3.5-4.8 dB of MCD against
    themselves, and the copies' MCD against the outputs' references rose by 0.8-2.1 dB
    (0.3-1.2 dB on speech frames; docs/evaluation.md). The files' own rates are those stage 1
    read (:attr:`FileAnalysis.native_sr`).
    """
    pairs = [(r["audio"], r["reference"]) for r in rows
             if r["reference"] and r["system"] != "reference" and not r["error"]]
    rates = {p: files[p].native_sr if p in files else 0 for pair in pairs for p in pair}
    odd = [(a, b) for a, b in pairs if rates[a] and rates[b] and rates[a] != rates[b]]
    if not odd:
        return []
    a, b = odd[0]
    return [f"{len(odd)} of {len(pairs)} output/reference pairs were stored at different sample "
            f"rates (e.g. {a}: {rates[a]} Hz, {b}: {rates[b]} Hz); resampling to {sr} Hz "
            "band-limits one of them, which raised conversions' MCD by 0.8-2.1 dB (12 RAVDESS "
            "items copied from 16 to 44.1 or 48 kHz; the copies scored 3.5-4.8 dB against the "
            "originals): for comparable MCD store outputs and references at the same rate "
            f"(e.g. {sr} Hz)"]


def _cpu_seconds() -> float:
    """CPU time of this process plus its finished child processes (the analysis pool)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _stage_rtf(timing: dict, files: dict[str, FileAnalysis], plan: dict) -> None:
    """Add audio seconds, per-stage CPU seconds and real-time factors (CPU s / audio s)."""
    audio = sum(f.features.duration for f in files.values() if f.features is not None)
    timing["audio_s"] = audio
    timing["n_files"] = len(files)
    timing["n_pairs"] = len(plan)
    for stage in ("resynth", "world", "asr", "speaker"):
        cpu = sum(f.seconds.get(stage, 0.0) for f in files.values())
        if cpu:
            timing[f"{stage}_cpu_s"] = cpu
            timing[f"{stage}_rtf"] = cpu / audio if audio else float("nan")
    if "emotion_cpu_s" in timing and audio:
        timing["emotion_rtf"] = timing["emotion_cpu_s"] / audio

