"""Warnings recorded in a worker process and warned again in the caller's."""

import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from emovc.errors import EmovcWarning, call_recording_warnings, reissue_warnings


def test_a_workers_warnings_are_recorded_and_reissued_here():
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        result, records = pool.submit(call_recording_warnings, warnings.warn, "x.flac is odd",
                                      EmovcWarning).result()
    assert result is None and records == [(EmovcWarning, "x.flac is odd")]
    with pytest.warns(EmovcWarning, match="x.flac is odd"):
        reissue_warnings(records)


def test_a_category_that_cannot_travel_becomes_a_user_warning():
    class Local(UserWarning):
        pass

    _, records = call_recording_warnings(warnings.warn, "local", Local)
    assert records == [(UserWarning, "local")]
