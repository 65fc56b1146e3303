"""Write an evaluation: ``metrics.json``, ``per_utterance.csv``, ``per_emotion.csv`` and a
self-contained ``report.html`` (figures as base64 PNG, audio as base64 WAV data URIs, or
relative links to copies in ``report_audio/`` with ``embed_audio=False``).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import numpy as np
import soundfile as sf
from jinja2 import Environment, FileSystemLoader

from emovc import __version__
from emovc.audio.io import load_audio
from emovc.evaluation import plots
from emovc.evaluation.aggregate import MEAN_METRICS, clean
from emovc.evaluation.runner import SYSTEM_TITLES, EvaluationResult
from emovc.fileio import copy_atomic, write_atomic

TEMPLATES = Path(__file__).resolve().parent / "templates"

# (key, column label, decimals) of the summary tables, in display order
COLUMNS = [
    ("mcd_db", "MCD (dB) ↓", 2), ("mcd_speech_db", "MCD on speech frames (dB) ↓", 2),
    ("f0_rmse_cents", "log-F0 RMSE (cents) ↓", 0),
    ("f0_corr", "F0 corr ↑", 2), ("vuv_error", "V/UV err ↓", 3),
    ("duration_ratio", "duration ratio", 2), ("spk_sim_source", "spk-sim to source", 3),
    ("spk_sim_reference", "spk-sim to reference", 3), ("emotion_rate", "target emotion rate ↑", 3),
    ("emotion_ua", "unweighted emotion accuracy ↑", 3), ("p_target", "p(target) ↑", 3),
    ("wer", "WER ↓", 3),
]
CSV_ROW_FIELDS = ["item_id", "system", "target_emotion", "source_emotion", "audio", "source",
                  "reference", "text", "duration_s", "duration_ratio", "mcd_db", "mcd_speech_db",
                  "nonspeech_share", "f0_rmse_cents",
                  "f0_corr", "vuv_error", "voiced_pairs", "spk_sim_source", "spk_sim_reference",
                  "emotion_pred", "emotion_hit", "p_target", "asr_hypothesis", "word_errors",
                  "ref_words", "error"]


def _csv_text(rows: list[dict], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in clean(r).items()})
    return buf.getvalue()


def metrics_dict(result: EvaluationResult) -> dict:
    """Everything numeric of an evaluation as strict-JSON-ready plain data."""
    cfg = result.config
    return clean({
        "emovc_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"metrics": cfg.metrics.to_dict(), "asr": cfg.asr, "emotion": cfg.emotion,
                   "speaker": cfg.speaker, "baselines": cfg.baselines, "workers": cfg.workers,
                   "asr_config": vars(cfg.asr_config), "recognizer": cfg.recognizer,
                   "speaker_encoder": cfg.speaker_encoder},
        "provenance": result.provenance,
        "n_items": len(result.items),
        "systems": result.systems,
        "notes": result.notes,
        "timing": result.timing,
        "overall": result.overall,
        "per_emotion": result.per_emotion,
        "confusion": result.confusion,
        "per_utterance": result.rows,
    })


def write_all(result: EvaluationResult, out_dir: str | Path, embed_audio: bool = True,
              ) -> dict[str, Path]:
    """Write metrics.json, per_utterance.csv, per_emotion.csv and report.html into ``out_dir``."""
    out = Path(out_dir)
    emo_fields = ["system", "target_emotion", "n", *[m for m in MEAN_METRICS],
                  *[f"{m}_ci95" for m in MEAN_METRICS], "n_judged", "emotion_rate",
                  "emotion_rate_ci_low", "emotion_rate_ci_high", "wer", "wer_ci_low",
                  "wer_ci_high", "n_words", *[f"{m}_n" for m in MEAN_METRICS],
                  "emotion_rate_n", "wer_n", "n_unjudged", "n_failed"]
    paths = {
        "metrics": write_atomic(out / "metrics.json",
                                 json.dumps(metrics_dict(result), indent=1, allow_nan=False)),
        "per_utterance": write_atomic(out / "per_utterance.csv",
                                       _csv_text(result.rows, CSV_ROW_FIELDS)),
        "per_emotion": write_atomic(out / "per_emotion.csv",
                                     _csv_text(result.per_emotion, emo_fields)),
    }
    # copies of an earlier report in this folder (--force) would stay behind otherwise
    shutil.rmtree(out / "report_audio", ignore_errors=True)
    paths["report"] = render_report(result, out / "report.html", embed_audio)
    return paths


MAX_EMBED_S = 60.0  # seconds of each example clip embedded in report.html


def _audio_src(path: str, out_dir: Path, embed: bool, sr: int,
               wav: np.ndarray | None = None) -> str:
    """The player's source: ``path``'s audio (``wav``, if already loaded at ``sr``) embedded
    as base64 WAV, or a relative link to a copy in ``report_audio/``."""
    if embed:  # a long clip's first minute: four 3-minute examples would be 70 MB of page
        wav = load_audio(path, sr) if wav is None else wav
        buf = io.BytesIO()
        sf.write(buf, wav[: int(MAX_EMBED_S * sr)], sr, format="WAV", subtype="PCM_16")
        return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    tag = hashlib.sha1(path.encode()).hexdigest()[:8]
    rel = Path("report_audio") / f"{tag}_{Path(path).name}"
    copy_atomic(path, out_dir / rel)
    return quote(rel.as_posix())  # a URL: '#' or '?' in a file name must not end the path


def pick_examples(result: EvaluationResult, n: int) -> list[str]:
    """Item ids shown in detail: one per target emotion first (items with references first)."""
    ordered = sorted(result.items, key=lambda it: (not it.reference, it.item_id))
    picked, seen = [], set()
    for it in ordered:
        if it.target_emotion not in seen and len(picked) < n:
            picked.append(it.item_id)
            seen.add(it.target_emotion)
    for it in ordered:
        if len(picked) >= n:
            break
        if it.item_id not in picked:
            picked.append(it.item_id)
    return picked


def _examples(result: EvaluationResult, out_dir: Path, embed: bool) -> list[dict]:
    sr = result.config.metrics.sample_rate
    fp = result.config.metrics.frame_period
    rows = {(r["item_id"], r["system"]): r for r in result.rows}
    out = []
    for iid in pick_examples(result, result.config.n_examples):
        it = next(i for i in result.items if i.item_id == iid)
        clips = [("source", f"source ({it.source_emotion or '?'})", it.source),
                 ("converted", f"converted → {it.target_emotion}", it.converted)]
        if it.reference:
            clips.append(("reference", f"reference ({it.target_emotion})", it.reference))
        panels, players = [], []
        for system, title, path in clips:
            fa = result.files.get(path)
            if fa is None or fa.features is None:
                continue
            lead = np.zeros(round(fa.features.start_s * 1000.0 / fp))  # trimmed silence
            wav = load_audio(path, sr)
            panels.append((title, wav, np.concatenate([lead, fa.features.f0]), fp))
            seconds = len(wav) / sr
            cut = (f" (first {MAX_EMBED_S:.0f} s of {seconds:.0f} s; --link-audio for whole "
                   "files)") if embed and seconds > MAX_EMBED_S else ""
            players.append({"title": title + cut,
                            "src": _audio_src(path, out_dir, embed, sr, wav),
                            "row": rows.get((iid, system), {})})
        if panels:
            out.append({"item": it, "image": plots.example_plot(panels, sr), "players": players,
                        "row": rows.get((iid, "converted"), {})})
    return out


def short_names(paths) -> dict[str, str]:
    """For each path, its shortest ending (file name, then ``folder/name``, ...) that no
    other of ``paths`` shares, so the per-utterance table tells apart outputs with the same
    file name in different folders (``angry/Actor_01/x.wav``, ``sad/Actor_01/x.wav``); the
    path as given when every shorter ending is shared. Spellings of one path (``a/x.wav``,
    ``./a/x.wav``) share nothing with each other. Linear in the number of paths (each ending of
    each path is counted once): an augment folder lists some 14k files."""
    parts = {p: Path(p).parts for p in dict.fromkeys(paths) if p}
    endings = Counter(q[-k:] for q in set(parts.values()) for k in range(1, len(q) + 1))
    out = {}
    for p, mine in parts.items():
        k = next((k for k in range(1, len(mine)) if endings[mine[-k:]] == 1), 0)
        out[p] = "/".join(mine[-k:]) if k else p
    return out


def _bar_rows(per_emotion: list[dict]) -> list[dict]:
    """The per-emotion rows as the bar charts show them: without the source's similarity
    to itself (1 by definition, not a result)."""
    return [{**r, "spk_sim_source": float("nan")} if r["system"] == "source" else r
            for r in per_emotion]


def fmt(value, digits: int = 3) -> str:
    """Number formatting for the tables ('–' for missing values)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–" if value in (None, "") else str(value)
    return "–" if not np.isfinite(v) else f"{v:.{digits}f}"


def render_report(result: EvaluationResult, path: str | Path, embed_audio: bool = True) -> Path:
    """Render the HTML report to ``path`` (atomically); returns the path."""
    path = Path(path)
    # every value is escaped: texts, ASR output, file names and notes come from the user's
    # files (and `emovc app` shows the page in its own origin). select_autoescape() would leave
    # it off for "report.html.j2" (it goes by the name's last suffix). Nothing is marked safe:
    # the only values that are not plain text, the figures' base64 and the players' data URIs
    # and percent-encoded links, have no character that escaping changes.
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["fmt"] = fmt
    bar_metrics = [("emotion_rate", "target emotion recognition rate"),
                   ("mcd_db", "MCD to reference (dB)"),
                   ("mcd_speech_db", "MCD to reference on speech frames (dB)"),
                   ("f0_rmse_cents", "log-F0 RMSE to reference (cents)"),
                   ("spk_sim_source", "speaker similarity to source"), ("wer", "word error rate")]
    html = env.get_template("report.html.j2").render(
        result=result, titles=SYSTEM_TITLES, columns=COLUMNS, version=__version__,
        created=time.strftime("%Y-%m-%d %H:%M"),
        bars=plots.per_emotion_bars(_bar_rows(result.per_emotion), result.systems,
                                    SYSTEM_TITLES, bar_metrics),
        confusion=plots.confusion_plot(result.confusion, SYSTEM_TITLES),
        examples=_examples(result, path.parent, embed_audio),
        emotions=sorted({r["target_emotion"] for r in result.per_emotion}),
        metrics=result.config.metrics.to_dict(), embedded=embed_audio,
        names=short_names(r["audio"] for r in result.rows))
    return write_atomic(path, html)
