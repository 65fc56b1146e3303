"""File-level analysis helpers behind ``emovc info``, ``emovc resynth`` and ``emovc demo``."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from emovc.audio import audio_info, check_speech, load_audio, save_audio
from emovc.audio.clipping import MIN_CLIPPED_SHARE, clipped_share
from emovc.audio.io import (
    DC_LIMIT,
    WRITE_FORMATS,
    load_audio_with_rate,
    load_channels,
    mono_mix,
    resample,
)
from emovc.audio.noise import LOW_SNR_DB, estimate_snr
from emovc.audio.processing import PEAK_LIMIT, active_rms_dbfs, integrated_loudness, soft_limit
from emovc.errors import (
    OVERWRITE_HINT,
    AudioError,
    ConfigError,
    OutputExistsError,
    output_exists,
)
from emovc.fileio import check_writable, refuse_input_overwrite
from emovc.pipelines.run_table import TABLE, write_table

DEMO_TARGETS = ("angry", "happy", "sad", "fearful")  # emotions `emovc demo` writes


def _peak(data: np.ndarray, finite: np.ndarray) -> str:
    """Sample peak in dBFS of ``(n_samples, n_channels)`` audio, per channel when there are
    several; NaN and Inf samples (``finite``: ``np.isfinite(data)``) are left out of it and
    counted."""
    if not finite.any():
        return f"none (all {data.size} samples are NaN or Inf)"
    peaks = [20 * np.log10(max(float(np.max(np.abs(c[ok]), initial=0.0)), 1e-10))
             for c, ok in zip(data.T, finite.T, strict=True)]
    bad = data.size - int(finite.sum())
    note = f" (of the finite samples; {bad} NaN or Inf)" if bad else ""
    if len(peaks) == 1:
        return f"{peaks[0]:.1f} dBFS{note}"
    return " / ".join(f"{p:.1f}" for p in peaks) + f" dBFS (per channel){note}"


def describe_file(path: str | os.PathLike) -> dict[str, str]:
    """Duration, sample rate, channels, F0 range and loudness of ``path`` (human-readable).

    F0 comes from WORLD DIO+StoneMask at 16 kHz; the range is the 5th-95th percentile of
    voiced frames. Loudness is integrated BS.1770 loudness (LUFS, pyloudnorm) and the active
    speech level (dBFS over the louder half of 20 ms frames), both without the DC offset
    that every command removes. A file the commands would refuse (silent, too short,
    cancelling channels, NaN or Inf samples) is described as far as it can be, with the reason under
    ``"analysis"``. A clipped file (:mod:`emovc.audio.clipping`) gets a ``"clipping"`` row.
    ``"estimated SNR"`` is the blind estimate of :mod:`emovc.audio.noise` (active speech level
    over the noise floor), flagged below :data:`~emovc.audio.noise.LOW_SNR_DB`.
    """
    info = audio_info(path)
    data, sr = load_channels(path)  # decoded once: the peaks, the mix and its 16 kHz copy
    finite = np.isfinite(data)  # scanned once: the peaks and whether it can be analysed
    out = {
        "file": str(path),
        "format": info.format,
        "duration": f"{info.duration:.3f} s" if len(data) / sr >= info.duration - 1e-3 else
                    f"{len(data) / sr:.3f} s decodable of {info.duration:.3f} s (damaged or "
                    "truncated)",
        "sample rate": f"{info.sample_rate} Hz",
        "channels": str(info.channels) + (" (analysed as their mono mix, as every emovc "
                                          "command reads them)" if info.channels > 1 else ""),
        "peak": _peak(data, finite),
    }
    if not finite.all():  # no level, DC offset or F0 to measure
        out["analysis"] = f"not analysed: {path} contains NaN or Inf samples"
        return out
    share = clipped_share(data)
    if share >= MIN_CLIPPED_SHARE:
        out["clipping"] = f"{100 * share:.1f} % of samples at full scale (the file is clipped)"
    offset = data.mean(axis=0)
    if np.any(np.abs(offset) > DC_LIMIT):
        out["DC offset"] = (" / ".join(f"{m:+.4f}" for m in offset)
                            + " (removed before every analysis)")
    try:
        wav = mono_mix(data, path)  # the mix every command uses, DC removed
    except AudioError as exc:  # e.g. channels that cancel
        out["analysis"] = f"not analysed: {exc}"
        return out
    level = active_rms_dbfs(wav, sr)
    # digital silence measures the meter's floor (-200 dBFS), which reads like a number
    out["speech level"] = f"{level:.1f} dBFS" if level > -190 else "none (digital silence)"
    out["loudness"] = _lufs(data - offset if data.shape[1] <= 5 else wav, sr)  # BS.1770
    out["estimated SNR"] = _snr(wav, sr)
    try:
        out.update(_f0_summary(check_speech(resample(wav, sr, 16000), 16000, name=str(path))))
    except AudioError as exc:
        out["analysis"] = f"not analysed: {exc}"
    return out


def _f0_summary(wav16: np.ndarray) -> dict[str, str]:
    """F0 range and voiced share of 16 kHz speech (WORLD DIO + StoneMask), or, for audio
    without voiced sound (:mod:`emovc.audio.voicing`: noise, a whisper), why there is none —
    DIO finds a few spurious "voiced" frames in noise, whose range would read as a voice."""
    from emovc.audio.voicing import MIN_PERIODIC_SHARE, periodic_share
    from emovc.features.world import WorldConfig, analyze

    share = periodic_share(wav16, 16000)
    if share < MIN_PERIODIC_SHARE:
        # its own row: the periodic share of the active frames, not DIO's "voiced" share
        return {"F0 range": "none: no voiced sound found",
                "periodic": f"{100 * share:.1f} % of active frames (convert and clone refuse "
                            f"files below {100 * MIN_PERIODIC_SHARE:.0f} %)"}
    out = {}
    f0 = analyze(wav16, WorldConfig()).f0
    voiced = f0[f0 > 0]
    if voiced.size:
        lo, med, hi = np.percentile(voiced, [5, 50, 95])
        out["F0 range"] = f"{lo:.0f}-{hi:.0f} Hz (median {med:.0f} Hz)"
        out["voiced"] = f"{100 * voiced.size / f0.size:.0f} % of frames"
    else:
        out["F0 range"] = "no voiced frames found"
    return out


def _snr(wav: np.ndarray, sr: int) -> str:
    """The estimated SNR of mono ``(n,)`` ``wav`` at ``sr`` Hz (:mod:`emovc.audio.noise`), with
    what it means below :data:`~emovc.audio.noise.LOW_SNR_DB`; "n/a (why)" for audio the
    estimate refuses (float samples far beyond full scale), which is still described."""
    try:
        snr = estimate_snr(wav, sr, name="the file")
    except AudioError as exc:  # its full reason, with the hint, is the "analysis" row
        return f"n/a ({str(exc).partition(' (')[0]})"
    if np.isnan(snr):
        return "n/a (too short, digital silence, or a steady sound such as a held vowel)"
    if snr < LOW_SNR_DB:
        return (f"{snr:.0f} dB (noisy: below {LOW_SNR_DB:g} dB conversion and emotion recognition "
                "clearly degrade)")
    return f"{snr:.0f} dB"


def _lufs(wav: np.ndarray, sr: int) -> str:
    """Integrated BS.1770 loudness of ``wav`` (``(n,)`` or ``(n, channels)`` with up to 5
    channels, summed as the standard weights them)."""
    value = integrated_loudness(wav, sr)
    if np.isnan(value):  # BS.1770 gating needs at least one 400 ms block
        return "n/a (shorter than 0.4 s)"
    return f"{value:.1f} LUFS" if np.isfinite(value) else "silent"


def resynthesize_file(src: str | os.PathLike, out: str | os.PathLike, *, f0_method: str = "dio",
                      sr: int = 16000, force: bool = False) -> Path:
    """Analyse ``src`` with WORLD and synthesise it again into ``out`` (at ``sr`` Hz; the
    FFT size follows the rate: 1024 at 16 kHz, 2048 at 44.1/48 kHz)."""
    return resynthesize_with_input(src, out, f0_method=f0_method, sr=sr, force=force)[0]


def resynthesize_with_input(src: str | os.PathLike, out: str | os.PathLike, *,
                            f0_method: str = "dio", sr: int = 16000, force: bool = False,
                            ) -> tuple[Path, np.ndarray, int]:
    """:func:`resynthesize_file`, returning also the input as it was decoded for it (once):
    ``(out path, mono float32 (n,) at the file's own rate, that rate)``, so the output can
    be measured against it without decoding the file again (``emovc resynth``)."""
    import pyworld

    from emovc.audio.processing import check_sample_rate
    from emovc.features.world import WorldConfig, resynthesize

    _refuse_overwrite(src, out, force)
    check_writable(out)
    fft = max(1024, pyworld.get_cheaptrick_fft_size(sr, WorldConfig.f0_floor))
    cfg = WorldConfig(sample_rate=sr, f0_method=f0_method, fft_size=fft)
    rate = check_sample_rate(sr, "sr")
    source, native = load_audio_with_rate(src)
    wav = check_speech(resample(source, native, rate), sr, name=str(src))
    # WORLD's synthesis can overshoot a near-full-scale input: soft-limit, never hard-clip
    path = save_audio(out, soft_limit(resynthesize(wav, cfg), ceiling=PEAK_LIMIT), sr,
                      force=force, comment=_provenance("WORLD resynthesis"))
    return path, source, native


def _refuse_overwrite(src: str | os.PathLike, out: str | os.PathLike, force: bool) -> None:
    if Path(out).is_dir():  # was "output exists" (or, with --force, "cannot write '(no ...)'")
        raise ConfigError(f"output {out} is a folder; give a file name ending in "
                          f"{', '.join(WRITE_FORMATS)}")
    refuse_input_overwrite(out, [src])
    if Path(out).exists() and not force:
        raise output_exists(out)


def _provenance(what: str) -> str:
    from emovc import __version__

    return f"emovc {__version__}: {what}"


#: what the bundled example (:func:`example_path`, CMU ARCTIC ``arctic_a0007``) says, written
#: into the demo's table so that ``emovc evaluate`` scores the conversions' intelligibility
EXAMPLE_TEXT = "And you always want to see it in the superlative degree."


def example_path() -> Path:
    """A short real English recording shipped inside an installed dependency.

    pysptk's wheel carries CMU ARCTIC ``arctic_a0007.wav`` (16 kHz, 4 s; CMU ARCTIC is free
    to use, BSD-style licence), so the demo needs no download and no audio in this repo.
    """
    import pysptk.util

    return Path(pysptk.util.example_audio_file())


def run_demo(out_dir: str | os.PathLike, src: str | os.PathLike | None = None,
             force: bool = False, source: str | None = None) -> Iterator[str]:
    """Demo: convert the bundled example into several emotions with the default model.

    Writes ``out_dir/resynthesized.wav`` (vocoder reference), ``out_dir/<emotion>.wav`` and
    ``out_dir/conversions.csv`` (with the bundled example's words, :data:`EXAMPLE_TEXT`, for
    ``emovc evaluate``'s WER); yields progress lines. ``source``: the recording's emotion;
    ``None`` = neutral for the bundled example (read speech), detected by the recogniser for
    ``src``. Earlier outputs are refused before anything is written unless ``force``.
    """
    from emovc.data.emotions import check_model_emotion
    from emovc.pipelines.conversion import EmotionConverter, check_input

    conv = EmotionConverter.from_pretrained()
    if src is None and source is None:
        source = "neutral"
    if source is not None:  # a bad --from fails before anything is written
        source = check_model_emotion(source, conv.source_emotions, "source")
    text = "" if src else EXAMPLE_TEXT  # a recording of the user's own: its words unknown
    src = Path(src) if src else example_path()
    out = Path(out_dir)
    targets = [t for t in DEMO_TARGETS if t != source]  # not the recording's own emotion
    names = ["resynthesized.wav", *(f"{t}.wav" for t in targets), "conversions.csv"]
    existing = [n for n in names if (out / n).exists()]
    if existing and not force:
        raise OutputExistsError(f"{out} already holds demo outputs ({', '.join(existing)}); "
                                f"{OVERWRITE_HINT}")
    described = describe_file(src)  # an unreadable input fails before any line is printed
    yield f"input: {src}"
    for key, value in described.items():
        yield f"  {key}: {value}"
    wav = load_audio(src, conv.sample_rate)
    check_input(wav, conv.sample_rate, name=str(src))  # fails, or warns, before any output
    if source is None:  # once for all targets, so the recording's own emotion is skipped
        source = conv.detect_source(wav, conv.sample_rate)
        yield f"  detected emotion: {source}"
        targets = [t for t in DEMO_TARGETS if t != source]
    path = resynthesize_file(src, out / "resynthesized.wav", force=force)
    yield f"wrote {path} (WORLD analysis/synthesis round trip)"
    if len(targets) < len(DEMO_TARGETS):
        yield f"skipped {source}: the recording is already {source}"
    rows = []
    for target in targets:
        out_path, used = conv.convert_file(src, out / f"{target}.wav", target, source=source,
                                           force=force)
        rows.append({"source": str(src.absolute()), "converted": Path(out_path).name,
                     "target_emotion": target, "source_emotion": used or "",
                     "reference": "", "text": text})
        yield f"wrote {out_path} ({used} -> {target}, model {conv.name})"
    table = write_table(out / TABLE, rows)
    here = out if out.name not in ("", ".", "..") else out.resolve()  # "." has no name
    report = here.with_name(f"{here.name}-report")
    yield (f"wrote {table} (score them: emovc evaluate {shlex.quote(str(out))} -o "
           f"{shlex.quote(str(report))})")
