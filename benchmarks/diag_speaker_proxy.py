"""Does the training-time speaker proxy follow the real speaker-similarity metric?

:class:`emovc.training.speaker_loss.SpeakerProxy` embeds WORLD features with resemblyzer's GE2E
network through a differentiable stand-in for the waveform's mel spectrogram, so that a
converter can be trained to keep the voice (``--set w_spk=W``). This script checks the
stand-in against the metric the benchmarks report: for calm takes of the validation actors
converted by each ``--models`` model (default: the shipped ``m2m-ravdess``; add a training run's
``model.pt`` to compare) into four emotions, it compares

- the real metric: resemblyzer cosine between the WORLD-synthesised conversion, finished as
  ``EmotionConverter`` finishes it (input level + the emotion's level change, peaks
  soft-limited), and the source audio (``emovc.evaluation.speaker``), and
- the proxy cosine: mean proxy embedding of the conversion's features vs the source's, over
  128-frame segments (the training segment length), as the training loss sees them,

and prints their means per model and the Pearson / Spearman correlation over all
conversions. Used in docs/conversion-experiments.md ("A speaker-consistency loss").

Usage::

    .venv/bin/python benchmarks/diag_speaker_proxy.py [--models m2m-ravdess,RUN/model.pt]
        [--targets angry,disgust,surprised,happy]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _data import ENV_HELP, require
from bench_conversion import DATA
from scipy.stats import pearsonr, spearmanr

from emovc.audio import load_audio
from emovc.audio.finishing import with_level_change
from emovc.evaluation.speaker import SpeakerEncoder as Judge
from emovc.models.checkpoint import load_checkpoint
from emovc.models.conversion.converters import StarGANFeatureConverter
from emovc.models.conversion.features import analyze_for_conversion
from emovc.models.conversion.render import render
from emovc.pipelines.speaker import SpeakerEncoder
from emovc.pretrained.registry import resolve
from emovc.training.speaker_loss import SpeakerProxy

SEGMENT = 128


def proxy_embedding(proxy: SpeakerProxy, mcep: np.ndarray, lf0: np.ndarray,
                    vuv: np.ndarray) -> np.ndarray:
    """Unit mean of the proxy embeddings of ``SEGMENT``-frame pieces of raw features."""
    x = torch.from_numpy(np.c_[mcep, lf0].T.astype(np.float32))
    v = torch.from_numpy(np.asarray(vuv, np.float32))
    starts = range(0, max(1, x.shape[1] - SEGMENT + 1), SEGMENT // 2)
    with torch.no_grad():
        e, _ = proxy.embed(torch.stack([x[:, s:s + SEGMENT] for s in starts]),
                           torch.stack([v[s:s + SEGMENT] for s in starts]))
    e = e.mean(0)
    return (e / e.norm()).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=ENV_HELP)
    ap.add_argument("--models", default="m2m-ravdess",
                    help="comma-separated bundled names or model.pt paths of WORLD-feature "
                         "many-to-many models")
    ap.add_argument("--targets", default="angry,disgust,surprised,happy")
    args = ap.parse_args()
    require(DATA, pattern="Actor_*/*.flac")
    torch.set_num_threads(2)
    models = {m: StarGANFeatureConverter(load_checkpoint(resolve(m)))
              for m in args.models.split(",")}
    world = next(iter(models.values())).world
    d = world.mcep_dim
    # identity normalisation: the proxy takes raw mcep and natural-log F0 here
    proxy = SpeakerProxy(SpeakerEncoder.from_pretrained().model, world, np.ones(d),
                         np.zeros(d), (0.0, 1.0))
    judge = Judge()
    pairs = {m: [] for m in models}
    for actor in ("17", "18", "19", "20"):
        for sentence in ("01", "02"):
            for rep in ("01", "02"):
                name = f"Actor_{actor}/03-01-02-02-{sentence}-{rep}-{actor}.flac"
                wav = load_audio(DATA / name, 16000)
                feats, analysis, gain = analyze_for_conversion(wav, world)
                src_judge = judge.embed(wav, 16000)
                src_proxy = proxy_embedding(proxy, feats.mcep, feats.lf0, feats.vuv)
                for target in args.targets.split(","):
                    for m, conv in models.items():
                        out = conv.convert(feats, "calm", target)
                        # render() works on loudness-normalised features: like the
                        # pipeline, back to the input's level, then its output stage (the
                        # emotion's level change, peaks soft-limited below full scale); the
                        # speaker embedding refuses samples beyond [-1, 1], and resemblyzer
                        # only raises quiet audio to its level, so the level is kept as shipped
                        y = with_level_change(
                            render(feats, out.mcep, out.lf0, world, analysis) / gain, wav,
                            16000, conv.normalizer.level_change_db("calm", target))
                        pe = proxy_embedding(proxy, out.mcep, out.lf0, feats.vuv)
                        pairs[m].append((float(judge.embed(y, 16000) @ src_judge),
                                         float(pe @ src_proxy)))
    for m, v in pairs.items():
        a = np.array(v)
        print(f"{m}: resemblyzer {a[:, 0].mean():.3f}, proxy {a[:, 1].mean():.3f} ({len(a)})")
    a = np.concatenate([np.array(v) for v in pairs.values()])
    print(f"all {len(a)} conversions: Pearson r = {pearsonr(a[:, 0], a[:, 1])[0]:.2f}, "
          f"Spearman rho = {spearmanr(a[:, 0], a[:, 1])[0]:.2f}")


if __name__ == "__main__":
    main()
