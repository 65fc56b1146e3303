"""What a prepared voice saves: several sentences cloned from one set of references.

Three reference files of about 3 s of speech each (the first 3 s of speech of three ``vctk4``
clips of one speaker, written as 16 kHz WAV files in a temporary folder) and ``--sentences``
Harvard sentences, each cloned by its own ``VoiceCloner.clone`` call (the ``voice`` style,
one torch thread), three ways:

- *analysed every call*: the cloner's voice cache emptied before each call — what every
  ``clone`` call cost before a voice could be kept (reading, trimming, voicing, noise and
  same-speaker checks, WORLD analysis and phone labels of the references);
- *references again*: the same files given to each call; the cloner finds their voice in its
  cache;
- *prepared voice*: ``voice = cloner.prepare_voice(files)`` once, then ``clone(voice, ...)``.

Prints the wall-clock and CPU seconds per call of each (medians over ``--rounds`` repeats of
the whole comparison; the first call of the second and third way includes the one analysis
and is shown apart), what finding the voice in the cache costs by itself
(``prepare_voice(files)`` of cached files, ``--hits`` calls a round; also of one long 48 kHz
file, the speaker's clips joined to ``--long-s`` seconds: an upload at the app's length
limit), and checks that every way gives the same samples. Used in docs/cloning.md ("Several
texts in one voice").

    .venv/bin/python benchmarks/bench_clone_reuse.py [--speaker p225] [--sentences 4]
        [--rounds 3] [--hits 20] [--long-s 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _data import ENV_HELP, data_dir, require
from bench_cloning import TEXTS

from emovc.audio import load_audio, save_audio, trim_silence
from emovc.pipelines.cloning import VoiceCloner

SR = 16000
REF_S = 3.0


def reference_files(speaker: str, folder: Path) -> list[Path]:
    """The first ``REF_S`` s of speech of the speaker's first three clips, as WAV files."""
    clips = sorted((data_dir("vctk4") / speaker).glob("*.flac"))[:3]
    return [save_audio(folder / f"{c.stem}.wav",
                       trim_silence(load_audio(c, SR), SR, method="vad")[: int(REF_S * SR)], SR)
            for c in clips]


def long_file(speaker: str, seconds: float, folder: Path) -> Path:
    """The speaker's clips joined (repeated as needed) to ``seconds``, as a 48 kHz WAV file."""
    clips = [load_audio(c, 48000) for c in sorted((data_dir("vctk4") / speaker).glob("*.flac"))]
    wav = np.concatenate(clips)
    wav = np.tile(wav, int(np.ceil(seconds * 48000 / len(wav))))[: int(seconds * 48000)]
    return save_audio(folder / "long.wav", 0.9 * wav / max(1.0, np.abs(wav).max()), 48000)


def timed(call) -> tuple[float, float, np.ndarray]:
    """``(wall seconds, CPU seconds of this process, audio)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    wav = out[0] if isinstance(out, tuple) else out  # clone's (wav, sr), or a Voice
    return time.perf_counter() - wall, time.process_time() - cpu, wav


def one_round(cloner: VoiceCloner, files: list[Path], texts: list[str],
              times: dict[str, list[tuple[float, float]]], hits: int
              ) -> dict[str, list[np.ndarray]]:
    """Clone ``texts`` the three ways once and time ``hits`` cache hits, adding each call's
    (wall, CPU) seconds to ``times``; returns the audio of each way."""
    outs: dict[str, list[np.ndarray]] = {"every": [], "again": [], "voice": []}

    def add(way: str, timing: str, result: tuple[float, float, np.ndarray]) -> None:
        times.setdefault(timing, []).append(result[:2])
        outs[way].append(result[2])

    for text in texts:
        cloner._voices.clear()  # noqa: SLF001 — the behaviour before voices were kept
        add("every", "every", timed(lambda t=text: cloner.clone(files, t)))
    cloner._voices.clear()  # noqa: SLF001
    for i, text in enumerate(texts):
        add("again", "again" if i else "again first",
            timed(lambda t=text: cloner.clone(files, t)))
    for _ in range(hits):  # the voice is cached: what finding it costs
        times.setdefault("hit", []).append(timed(lambda: cloner.prepare_voice(files))[:2])
    cloner._voices.clear()  # noqa: SLF001
    wall, cpu, voice = timed(lambda: cloner.prepare_voice(files))
    times.setdefault("prepare_voice", []).append((wall, cpu))
    for i, text in enumerate(texts):
        add("voice", "voice" if i else "voice first",
            timed(lambda t=text: cloner.clone(voice, t)))
    return outs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--speaker", default="p225", help="vctk4 speaker")
    ap.add_argument("--sentences", type=int, default=4, help="sentences, one call each")
    ap.add_argument("--rounds", type=int, default=3, help="repeats of the whole comparison")
    ap.add_argument("--hits", type=int, default=20, help="cache hits timed per round")
    ap.add_argument("--long-s", type=float, default=60.0,
                    help="seconds of the long 48 kHz reference whose cache hits are timed")
    args = ap.parse_args(argv)
    require(data_dir("vctk4") / args.speaker, pattern="*.flac")
    torch.set_num_threads(1)
    texts = TEXTS[: args.sentences]
    times: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = reference_files(args.speaker, Path(tmp))
        cloner = VoiceCloner()
        cloner.clone(files, "Warm up.")  # loads the speaker encoder, espeak-ng, PocketSphinx
        rounds = [one_round(cloner, files, texts, times, args.hits)
                  for _ in range(args.rounds)]
        speech = cloner.prepare_voice(files).seconds
        long = [long_file(args.speaker, args.long_s, Path(tmp))]
        time.sleep(2.5)  # as an upload clicked again: a file left unchanged since it was read
        cloner.prepare_voice(long)
        for _ in range(args.rounds * args.hits):
            times.setdefault("long hit", []).append(timed(lambda: cloner.prepare_voice(long))[:2])
    same = all(np.array_equal(a, b) for outs in rounds for k in ("again", "voice")
               for a, b in zip(rounds[0]["every"], outs[k], strict=True))
    med = {k: np.median(np.array(v), axis=0) for k, v in times.items()}  # (wall, CPU)

    def show(*ways: str) -> str:
        return " + ".join(f"{med[w][0]:.2f} s" for w in ways) + " wall (" + " + ".join(
            f"{med[w][1]:.2f}" for w in ways) + " CPU)"

    n = len(texts)
    print(f"{len(files)} references, {speech:.1f} s of speech; {n} sentences, "
          f"{sum(len(w) for w in rounds[0]['every']) / SR:.1f} s of output; {args.rounds} "
          "rounds, medians of the calls")
    print(f"analysed every call: {show('every')} per call")
    print(f"references again:    first call {show('again first')}, then {show('again')} per "
          "call")
    def show_ms(way: str) -> str:
        return f"{med[way][0] * 1e3:.2f} ms wall ({med[way][1] * 1e3:.2f} ms CPU)"

    print(f"a cache hit:         prepare_voice(files) of the cached files {show_ms('hit')}; "
          f"of one {args.long_s:g} s 48 kHz file {show_ms('long hit')}")
    print(f"prepared voice:      prepare_voice {show('prepare_voice')}, first clone "
          f"{show('voice first')} (WORLD analysis + phone labels), then {show('voice')} per "
          "call")
    total = {"every": n * med["every"],
             "again": med["again first"] + (n - 1) * med["again"],
             "voice": med["prepare_voice"] + med["voice first"] + (n - 1) * med["voice"]}
    print(f"{n} sentences, wall (CPU): " + ", ".join(
        f"{way} {t[0]:.2f} s ({t[1]:.2f} s)" for way, t in total.items()))
    print("same samples every way and round:", same)


if __name__ == "__main__":
    main()
