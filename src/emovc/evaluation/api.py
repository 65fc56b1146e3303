"""One-call entry points used by the CLI (and handy in notebooks)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from emovc.errors import OVERWRITE_HINT, EmovcError, OutputExistsError
from emovc.evaluation.emotion import EmotionJudge
from emovc.evaluation.manifest import find_manifest, read_manifest
from emovc.evaluation.report import write_all
from emovc.evaluation.runner import SYSTEM_TITLES, EvalConfig, EvaluationResult, evaluate
from emovc.evaluation.stimuli import DEFAULT_LUFS
from emovc.fileio import write_atomic

OUTPUTS = ("report.html", "metrics.json", "per_utterance.csv", "per_emotion.csv")
SUMMARY_COLUMNS = [("mcd_db", "MCD dB", 2), ("mcd_speech_db", "MCD-sp dB", 2),
                   ("f0_rmse_cents", "F0 RMSE c", 0),
                   ("f0_corr", "F0 r", 2), ("vuv_error", "V/UV", 3),
                   ("duration_ratio", "dur", 2), ("spk_sim_source", "sim-src", 3),
                   ("spk_sim_reference", "sim-ref", 3), ("emotion_rate", "emo-rate", 3),
                   ("emotion_ua", "emo-UA", 3), ("wer", "WER", 3)]


def run_evaluation(manifest_or_run: str | os.PathLike, out_dir: str | os.PathLike,
                   cfg: EvalConfig = EvalConfig(), force: bool = False,
                   judge: EmotionJudge | None = None, embed_audio: bool = True,
                   log=None) -> tuple[EvaluationResult, dict[str, Path]]:
    """Read a manifest or run directory, evaluate it and write every output into ``out_dir``.

    Raises:
        EmovcError: bad manifest, missing audio, or outputs exist and ``force`` is false.
    """
    items = read_manifest(manifest_or_run)
    out = Path(out_dir).absolute()  # every path in the outputs absolute, as the manifest's
    for folder in (out, *out.parents):  # the nearest existing one must be a folder
        if folder.exists():
            if not folder.is_dir():
                raise EmovcError(f"-o must be a folder for the report, but {folder} is a file")
            break
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not force:
        raise OutputExistsError(f"{out_dir} already holds {', '.join(existing)} "
                                f"({OVERWRITE_HINT})")
    if out.resolve() == find_manifest(manifest_or_run).parent.resolve() and not force:
        raise EmovcError(f"refusing to write the evaluation into the run folder {out}; "
                         f"pick another -o (or --force)")
    if force:  # the previous run's generated baseline audio would linger beside the new report
        shutil.rmtree(out / "baselines" / "world_resynth", ignore_errors=True)
    result = evaluate(items, out, cfg, judge=judge, log=log)
    return result, write_all(result, out, embed_audio=embed_audio)


def _fmt(v, d: int) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return "-" if f != f else f"{f:.{d}f}"


def _cell(o: dict, key: str, d: int) -> str:
    """A mean, with the number of items it is over in brackets where fewer than ``o["n"]``."""
    text, k = _fmt(o.get(key), d), o.get(f"{key}_n")
    return f"{text} ({k})" if text != "-" and isinstance(k, int) and k != o["n"] else text


def _interval(o: dict, key: str, d: int) -> str:
    """The 95 % interval of a table cell: ``lo-hi`` for a rate or WER (``<key>_ci_low`` /
    ``_ci_high``), ``±half`` for a mean (``<key>_ci95``); ``""`` when there is none."""
    if f"{key}_ci_low" in o:  # two decimals: the interval is wider than that anyway
        lo, hi = _fmt(o.get(f"{key}_ci_low"), 2), _fmt(o.get(f"{key}_ci_high"), 2)
        return "" if "-" in (lo, hi) else f"{lo}-{hi}"
    half = _fmt(o.get(f"{key}_ci95"), d)
    return "" if half == "-" else f"±{half}"


CI_LEGEND = ("95 % CI rows: ± t-interval half-width of a mean; emo-rate: exact binomial "
             "interval; WER: bootstrap over utterances")


def summary_table(result: EvaluationResult, per_emotion: bool = False) -> str:
    """Plain-text table of the overall (or per-emotion) means of every system, each row
    followed by a row of 95 % intervals; a mean over fewer items than the row's ``n`` shows
    their number in brackets (the baselines are averaged over the same items as the
    converted system)."""
    head = ["system", "n", *[c[1] for c in SUMMARY_COLUMNS]]
    rows, groups = [], []
    if per_emotion:
        head.insert(0, "target")
        groups = [([r["target_emotion"], r["system"]], r) for r in result.per_emotion]
    else:
        groups = [([SYSTEM_TITLES.get(s, s)], result.overall[s]) for s in result.systems]
    lead = len(head) - len(SUMMARY_COLUMNS) - 1  # label columns before "n"
    for labels, o in groups:
        rows.append([*labels, str(o["n"]), *[_cell(o, k, d) for k, _, d in SUMMARY_COLUMNS]])
        cis = [_interval(o, k, d) for k, _, d in SUMMARY_COLUMNS]
        if any(cis):
            rows.append(["  95 % CI", *[""] * lead, *cis])
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(h.rjust(w) if i >= lead else h.ljust(w)
                       for i, (h, w) in enumerate(zip(line, widths, strict=True))).rstrip()
             for line in [head, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    if any(cell.endswith(")") for row in rows for cell in row[lead + 1:]):
        lines.append("(k): mean over k of the row's n items; the baselines are averaged over "
                     "the same items as the converted system")
    if any(row[0] == "  95 % CI" for row in rows):
        lines.append(CI_LEGEND)
    return "\n".join(lines)


def ratings_table(summary: dict, per_emotion: bool = False) -> str:
    """Plain-text view of :func:`~emovc.evaluation.listening_ratings.summarize_ratings` output;
    ``per_emotion`` adds the MOS and A/B of each target emotion."""
    lines = [f"{summary['n_ratings']} ratings from {summary['listeners']} listener(s)",
             _served(summary.get("loudness", {}))]
    if summary["listeners"] == 2:  # docs/evaluation.md (benchmarks/diag_listening_ci.py)
        lines.append("caution: with 2 listeners the 95 % intervals cover only about 87-90 % "
                     "when listeners differ (one difference between two people estimates "
                     "their spread); a third listener restores about 95 %")
    lines += _listening_lines(summary["mos"], summary["ab"], note=True)
    for emotion, part in summary.get("by_emotion", {}).items() if per_emotion else ():
        lines += ["", f"== target emotion: {emotion} =="]
        lines += _listening_lines(part["mos"], part["ab"])
    return "\n".join(lines)


def _listening_lines(mos: dict, ab: dict, note: bool = False) -> list[str]:
    """The MOS table (``note``: with what ± is) and the A/B lines of one (part of a)
    summary."""
    lines = ["", f"{'system':<14}{'naturalness MOS':>24}{'emotion strength MOS':>26}"]
    for system, qs in mos.items():
        cells = []
        for q in ("naturalness", "emotion_strength"):
            m = qs.get(q, {})
            cells.append(f"{_fmt(m.get('mean'), 2)} ± {_fmt(m.get('ci95'), 2)} (n={m.get('n', 0)})")
        lines.append(f"{system:<14}{cells[0]:>24}{cells[1]:>26}")
    if mos and note:
        lines.append("(±: 95 % interval over listeners and files, from their variance "
                     "components; a listener's repeated ratings of one file count once)")
    for pair, r in ab.items():
        x, y = pair.split(" vs ")
        kx, ky = r[f"prefer_{x}"], r[f"prefer_{y}"]
        lines += ["", f"A/B {pair}: {x} preferred in {kx} of {kx + ky} decisive answers "
                      f"({r['listeners']} listener(s), {r['pairs']} pair(s)): "
                      f"{_fmt(r[f'share_{x}'], 2)}, 95 % CI {_fmt(r['ci_low'], 2)}-"
                      f"{_fmt(r['ci_high'], 2)}, p = {_fmt(r['p_value'], 3)}; "
                      f"{r['same']} no-preference"]
    if ab and note:
        lines.append("(A/B: 95 % interval and p over listeners and pairs, from the same "
                     "variance components; few listeners give wide intervals)")
    return lines


def _served(loudness: dict[str, int]) -> str:
    """How the rated clips were served, from the summary's ``{label: ratings}``."""
    parts = []
    for label, n in loudness.items():
        what = {"off": "at their stored level (--no-loudness)",
                "not recorded": "as stored (by a version before loudness matching)"}.get(
            label, f"loudness-matched to {label}")
        parts.append(f"{what}" + (f" ({n} ratings)" if len(loudness) > 1 else ""))
    return "clips served " + "; ".join(parts) if parts else ""


def dump_json(obj, path: str | os.PathLike) -> Path:
    """Write strict JSON (NaN → null)."""
    from emovc.evaluation.aggregate import clean

    return write_atomic(path, json.dumps(clean(obj), indent=1, allow_nan=False))


def run_listening_test(manifest_or_run: str | os.PathLike, port: int = 8765,
                       ratings: str | os.PathLike | None = None,
                       compare: str | os.PathLike | None = None, max_items: int = 20,
                       seed: int = 0, max_minutes: float = 180.0, on_ready=None,
                       loudness: float | None = DEFAULT_LUFS) -> Path:
    """Build trials from a run (optionally against a second run) and serve the test.

    Ratings go to ``ratings`` (default ``<run>/listening/ratings.csv``, appended to); the trial
    list with systems and files is saved next to it as ``<ratings stem>-trials.json`` once the
    server listens. Every clip is served as 16-bit WAV at the test's lowest sample rate, at
    ``loudness`` LUFS (``None``: at its stored level).

    Returns:
        the ratings CSV path.
    """
    from emovc.evaluation.listening import build_trials, earlier_trials, trials_to_dicts
    from emovc.evaluation.listening_ratings import (
        check_ratings_file,
        check_same_test,
        match_ratings_file,
    )
    from emovc.evaluation.listening_server import check_serve_options, serve_listening_test

    check_serve_options(port, max_minutes, loudness)  # before reading and sampling the run
    items = read_manifest(manifest_or_run)
    other = read_manifest(compare) if compare else None
    names = ("converted", "other") if not compare else (
        find_manifest(manifest_or_run).parent.name or "run_a", find_manifest(compare).parent.name
        or "run_b")
    if names[0] == names[1]:
        names = (f"{names[0]}_a", f"{names[1]}_b")
    run_dir = find_manifest(manifest_or_run).parent.resolve()
    options = {"max_items": max_items, "seed": seed, "base": run_dir}
    trials = build_trials(items, other, names, **options)
    csv_path = Path(ratings) if ratings else run_dir / "listening" / "ratings.csv"
    check_ratings_file(csv_path)  # appended to: never into another kind of file
    # a file of an earlier version resumes its test
    trials = match_ratings_file(csv_path, trials, earlier_trials(items, other, names, **options))
    check_same_test(csv_path, trials)  # ... nor into another test's answers
    csv_path.parent.mkdir(parents=True, exist_ok=True)

    def ready(url: str) -> None:  # once the port is ours: a busy port writes nothing
        dump_json(trials_to_dicts(trials), trials_file(csv_path))
        if on_ready:
            on_ready(url)

    serve_listening_test(trials, csv_path, port, max_minutes=max_minutes, on_ready=ready,
                         seed=seed, loudness=loudness)
    return csv_path


def trials_file(ratings: str | os.PathLike) -> Path:
    """The trial list (systems and files) saved beside a ratings CSV: ``<stem>-trials.json``,
    one per ratings file, so two tests in one folder keep their own."""
    p = Path(ratings)
    return p.with_name(f"{p.stem}-trials.json")
