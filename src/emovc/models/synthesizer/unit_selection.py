"""Training-free voice conversion by unit selection from the reference speaker's own frames.

The idea of kNN-VC (Baas et al., 2023) with WORLD envelope features instead of WavLM ones:
every output frame *is* a frame of the reference speaker, chosen so that its speaker-normalised
content features match the front-end frame. A Viterbi search over the ``k`` nearest reference
frames of each front-end frame (plus continuations of earlier candidates) prefers runs of
consecutive reference frames ("longer units", classic unit-selection synthesis: Hunt & Black,
1996), so joins are rare. The default rendering joins the reference's own waveform segments
(its excitation, F0 micro-structure and recording colour survive); ``render="world"``
re-synthesises the selected envelopes/aperiodicities with WORLD and the front-end's F0 contour
mapped to the reference's log-F0 statistics (measured worse: ~0.68 vs 0.77 similarity).

Speaker normalisation is per-utterance cepstral mean/variance normalisation (CMVN) of the
coded envelope without c0 — it removes the average vocal-tract/recording colour, so the
matching is on *what* is said rather than *who* says it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyworld
from scipy.ndimage import uniform_filter1d

from emovc.errors import AudioError, ConfigError
from emovc.features.f0 import LogF0Stats, logf0_stats
from emovc.features.phones import UNKNOWN, decode_labels, espeak_phone_index, segment_labels
from emovc.features.world import WorldConfig, WorldFeatures, analyze, analyze_f0, synthesize
from emovc.models.synthesizer.concatenation import concatenate_segments
from emovc.models.synthesizer.mapping import mapped_frontend


@dataclass(frozen=True)
class UnitSelectionConfig:
    """Settings of the unit-selection converter.

    Attributes:
        match_dim: coded-envelope coefficients used for matching (c1..c{match_dim}).
        context: frames stacked on each side of a frame for matching (±context × 5 ms).
        k: nearest reference frames per front-end frame.
        lookahead: continuations of the previous frames' neighbours also considered.
        jump_cost: Viterbi cost of a non-consecutive join, in units of feature distance.
        voicing_weight: weight of the voiced/unvoiced mismatch in the target cost.
        smooth_frames: moving-average length (frames) applied to log-envelopes at joins.
        f0_source: ``"frontend"`` = front-end contour mapped to reference statistics;
            ``"reference"`` = the selected reference frames' own F0 (smoothed).
        vtln: frequency-warping factors tried on the front-end envelope (vocal-tract length
            normalisation); the one with the smallest mean nearest-neighbour distance to the
            reference is used. Empty = no warping.
        render: ``"waveform"`` = concatenate the reference's own waveform segments (runs of
            consecutive selected frames) with short cross-fades — keeps the reference's
            excitation and fine structure; ``"world"`` = WORLD synthesis from the selected
            envelopes/aperiodicities with the ``f0_source`` contour.
        crossfade_ms: cross-fade length at joins for ``render="waveform"``.
        phone_weight: extra target cost when the PocketSphinx phone label of a reference frame
            differs from the front-end frame's (:mod:`emovc.features.phones`); 0 = off.
        fallback_cost: target cost of a *fallback unit*: the front-end's own frame re-synthesised
            in the reference's F0/envelope statistics (:mod:`.mapping`); where no reference
            frame matches better, the output keeps the text's phone (clearer, less like the
            reference). ``None`` = reference frames only; ``0`` = fallback everywhere.
    """

    match_dim: int = 24
    context: int = 2
    k: int = 16
    lookahead: int = 30
    jump_cost: float = 10.0
    voicing_weight: float = 1.0
    smooth_frames: int = 3
    f0_source: str = "frontend"
    vtln: tuple[float, ...] = ()
    render: str = "waveform"
    crossfade_ms: float = 10.0
    phone_weight: float = 2.0
    fallback_cost: float | None = None

    def __post_init__(self) -> None:
        if self.fallback_cost is not None and self.render != "waveform":
            raise ConfigError("fallback units need render='waveform'")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ReferenceUnits:
    """Analysed reference speech: WORLD frames plus normalised matching features.

    Attributes:
        feats: WORLD features ``f0 (N,)``, ``sp/ap (N, bins)`` of the concatenated references.
        match: ``(N, D)`` speaker-normalised matching features.
        f0_stats: log-F0 statistics of the reference's voiced frames.
        wav: ``(N · hop,)`` float32 reference audio, frame ``i`` centred on sample ``i · hop``.
        phones: ``(N,)`` phone label per frame (``None`` when ``phone_weight`` is 0).
    """

    feats: WorldFeatures
    match: np.ndarray
    f0_stats: LogF0Stats
    wav: np.ndarray
    phones: np.ndarray | None = None


def _analyse(wav: np.ndarray, wcfg: WorldConfig, with_ap: bool) -> WorldFeatures:
    """WORLD analysis; D4C aperiodicity (the slowest part) only when WORLD renders output."""
    if with_ap:
        return analyze(wav, wcfg)
    f0, t = analyze_f0(wav, wcfg)
    x = wav.astype(np.float64)
    sp = pyworld.cheaptrick(x, f0, t, wcfg.sample_rate, fft_size=wcfg.fft_size)
    return WorldFeatures(f0=f0, sp=sp, ap=np.zeros((0, sp.shape[1])))


def matching_features(feats: WorldFeatures, cfg: UnitSelectionConfig,
                      wcfg: WorldConfig) -> np.ndarray:
    """Speaker-normalised content features ``(T, (2·context+1)·match_dim + 1)``.

    CMVN over the utterance's active frames of c1..c{match_dim} of WORLD's coded envelope,
    stacked over ±``context`` frames, plus a weighted voicing flag.
    """
    mc = pyworld.code_spectral_envelope(feats.sp, wcfg.sample_rate, cfg.match_dim + 1)
    energy = mc[:, 0]
    active = energy > np.percentile(energy, 30)
    ref = mc[active] if active.sum() > 10 else mc
    norm = (mc[:, 1:] - ref[:, 1:].mean(0)) / (ref[:, 1:].std(0) + 1e-8)
    n = len(norm)
    padded = np.pad(norm, ((cfg.context, cfg.context), (0, 0)), mode="edge")
    stacked = np.concatenate([padded[i: i + n] for i in range(2 * cfg.context + 1)], axis=1)
    stacked /= np.sqrt(stacked.shape[1])
    voiced = (feats.f0 > 0).astype(np.float64)[:, None] * cfg.voicing_weight
    return np.concatenate([stacked, voiced], axis=1)


def analyse_reference(wavs: list[np.ndarray], cfg: UnitSelectionConfig,
                      wcfg: WorldConfig) -> ReferenceUnits:
    """Analyse one or more reference utterances (16 kHz float32) into selectable units."""
    parts = [_analyse(w, wcfg, with_ap=cfg.render == "world") for w in wavs]
    match = np.concatenate([matching_features(p, cfg, wcfg) for p in parts])
    feats = WorldFeatures(f0=np.concatenate([p.f0 for p in parts]),
                          sp=np.concatenate([p.sp for p in parts]),
                          ap=np.concatenate([p.ap for p in parts]))
    if not np.any(feats.f0 > 0):
        raise AudioError("reference has no voiced speech")
    hop = wcfg.hop_samples
    # frame-aligned concatenation so reference frame i starts at sample i·hop
    wav = np.concatenate([np.pad(w, (0, max(0, len(p.f0) * hop - len(w))))[: len(p.f0) * hop]
                          for w, p in zip(wavs, parts, strict=True)])
    phones = None
    if cfg.phone_weight:
        phones = np.concatenate([decode_labels(w, p.n_frames, wcfg.frame_period)
                                 for w, p in zip(wavs, parts, strict=True)])
    return ReferenceUnits(feats, match, logf0_stats(feats.f0), wav.astype(np.float32), phones)



def sq_distances(query: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(T, N)`` between query ``(T, D)`` and key ``(N, D)`` rows."""
    d = (query ** 2).sum(1)[:, None] - 2.0 * query @ keys.T + (keys ** 2).sum(1)[None]
    return np.maximum(d, 0.0)


def candidates(dist: np.ndarray, k: int, lookahead: int) -> np.ndarray:
    """Candidate reference frames per query frame: its ``k`` nearest neighbours plus the
    continuations of the neighbours of the previous ``lookahead`` frames (so a unit can keep
    running even when its next frame is not among the nearest ones).

    Args:
        dist: ``(T, N)`` query-to-reference distances.

    Returns:
        ``(T, k · (lookahead + 1))`` reference frame indices (may repeat).
    """
    n = dist.shape[1]
    k = min(k, n)
    idx = np.argpartition(dist, k - 1, axis=1)[:, :k]
    return _with_continuations(idx, lookahead, n)


def _with_continuations(idx: np.ndarray, lookahead: int, n: int) -> np.ndarray:
    """``(T, k)`` candidates plus, for ``j = 1..lookahead``, the candidates of frame ``t - j``
    moved on by ``j`` frames (capped at ``n - 1``); frames with no frame ``j`` back (``t < j``,
    every frame when ``j >= T``) keep their own. Returns ``(T, k · (lookahead + 1))``; any
    ``T >= 1`` works, also ``T <= lookahead``."""
    t_len = len(idx)
    cols = [idx]
    for j in range(1, lookahead + 1):
        shifted = idx.copy()
        if j < t_len:
            shifted[j:] = idx[: t_len - j] + j
        cols.append(np.minimum(shifted, n - 1))
    return np.concatenate(cols, axis=1)


def viterbi_units(idx: np.ndarray, dist: np.ndarray, jump_cost: float) -> np.ndarray:
    """Choose one candidate per frame minimising target costs plus join costs.

    A step to the next reference frame (``i -> i + 1``) is free, any other step costs
    ``jump_cost``; so the best predecessor is either the continuation or the overall best
    previous state, which makes each step O(k log k) instead of O(k²).

    Args:
        idx: ``(T, K)`` candidate reference frame indices.
        dist: ``(T, K)`` target costs.
        jump_cost: cost of a join between non-consecutive reference frames.

    Returns:
        ``(T,)`` selected reference frame indices.
    """
    t_len, k = idx.shape
    cost = dist[0].astype(np.float64)
    back = np.zeros((t_len, k), dtype=np.int64)
    for t in range(1, t_len):
        best = int(np.argmin(cost))
        via = np.full(k, best)
        total = np.full(k, cost[best] + jump_cost)
        order = np.lexsort((cost, idx[t - 1]))  # by frame, then cost: first = cheapest
        keys = idx[t - 1][order]
        first = np.concatenate([[True], keys[1:] != keys[:-1]])
        keys, order = keys[first], order[first]
        pos = np.clip(np.searchsorted(keys, idx[t] - 1), 0, len(keys) - 1)
        hit = keys[pos] == idx[t] - 1
        cont = np.where(hit, cost[order[pos]], np.inf)
        better = cont < total
        total = np.where(better, cont, total)
        via = np.where(better, order[pos], via)
        back[t] = via
        cost = total + dist[t]
    path = np.zeros(t_len, dtype=np.int64)
    path[-1] = int(np.argmin(cost))
    for t in range(t_len - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return idx[np.arange(t_len), path]


def target_costs(query: np.ndarray, ref: ReferenceUnits, cfg: UnitSelectionConfig,
                 labels: np.ndarray | None, rows: slice) -> np.ndarray:
    """``(rows, N)`` target costs: feature distance + ``phone_weight`` × phone mismatch."""
    d = sq_distances(query[rows], ref.match)
    if cfg.phone_weight and labels is not None and ref.phones is not None:
        q = labels[rows, None]
        d += cfg.phone_weight * ((q != ref.phones[None, :]) & (q != UNKNOWN))
    return d


def select_units(query: np.ndarray, ref: ReferenceUnits, cfg: UnitSelectionConfig,
                 labels: np.ndarray | None = None, block: int = 1000) -> np.ndarray:
    """Reference frame index ``(T,)`` for each of the ``(T, D)`` query feature frames.

    ``labels``: ``(T,)`` phone labels of the query frames (for ``phone_weight``). With
    ``cfg.fallback_cost`` the index ``N + t`` (``N`` reference frames) selects the fallback
    unit of query frame ``t``; consecutive fallback frames join for free like reference ones.
    """
    n, t_len = len(ref.match), len(query)
    blocks = [slice(a, a + block) for a in range(0, t_len, block)]  # bounds memory
    nearest = np.concatenate([candidates(target_costs(query, ref, cfg, labels, b), cfg.k, 0)
                              for b in blocks])
    idx = _with_continuations(nearest, cfg.lookahead, n)
    cost = np.concatenate([np.take_along_axis(target_costs(query, ref, cfg, labels, b),
                                              idx[b], 1) for b in blocks])
    if cfg.fallback_cost is not None:
        idx = np.concatenate([idx, n + np.arange(t_len)[:, None]], axis=1)
        cost = np.concatenate([cost, np.full((t_len, 1), float(cfg.fallback_cost))], axis=1)
    return viterbi_units(idx, cost, cfg.jump_cost)


def convert(source: np.ndarray, ref: ReferenceUnits, cfg: UnitSelectionConfig,
            wcfg: WorldConfig, phones: list[tuple[str, float, float]] | None = None,
            ) -> np.ndarray:
    """Re-voice ``source`` (16 kHz float32 front-end speech) with the reference's frames.

    ``phones``: the front-end's own phoneme segments (espeak-ng mnemonic, start s, end s), as
    :meth:`~emovc.pipelines.frontend.EspeakFrontend.synthesize_with_phones` returns them;
    without them the source is phone-decoded like the reference.
    """
    fallback = cfg.fallback_cost is not None
    src = _analyse(source, wcfg, with_ap=cfg.render == "world" or fallback)
    labels = None
    if cfg.phone_weight:
        labels = (decode_labels(source, src.n_frames, wcfg.frame_period) if phones is None else
                  segment_labels([(espeak_phone_index(n), a, b) for n, a, b in phones],
                                 src.n_frames, wcfg.frame_period))
    sel = select_units(_best_warp(src, ref, cfg, wcfg), ref, cfg, labels)
    if cfg.render == "waveform":
        units = ref.wav
        if fallback:
            hop = wcfg.hop_samples
            mapped = mapped_frontend(src, ref.feats.sp, ref.feats.f0, ref.f0_stats, wcfg)
            mapped = np.pad(mapped, (0, max(0, src.n_frames * hop - len(mapped))))
            units = np.concatenate([ref.wav, mapped[: src.n_frames * hop]])
        return concatenate_segments(units, sel, wcfg, cfg.crossfade_ms)
    log_sp = np.log(ref.feats.sp[sel] + 1e-12)
    if cfg.smooth_frames > 1:
        log_sp = uniform_filter1d(log_sp, cfg.smooth_frames, axis=0)
    sp = np.exp(log_sp)
    ap = ref.feats.ap[sel]
    f0 = _output_f0(src.f0, ref, sel, cfg, wcfg)
    return synthesize(f0, sp, ap, wcfg)


def warp_envelope(sp: np.ndarray, alpha: float) -> np.ndarray:
    """Linear frequency warping of ``(T, bins)`` envelopes: formants move by ``alpha``."""
    bins = np.arange(sp.shape[1], dtype=np.float64)
    src = np.clip(bins / alpha, 0, sp.shape[1] - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, sp.shape[1] - 1)
    frac = src - lo
    return np.ascontiguousarray(sp[:, lo] * (1 - frac) + sp[:, hi] * frac)


def _best_warp(src: WorldFeatures, ref: ReferenceUnits, cfg: UnitSelectionConfig,
               wcfg: WorldConfig) -> np.ndarray:
    """Matching features of the front-end, warped by the best of ``cfg.vtln`` factors."""
    best, best_cost = matching_features(src, cfg, wcfg), np.inf
    if not cfg.vtln:
        return best
    voiced = src.f0 > 0
    for alpha in cfg.vtln:
        feats = WorldFeatures(src.f0, warp_envelope(src.sp, alpha), src.ap)
        q = matching_features(feats, cfg, wcfg)
        cost = float(np.mean(sq_distances(q[voiced][::4], ref.match).min(1)))
        if cost < best_cost:
            best, best_cost = q, cost
    return best


def _output_f0(src_f0: np.ndarray, ref: ReferenceUnits, sel: np.ndarray,
               cfg: UnitSelectionConfig, wcfg: WorldConfig) -> np.ndarray:
    """Output F0 ``(T,)`` (0 = unvoiced) on the voicing of the selected reference frames.

    ``"frontend"``: the front end's log-F0 contour without its far-out readings (beyond 3
    interquartile ranges from the quartiles, Tukey's fences: tracking errors such as a lone
    679 Hz frame in a ~120 Hz contour, which widened the spread the contour is mapped by and
    was held over the unvoiced stretch after it, turning it into 4356 Hz), interpolated over
    the gaps, mapped to the reference's log-F0 mean and spread and kept within WORLD's
    analysis range ``f0_floor..f0_ceil``.
    """
    voiced = ref.feats.f0[sel] > 0
    if cfg.f0_source == "reference":
        lf0 = np.log(np.where(voiced, ref.feats.f0[sel], 1.0))
        lf0 = uniform_filter1d(lf0, 5)
        return np.where(voiced, np.exp(lf0), 0.0)
    sv = src_f0 > 0
    if not np.any(sv):
        return np.where(voiced, np.exp(ref.f0_stats.mean), 0.0)
    src_lf0 = np.log(src_f0[sv])
    q1, q3 = np.percentile(src_lf0, [25.0, 75.0])
    keep = (src_lf0 >= q1 - 3.0 * (q3 - q1)) & (src_lf0 <= q3 + 3.0 * (q3 - q1))
    src_lf0 = src_lf0[keep]
    mu, sd = src_lf0.mean(), max(src_lf0.std(), 1e-3)
    lf0 = np.interp(np.arange(len(src_f0)), np.flatnonzero(sv)[keep], src_lf0)
    mapped = (lf0 - mu) / sd * ref.f0_stats.std + ref.f0_stats.mean
    mapped = np.exp(np.clip(mapped, np.log(wcfg.f0_floor), np.log(wcfg.f0_ceil)))
    return np.where(voiced, mapped, 0.0)
