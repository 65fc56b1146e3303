"""Voice-cloning benchmark on unseen speakers: similarity, ranking, WER, speed, encoder EER.

Speakers: 30 LibriSpeech speakers from ``../shared/data/librispeech-clips`` that were NOT used
while tuning the unit-selection settings (the tuning used the first 12 of the same seeded
permutation), plus the 4 VCTK speakers of ``vctk4``. LibriSpeech has one clip per speaker:
its first half (VAD-trimmed) is the reference, the second half the held-out real utterance.
VCTK: clips 1-2 are the reference, clips 3-10 held out.

Prints: resemblyzer-GE2E cosine of the cloned speech to held-out real speech of the target
(and of raw espeak-ng, and of the real reference half as the natural ceiling), the rank of the
target among all candidate speakers, PocketSphinx WER of cloned vs front-end audio, real-time
factors per stage, and the encoder EER on vctk4.

    .venv/bin/python benchmarks/bench_cloning.py [--n-libri 30] [--style voice,balanced,clear]
        [--tuning] [--jump-cost 10] [--decode-frontend]

(``--n-libri 30`` asks for 30 LibriSpeech speakers; those whose half-clip is under 3 s are
dropped, 27 of 30 with the shipped clips, so the run scores 27 + 4 VCTK speakers.)
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace

import numpy as np
import torch
from _data import ENV_HELP, data_root

from emovc.audio import load_audio, normalize_loudness, trim_silence
from emovc.evaluation.intelligibility import Transcriber, word_error_rate
from emovc.evaluation.speaker import equal_error_rate
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines.cloning import CloneConfig, VoiceCloner
from emovc.pipelines.speaker import SpeakerEncoder

DATA = data_root()  # librispeech-clips, vctk4
SR = 16000
TEXTS = [  # Harvard sentences (IEEE 1969), lists 1-2
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
]


def speakers(n_libri: int, tuning: bool = False,
             ) -> list[tuple[str, list[np.ndarray], list[np.ndarray]]]:
    """(name, reference clips, held-out clips) of the evaluation (or the 12 tuning) speakers."""
    root = DATA / "librispeech-clips"
    rows = list(csv.DictReader(open(root / "speakers.tsv"), delimiter="\t"))
    perm = np.random.default_rng(0).permutation(len(rows))
    out = []
    for i in (perm[:12] if tuning else perm[12: 12 + n_libri]):  # perm[:12]: tuning
        w = load_audio(root / rows[i]["file"], sr=SR)
        w = normalize_loudness(trim_silence(w, SR, method="vad"), SR)
        half = len(w) // 2
        if half < 3 * SR:
            continue
        out.append((f"libri-{rows[i]['speaker']}", [w[:half]], [w[half:]]))
    if tuning:
        return out
    vctk = DATA / "vctk4"
    for spk in sorted(p.name for p in vctk.iterdir() if p.is_dir()):
        clips = [load_audio(p, sr=SR) for p in sorted((vctk / spk).glob("*.flac"))]
        out.append((f"vctk-{spk}", clips[:2], clips[2:]))
    return out


class ClosedVocabularyASR:
    """PocketSphinx restricted to a free loop over the benchmark sentences' words.

    Open-vocabulary PocketSphinx misrecognises even the clean espeak-ng front-end (WER ≈ 0.9),
    which hides differences; a closed word loop (≈ 60 words, any order, any length) is a
    sharper intelligibility probe for synthetic speech. Not comparable to published WERs.
    """

    def __init__(self, texts: list[str]) -> None:
        from pocketsphinx import Decoder

        from emovc.evaluation.intelligibility import normalize_text

        vocab = sorted({w for t in texts for w in normalize_text(t)})
        self.decoder = Decoder(samprate=SR, loglevel="FATAL")
        grammar = f"#JSGF V1.0;\ngrammar words;\npublic <s> = ( {' | '.join(vocab)} )* ;\n"
        self.decoder.add_jsgf_string("words", grammar)
        self.decoder.activate_search("words")

    def transcribe(self, wav: np.ndarray) -> str:
        from emovc.evaluation.intelligibility import to_pcm16

        pcm = to_pcm16(wav)
        self.decoder.reinit_feat()  # no noise statistics carried over from the previous clip
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


def encoder_eer(enc: SpeakerEncoder) -> float:
    """EER of the GE2E encoder over all clip pairs of vctk4."""
    paths = sorted((DATA / "vctk4").glob("*/*.flac"))
    return equal_error_rate(enc.embed_files(paths), [p.parent.name for p in paths]).eer


class StyleResult:
    """Per-style accumulators of the benchmark loop."""

    def __init__(self) -> None:
        self.sims, self.ranks, self.hyp, self.closed = [], [], [], []
        self.wall = {"units": 0.0, "audio": 0.0}
        self.cpu = {"units": 0.0}


def run(n_libri: int, jump_cost: float | None, styles: list[str], tuning: bool,
        decode_frontend: bool = False) -> None:
    torch.set_num_threads(1)
    cfgs = {st: CloneConfig.for_style(st) for st in styles}
    if jump_cost is not None:
        cfgs = {st: replace(c, units=replace(c.units, jump_cost=jump_cost))
                for st, c in cfgs.items()}
    base = cfgs[styles[0]]
    cloner, enc, asr = VoiceCloner(base), SpeakerEncoder.from_pretrained(), Transcriber()
    closed = ClosedVocabularyASR(TEXTS)
    spk = speakers(n_libri, tuning)
    print(f"{len(spk)} {'TUNING' if tuning else 'unseen'} speakers; styles {styles}")
    for st, c in cfgs.items():
        print(f"  {st}: {c.units}")
    held = {name: [enc.embed(h, SR) for h in hs] for name, _, hs in spk}
    held_mean = {n: np.mean(e, 0) / np.linalg.norm(np.mean(e, 0)) for n, e in held.items()}
    res = {st: StyleResult() for st in styles}
    raw, real, texts, hyp_f, closed_f = [], [], [], [], []
    t = {"frontend": 0.0, "reference": 0.0}
    cpu = {"frontend": 0.0, "reference": 0.0}
    analysis = replace(base.units, phone_weight=max(c.units.phone_weight for c in cfgs.values()))
    for j, (name, refs, _) in enumerate(spk):
        text = TEXTS[j % len(TEXTS)]
        t0, c0 = time.perf_counter(), time.process_time()
        src, _, phones = cloner.frontend.synthesize_with_phones(text)
        phones = None if decode_frontend else phones
        t1, c1 = time.perf_counter(), time.process_time()
        units = us.analyse_reference(refs, analysis, cloner.world)
        t2, c2 = time.perf_counter(), time.process_time()
        t["frontend"] += t1 - t0
        t["reference"] += t2 - t1
        cpu["frontend"] += c1 - c0
        cpu["reference"] += c2 - c1
        texts.append(text)
        raw.append(np.mean([enc.embed(src, SR) @ h for h in held[name]]))
        real.append(np.mean([enc.embed(r, SR) @ h for r in refs for h in held[name]]))
        hyp_f.append(asr.transcribe(src, SR))
        closed_f.append(closed.transcribe(src))
        line = []
        for st, r in res.items():
            t3, c3 = time.perf_counter(), time.process_time()
            out = us.convert(src, units, cfgs[st].units, cloner.world, phones)
            r.wall["units"] += time.perf_counter() - t3
            r.cpu["units"] += time.process_time() - c3
            r.wall["audio"] += len(out) / SR
            e = enc.embed(out, SR)
            r.sims.append(np.mean([e @ h for h in held[name]]))
            scores = {n: e @ m for n, m in held_mean.items()}
            r.ranks.append(1 + sum(s > scores[name] for s in scores.values()))
            r.hyp.append(asr.transcribe(out, SR))
            r.closed.append(closed.transcribe(out))
            line.append(f"{st} {r.sims[-1]:.3f} rank {r.ranks[-1]}")
        print(f"  {name:>12}: espeak {raw[-1]:.3f}, real {real[-1]:.3f} | {' | '.join(line)}",
              flush=True)
    print(f"\n=== voice cloning ({'tuning' if tuning else 'unseen'} speakers: {len(spk)}) ===")
    print(f"raw espeak-ng front-end similarity     : {np.mean(raw):.3f}")
    print(f"real reference half/clips (ceiling)    : {np.mean(real):.3f}")
    print(f"front-end WER open / closed vocabulary : {word_error_rate(texts, hyp_f):.2f} / "
          f"{word_error_rate(texts, closed_f):.2f}")
    print("style     | similarity (median, min) | rank-1 | top-3 | WER open | WER closed")
    for st, r in res.items():
        ranks = np.array(r.ranks)
        print(f"{st:<9} | {np.mean(r.sims):.3f} ({np.median(r.sims):.3f}, {np.min(r.sims):.3f})"
              f"    | {np.mean(ranks == 1) * 100:5.0f} % | {np.mean(ranks <= 3) * 100:3.0f} % | "
              f"{word_error_rate(texts, r.hyp):8.2f} | {word_error_rate(texts, r.closed):.2f}")
    for st, r in res.items():
        a = r.wall["audio"]
        for label, d, u in (("wall-clock", t, r.wall), ("CPU-time", cpu, r.cpu)):
            total = (d["frontend"] + d["reference"] + u["units"]) / a
            print(f"RTF {st:<8} {label:>10} (1 thread): frontend {d['frontend'] / a:.3f}, "
                  f"reference analysis {d['reference'] / a:.3f}, unit selection+render "
                  f"{u['units'] / a:.3f}, total {total:.3f}")
    print(f"GE2E encoder EER on vctk4 (40 clips, 4 speakers): {encoder_eer(enc) * 100:.1f} %")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--n-libri", type=int, default=30, help="LibriSpeech speakers (≤ 239)")
    ap.add_argument("--jump-cost", type=float, default=None, help="unit-selection join cost")
    ap.add_argument("--style", default="voice,balanced,clear",
                    help="comma-separated cloning styles (emovc.pipelines.cloning.STYLES)")
    ap.add_argument("--decode-frontend", action="store_true",
                    help="phone labels of the front-end by PocketSphinx decoding instead of "
                         "espeak-ng's own phoneme events (the pipeline uses the events)")
    ap.add_argument("--tuning", action="store_true",
                    help="run on the 12 tuning speakers instead of the unseen ones")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"benchmark data not found at {DATA}", file=sys.stderr)
        return 1
    run(args.n_libri, args.jump_cost, args.style.split(","), args.tuning, args.decode_frontend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
