"""Speaker similarity / EER, WER and confidence-interval known answers."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.data.synthetic import SyntheticVoice, synthesize
from emovc.errors import EmovcError
from emovc.evaluation.emotion import confusion_matrix, target_rate, top_label
from emovc.evaluation.intelligibility import (
    AsrConfig,
    Transcriber,
    edit_distance,
    normalize_text,
    to_pcm16,
    word_error_rate,
)
from emovc.evaluation.speaker import SpeakerEncoder, equal_error_rate
from emovc.evaluation.stats import binomial_ci, mean_ci


def test_same_voice_scores_higher_than_other_voices():
    enc = SpeakerEncoder()
    a = synthesize(SyntheticVoice(), 2.0, seed=0)
    same = synthesize(SyntheticVoice(), 2.0, seed=1)
    other = synthesize(SyntheticVoice(f0_mean=210.0, formant_scale=1.2, tilt=0.5), 2.0, seed=2)
    e = [enc.embed(w, 16000) for w in (a, same, other)]
    assert e[0].shape == (256,) and np.linalg.norm(e[0]) == pytest.approx(1.0, abs=1e-4)
    assert enc.similarity(a, same, 16000) > enc.similarity(a, other, 16000) + 0.05


def test_the_old_device_signature_still_makes_an_encoder():
    """SpeakerEncoder("cpu") (the old signature, device first) failed with a raw
    AttributeError ('str' object has no attribute 'eval') and device="cpu" with a TypeError;
    "cpu" is accepted with a DeprecationWarning, anything else is a one-line ConfigError."""
    from emovc.errors import ConfigError

    for call in (lambda: SpeakerEncoder("cpu"), lambda: SpeakerEncoder(device="cpu")):
        with pytest.warns(DeprecationWarning, match="SpeakerEncoder\\(\\)"):
            enc = call()
        assert enc.embed(synthesize(SyntheticVoice(), 1.0, seed=0), 16000).shape == (256,)
    with pytest.raises(ConfigError, match="runs on the CPU"):
        SpeakerEncoder("cuda")
    with pytest.raises(ConfigError, match="takes a GE2E network, got int"):
        SpeakerEncoder(3)


def test_eer_separable_and_random_embeddings():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((6, 32)) * 3
    labels = np.repeat(np.arange(6), 5)
    separable = centres[labels] + 0.2 * rng.standard_normal((30, 32))
    res = equal_error_rate(separable, labels)
    assert res.eer == 0.0 and res.n_target == 6 * 10 and res.n_nontarget == 435 - 60
    random = rng.standard_normal((120, 32))
    assert 0.35 < equal_error_rate(random, np.repeat(np.arange(12), 10)).eer < 0.65
    with pytest.raises(EmovcError):
        equal_error_rate(random[:3], [0, 1, 2])  # no same-speaker trial


def test_eer_known_overlap():
    # 1-D "embeddings" pointing at +/- angles: cosine = +1 within, -1/+1 across chosen so
    # that exactly one of the four non-target trials scores like a target one
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    res = equal_error_rate(emb, ["a", "a", "b", "b"])
    assert res.eer == 0.0
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    res = equal_error_rate(emb, ["a", "a", "b", "b"])  # 2 impostor pairs score 1.0
    assert res.n_target == 2 and res.n_nontarget == 4
    assert 0.2 < res.eer < 0.8


def test_wer_known_answers():
    ref = "Kids are talking by the door."
    assert word_error_rate(ref, "kids are talking by the door") == 0.0
    assert word_error_rate(ref, "kids are walking by the door") == pytest.approx(1 / 6)
    assert word_error_rate(ref, "kids talking by the door") == pytest.approx(1 / 6)
    assert word_error_rate(ref, "the kids are talking by the door") == pytest.approx(1 / 6)
    assert word_error_rate(ref, "") == 1.0
    assert word_error_rate([ref, "dogs are sitting"], ["kids", "dogs are sitting"]) == \
        pytest.approx(5 / 9)
    assert normalize_text("Snow-peas, Bob's!") == ["snow", "peas", "bob's"]
    assert normalize_text("The naïve café") == ["the", "naïve", "café"]  # not cut at accents
    assert edit_distance(list("abc"), list("axcd")) == 2


def test_pocketsphinx_hears_words_and_not_noise():
    """Real words (espeak-ng's voice, from the espeakng-loader wheel) are mostly recognised;
    faint noise gives no words."""
    from emovc.pipelines.frontend import EspeakFrontend

    asr = Transcriber(AsrConfig(max_hmm_per_frame=2000))
    wav, sr = EspeakFrontend().synthesize("one two three four five")
    text = asr.transcribe(wav, sr)
    assert word_error_rate("one two three four five", text) <= 0.4, text
    noise = 1e-4 * np.random.default_rng(0).standard_normal(16000)
    assert asr.transcribe(noise.astype(np.float32), 16000) == ""
    assert isinstance(asr.transcribe(synthesize(duration=0.8, seed=0), 16000), str)


def test_a_transcript_does_not_depend_on_the_previous_file():
    """A reused decoder kept PocketSphinx's noise statistics from the file before, so a clip
    decoded after another clip (or after noise) got other words than alone (here "or" instead
    of "the talking or"), and WER changed with the order of files and the worker split."""
    from emovc.pipelines.frontend import EspeakFrontend

    fe = EspeakFrontend()
    first, sr = fe.synthesize("dogs are sitting by the door")
    clip, _ = fe.synthesize("kids are talking by the door")
    noise = (0.1 * np.random.default_rng(0).standard_normal(sr)).astype(np.float32)
    alone = Transcriber().transcribe(clip, sr)
    asr = Transcriber()
    for before in (first, noise, clip):
        asr.transcribe(before, sr)
        assert asr.transcribe(clip, sr) == alone


def test_pcm16_rounds_and_clips():
    """The recogniser's 16-bit input is rounded, not truncated toward zero, and clipped;
    16-bit samples read as k / 32768 come back unchanged."""
    k = np.arange(-32768, 32768)
    assert np.array_equal(np.frombuffer(to_pcm16(k / 32768.0), "<i2"), k)
    x = np.array([0.7, -0.7, 0.4, -0.5001, 40000.0, -40000.0]) / 32768.0
    assert np.frombuffer(to_pcm16(x), "<i2").tolist() == [1, -1, 0, -1, 32767, -32768]


def test_emotion_scoring_helpers():
    labels = ["calm", "angry", "sad"]
    cm = confusion_matrix(["angry", "angry", "sad"], ["angry", "calm", "sad"], labels)
    assert cm.tolist() == [[0, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert target_rate(["angry", "angry", "sad"], ["angry", "calm", "sad"]) == pytest.approx(2 / 3)
    assert top_label({"Anger": 0.7, "sad": 0.3}) == "angry"


def test_confidence_intervals():
    mean, half, n = mean_ci([1, 2, 3, 4, 5])
    assert (mean, n) == (3.0, 5)
    assert half == pytest.approx(2.7764451 * np.sqrt(2.5) / np.sqrt(5), rel=1e-6)
    assert np.isnan(mean_ci([4.0])[1])
    p, lo, hi = binomial_ci(5, 10)
    assert p == 0.5 and lo == pytest.approx(0.187086, abs=1e-5) and hi == pytest.approx(
        0.812914, abs=1e-5)
    assert np.isnan(binomial_ci(0, 0)[0])


def test_ratio_bootstrap_interval():
    """A corpus WER's bootstrap interval: as wide as the binomial spread of 4000 words at
    p = 0.3, reproducible, degenerate when every utterance has the same rate."""
    from emovc.evaluation.stats import ratio_bootstrap_ci

    rng = np.random.default_rng(1)
    errors, words = rng.binomial(10, 0.3, size=400), np.full(400, 10)
    lo, hi = ratio_bootstrap_ci(errors, words)
    wer = errors.sum() / words.sum()
    assert lo < wer < hi
    assert hi - lo == pytest.approx(2 * 1.96 * np.sqrt(0.3 * 0.7 / 4000), rel=0.15)
    assert ratio_bootstrap_ci(errors, words) == (lo, hi)  # a fixed seed
    assert ratio_bootstrap_ci([2, 4], [4, 8]) == (0.5, 0.5)
    assert all(np.isnan(ratio_bootstrap_ci([1], [5])))


def test_emotion_rate_interval_and_unweighted_accuracy():
    """The pooled rate gets its exact binomial interval; the unweighted accuracy weighs each
    target emotion the same (3 of 3 angry and 0 of 1 sad: pooled 0.75, unweighted 0.5); WER
    gets a bootstrap interval over utterances."""
    from emovc.evaluation.aggregate import summarize

    rows = [{"target_emotion": "angry", "emotion_pred": "angry", "emotion_hit": True,
             "word_errors": k, "ref_words": 6} for k in (0, 1, 2)]
    rows.append({"target_emotion": "sad", "emotion_pred": "calm", "emotion_hit": False,
                 "word_errors": 3, "ref_words": 6})
    o = summarize(rows)
    assert (o["emotion_rate"], o["emotion_ua"]) == (0.75, 0.5)
    assert (o["emotion_rate_ci_low"], o["emotion_rate_ci_high"]) == pytest.approx(
        binomial_ci(3, 4)[1:])
    assert o["wer"] == 0.25 and 0.0 <= o["wer_ci_low"] < 0.25 < o["wer_ci_high"] <= 0.5


def test_one_speaker_encoder_with_one_input_contract():
    """The evaluation's encoder (resemblyzer's VoiceEncoder) embedded 0.1-0.5 s clips that
    ``emovc similarity`` refuses; both are now emovc's GE2E with its 0.5 s minimum."""
    from emovc.errors import AudioError
    from emovc.pipelines import speaker

    assert SpeakerEncoder is speaker.SpeakerEncoder
    wav = synthesize(SyntheticVoice(), 2.0, seed=0)
    with pytest.raises(AudioError, match=r"too short: 0.30 s \(need at least 0.5 s\)"):
        SpeakerEncoder().embed(wav[:4800], 16000)
