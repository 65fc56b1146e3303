"""SpeakerEncoder input shapes, an empty utterance list and its model names."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from emovc.errors import AudioError, ConfigError
from emovc.pipelines.speaker import SpeakerEncoder


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder.from_pretrained()  # the bundled resemblyzer weights


def test_one_channel_and_channels_last_layouts_embed_like_mono(encoder, speech) -> None:
    mono = encoder.embed(speech, 16000)
    for wav in (speech[:, None], speech[None], np.stack([speech, speech], 1)):
        np.testing.assert_allclose(encoder.embed(wav, 16000), mono, atol=1e-5)


def test_channels_first_and_bad_rate_are_refused(encoder, speech) -> None:
    with pytest.raises(AudioError, match="looks channels-first"):
        encoder.embed(np.stack([speech, speech]), 16000)
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        encoder.embed(speech, 0)


def test_sample_rate_must_be_given(encoder, speech) -> None:
    """A default of 16 kHz embedded 44.1 kHz arrays passed without ``sr`` as another voice."""
    from emovc.evaluation.speaker import SpeakerEncoder as EvalEncoder
    from emovc.evaluation.speaker import embed, speaker_similarity

    calls = [lambda: encoder.embed(speech), lambda: encoder.similarity(speech, speech),
             lambda: encoder.embed_speaker([speech]), lambda: EvalEncoder().embed(speech),
             lambda: EvalEncoder().similarity(speech, speech), lambda: embed(speech),
             lambda: speaker_similarity(speech, speech)]
    for call in calls:
        with pytest.raises(TypeError, match="sr"):
            call()


def test_embed_speaker_needs_an_utterance(encoder, speech) -> None:
    with pytest.raises(AudioError, match="no utterances given"):
        encoder.embed_speaker([], 16000)
    with pytest.raises(AudioError, match="takes a list of utterances"):
        encoder.embed_speaker(speech, 16000)


def test_default_name_is_the_bundled_encoder(encoder, speech) -> None:
    default = SpeakerEncoder.from_pretrained("default")
    np.testing.assert_array_equal(default.embed(speech, 16000), encoder.embed(speech, 16000))


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="unknown speaker encoder 'resemblyzr'; valid choices: "
                                          "default, resemblyzer"):
        SpeakerEncoder.from_pretrained("resemblyzr")
    with pytest.raises(ConfigError, match="checkpoint not found"):
        SpeakerEncoder.from_pretrained("missing/encoder.pt")


def test_clips_under_half_a_second_are_refused_as_by_every_command(encoder, speech) -> None:
    """A 0.4 s clip scored 0.34 against its own source and 0.51 against another speaker."""
    with pytest.raises(AudioError, match=r"too short: 0.40 s \(need at least 0.5 s\)"):
        encoder.embed(speech[:6400], 16000)
    assert encoder.embed(speech[:8000], 16000).shape == (256,)


def test_a_run_folder_stands_for_its_model_pt(tmp_path, encoder, speech) -> None:
    """`embed --model runs/ge2e` said "checkpoint not found" of a folder holding model.pt
    (`ser predict -m RUN_DIR` takes one); a folder without it is named as such."""
    from emovc.models.checkpoint import save_checkpoint
    from emovc.pipelines.speaker import KIND

    save_checkpoint(tmp_path / "run" / "model.pt", kind=KIND,
                    config=asdict(encoder.model.cfg), state_dict=encoder.model.state_dict())
    run = SpeakerEncoder.from_pretrained(tmp_path / "run")
    np.testing.assert_allclose(run.embed(speech, 16000), encoder.embed(speech, 16000), atol=1e-5)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"empty is a folder without a model.pt; give a "
                                          r"checkpoint file \(.pt\) or a run folder"):
        SpeakerEncoder.from_pretrained(tmp_path / "empty")


def test_encoder_states_its_sample_rate(encoder) -> None:
    """Like EmotionConverter/EmotionRecognizer.sample_rate: the rate inputs are resampled to."""
    assert encoder.sample_rate == encoder.model.cfg.sample_rate == 16000
