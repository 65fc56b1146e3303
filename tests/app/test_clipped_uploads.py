"""The app judges an upload as recorded, as the command line judges the file: a clipped or
band-limited upload gets `emovc convert`'s and `emovc clone`'s warnings, though the samples
the app works on were resampled to 16 kHz and freed of their DC offset (review 41 M1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.app.limits import hide_paths
from emovc.app.services import AppBackend
from emovc.app.workdir import WorkDir
from emovc.audio.clipping import MIN_CLIPPED_SHARE, clipping_note, file_clipped_share
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.pipelines.clone_refs import band_limit_note, clip_note, read_reference

TEXT = "Kids are talking by the door."
#: (rate, DC offset): a file whose samples load_upload resamples, or shifts by removing the
#: offset, or both; the flat tops then no longer sit at full scale
CLIPPED = pytest.mark.parametrize(("sr", "dc"), [(16000, 0.15), (48000, 0.0), (48000, 0.15)])


def _clipped(work: WorkDir, name: str, sr: int, dc: float) -> Path:
    """4 s of synthetic speech amplified to 4 times full scale, shifted by ``dc`` and
    hard-clipped (asymmetric clipping where ``dc`` is not 0, as from a microphone input
    with a DC offset), 16-bit at ``sr`` Hz, in the uploads."""
    wav = synthesize(EMOTION_VOICES["neutral"], duration=4.0, sr=sr, seed=3)
    path = work.subdir("uploads") / name
    sf.write(path, np.clip(4 * wav / np.abs(wav).max() + dc, -1, 1), sr, subtype="PCM_16")
    return path


def _cloning_backend(backend_with) -> AppBackend:
    from emovc.pipelines.cloning import CloneConfig, VoiceCloner

    return backend_with(cloner=lambda style: VoiceCloner(CloneConfig.for_style(style)))


@CLIPPED
def test_clone_warns_of_a_clipped_upload_as_emovc_clone_does(backend_with, work: WorkDir,
                                                            sr: int, dc: float) -> None:
    """The clone tab gave the cloner load_upload's samples, on which the clipping was
    measured: no warning for any of these files (0 % clipped), while `emovc clone` warned
    of each. Now the page shows the command line's warning, with the file's share."""
    path = _clipped(work, "take.wav", sr, dc)
    cli = clip_note(read_reference(path, 0))  # as `emovc clone --reference take.wav` reads it
    assert cli == clipping_note("reference take.wav", file_clipped_share(path))
    assert file_clipped_share(path) >= MIN_CLIPPED_SHARE
    res = _cloning_backend(backend_with).clone([str(path)], TEXT, None, consent=True)
    assert f"⚠ {cli}" in res.summary.splitlines()[1:], res.summary


@CLIPPED
def test_convert_warns_of_a_clipped_upload_as_emovc_convert_does(backend: AppBackend,
                                                                work: WorkDir, sr: int,
                                                                dc: float) -> None:
    """The convert tab gave no clipping warning at all (the converter on samples does not
    check them; `emovc convert` checks the file). Now it gives the command line's, with the
    file's share, and the work dir hidden."""
    path = _clipped(work, "take.wav", sr, dc)
    res = backend.convert(str(path), "angry", "calm", 1.0, "fake-calm-angry")
    cli = clipping_note(path, file_clipped_share(path))  # EmotionConverter.convert_file's
    assert cli and str(work.root) not in res.summary
    assert res.summary.splitlines()[1:] == [f"⚠ {hide_paths(cli, work.root)}"]
    assert res.summary.splitlines()[1].startswith("⚠ 'take.wav' is clipped: ")


def test_an_unclipped_upload_gets_no_clipping_warning(backend: AppBackend, upload) -> None:
    """A clean upload peaking below full scale: no ⚠ line in either tab."""
    ref = str(upload("clean.wav", sr=48000))
    assert "⚠" not in backend.convert(ref, "angry", "calm", 1.0, "fake-calm-angry").summary
    assert "⚠" not in backend.clone([ref], TEXT, None, consent=True).summary


def test_clone_warns_of_an_8_khz_upload_as_emovc_clone_does(backend_with, work: WorkDir,
                                                             upload) -> None:
    """Read at 16 kHz by load_upload, an 8 kHz upload reached the cloner as 16 kHz audio, so
    the cloner's band-limit warning (the clone sounds like a phone call) never showed."""
    path = upload("phone.wav", seconds=4.0, sr=8000)
    cli = band_limit_note(read_reference(path, 0))
    assert cli.startswith("reference phone.wav is 8000 Hz audio")
    res = _cloning_backend(backend_with).clone([str(path)], TEXT, None, consent=True)
    assert f"⚠ {cli}" in res.summary.splitlines()[1:], res.summary


def test_convert_warns_of_an_8_khz_upload_as_emovc_convert_does(backend_with, upload,
                                                                tiny_spectrogan) -> None:
    """Read at 16 kHz by load_upload, an 8 kHz upload was converted without a word (as
    `emovc convert` converted the file): the output keeps its band limit. Now the page ends
    with the converter's band-limit warning."""
    from emovc.pipelines.conversion import EmotionConverter

    conv = EmotionConverter(tiny_spectrogan)
    backend = backend_with(converter=lambda name: conv)
    res = backend.convert(str(upload("phone.wav", sr=8000)), "angry", "calm", 1.0,
                          "fake-calm-angry")
    notes = [line for line in res.summary.splitlines()[1:] if "no sound above" in line]
    assert notes and notes[0].startswith("⚠ 'phone.wav' has no sound above about 4 kHz"), \
        res.summary
    assert "⚠" not in backend.convert(str(upload("wide.wav")), "angry", "calm", 1.0,
                                      "fake-calm-angry").summary
