"""The source-emotion decision used when --from is not given."""

import pytest

from emovc.pipelines.source_choice import SOURCE_PRIOR, choose_source, source_posterior

LEVELS = {"neutral": 0.0, "calm": -2.0, "sad": 2.0, "disgust": 4.0, "angry": 16.0}
ALL = list(LEVELS)


def test_a_confident_recogniser_decides():
    probs = {"angry": 0.9, "calm": 0.05, "neutral": 0.05}
    assert choose_source(probs, ALL, LEVELS.get) == "angry"


def test_an_unsure_recogniser_lands_on_an_unemotional_source():
    # top label angry at 40 %; neutral's 25 % times the prior outweighs it and disgust
    probs = {"angry": 0.4, "disgust": 0.35, "neutral": 0.25}
    assert choose_source(probs, ALL, LEVELS.get) == "neutral"
    assert choose_source(probs, ALL, LEVELS.get, prior={}) == "disgust"  # the level middle


def test_without_a_prior_the_level_wise_middle_wins_over_the_top_label():
    probs = {"angry": 0.4, "sad": 0.35, "calm": 0.25}
    assert choose_source(probs, ALL, LEVELS.get, prior={}) == "sad"
    # the candidates may exclude it (the target): then the nearer of the rest by expected error
    assert choose_source(probs, ["calm", "angry", "neutral"], LEVELS.get, emotions=ALL,
                         prior={}) == "neutral"


def test_no_levels_means_the_most_probable_after_the_prior():
    probs = {"angry": 0.5, "neutral": 0.1, "sad": 0.4}
    assert choose_source(probs, ALL, None, prior={}) == "angry"
    assert choose_source({"angry": 0.5, "neutral": 0.15}, ALL, None) == "neutral"  # x 4 > 0.5
    flat = {e: 0.0 for e in ALL}  # equal levels: ties go to the more probable
    assert choose_source(probs, ALL, flat.get, prior={}) == "angry"


def test_posterior_ignores_foreign_labels_and_survives_zero_mass():
    post = source_posterior({"angry": 0.5, "boredom": 0.5, "neutral": 0.0}, ["angry", "neutral"])
    assert post == {"angry": 1.0, "neutral": 0.0}
    assert source_posterior({"boredom": 1.0}, ["angry", "sad"]) == {"angry": 0.5, "sad": 0.5}
    post = source_posterior({"angry": 0.5, "neutral": 0.5}, ["angry", "neutral"])
    w = SOURCE_PRIOR["neutral"]
    assert post["neutral"] == pytest.approx(w / (w + 1))


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError, match="no candidate source emotions"):
        choose_source({"angry": 1.0}, [], LEVELS.get)
