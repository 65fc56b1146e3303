"""Cloning input and output checks: each a one-line error before any synthesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer

from emovc.audio import save_audio
from emovc.errors import AudioError, ConfigError, EmovcError, OutputExistsError
from emovc.pipelines import speaker, speaker_map
from emovc.pipelines.cloning import (
    CloneConfig,
    VoiceCloner,
    prepare_reference,
    split_sentences,
)

EXISTS = r"output exists: .* \(use --force to overwrite; force=True in Python\)"


def _cli(args: list[str]) -> None:
    from emovc.cli.clone_cmds import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps the others subcommands
    app(args=args, standalone_mode=False)


@pytest.fixture()
def no_synthesis(monkeypatch):
    """Fail the test if a clone would be synthesised."""

    def refuse(*args, **kwargs):
        raise AssertionError("synthesis started before the check")

    monkeypatch.setattr(VoiceCloner, "clone", refuse)


# --- sentences -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("Dr. Smith lives on St. James St.", ["Dr. Smith lives on St. James St."]),
    ("We meet at 5 p.m. today.", ["We meet at 5 p.m. today."]),
    ("Mr. and Mrs. Jones came, e.g. on foot. Then they left.",
     ["Mr. and Mrs. Jones came, e.g. on foot.", "Then they left."]),
    ("J. R. R. Tolkien wrote it. He died in 1973.",
     ["J. R. R. Tolkien wrote it.", "He died in 1973."]),
    ("It is No. 5 on the list. No. It is not.", ["It is No. 5 on the list.", "No.", "It is not."]),
    ("The cat sat. The sun shone.", ["The cat sat.", "The sun shone."]),
    ("One. Two? Three!  Four; five", ["One.", "Two?", "Three!", "Four;", "five"]),
])
def test_sentences_do_not_break_at_abbreviations(text: str, want: list[str]) -> None:
    assert split_sentences(text) == want


# --- consent ---------------------------------------------------------------------------------

@pytest.mark.parametrize("consent", ["no", 1, "True", None, False])
def test_consent_must_be_true_itself(tmp_path: Path, no_synthesis, consent) -> None:
    with pytest.raises(EmovcError, match="consent must be True"):
        VoiceCloner().clone_to_file("ref.wav", "Hi.", tmp_path / "o.wav", consent=consent)
    assert not (tmp_path / "o.wav").exists()


# --- output path -----------------------------------------------------------------------------

def test_output_path_is_checked_before_synthesis(tmp_path: Path, reference_wav,
                                                 no_synthesis) -> None:
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    cloner = VoiceCloner()
    with pytest.raises(AudioError, match=r"cannot write audio as '\.mp3'.*\.wav, \.flac, \.ogg"):
        cloner.clone_to_file(ref, "Hi.", tmp_path / "x.mp3", consent=True)
    with pytest.raises(AudioError, match=r"'\(no extension\)'"):
        cloner.clone_to_file(ref, "Hi.", tmp_path / "noext", consent=True)
    folder = tmp_path / "out"
    folder.mkdir()
    for force in (False, True):
        with pytest.raises(EmovcError, match="is a folder; give a file name ending in .wav"):
            cloner.clone_to_file(ref, "Hi.", folder, consent=True, force=force)
    existing = save_audio(tmp_path / "old.wav", reference_wav, 16000)
    with pytest.raises(EmovcError, match=EXISTS):
        cloner.clone_to_file(ref, "Hi.", existing, consent=True)


def test_the_output_is_never_a_reference(tmp_path: Path, reference_wav, no_synthesis) -> None:
    """Even with force; one error type (ConfigError) and wording for every command."""
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    with pytest.raises(ConfigError, match=r"^output would overwrite a reference file: .*ref\.wav$"):
        VoiceCloner().clone_to_file(ref, "Hi.", ref, consent=True, force=True)


def test_cli_clone_checks_the_output_first(tmp_path: Path, reference_wav, no_synthesis) -> None:
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    with pytest.raises(AudioError, match=r"cannot write audio as '\.mp3'"):
        _cli(["clone", "-r", str(ref), "-t", "Hi.", "-o", str(tmp_path / "x.mp3"), "--consent"])
    with pytest.raises(EmovcError, match="is a folder"):
        _cli(["clone", "-r", str(ref), "-t", "Hi.", "-o", f"{tmp_path}/", "--consent",
              "--force"])


def test_embed_map_and_embed_check_the_output_first(tmp_path: Path, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("embedding started before the check")

    monkeypatch.setattr(speaker.SpeakerEncoder, "from_pretrained", refuse)
    monkeypatch.setattr("emovc.data.catalogs.catalog_corpus", refuse)
    with pytest.raises(ConfigError, match=r"map image as '\.txt'.*valid extensions: \.png"):
        _cli(["embed-map", str(tmp_path), "-o", str(tmp_path / "map.txt")])
    with pytest.raises(ConfigError, match="unknown map method 'nope'"):
        _cli(["embed-map", str(tmp_path), "-o", str(tmp_path / "map.png"), "--method", "nope"])
    (tmp_path / "map.png").write_bytes(b"x")
    with pytest.raises(OutputExistsError, match=EXISTS):
        _cli(["embed-map", str(tmp_path), "-o", str(tmp_path / "map.png")])
    with pytest.raises(ConfigError, match=r"embeddings as '\.txt'.*valid extensions: \.npy"):
        _cli(["embed", "a.wav", "-o", str(tmp_path / "e.txt")])


# --- references ------------------------------------------------------------------------------

def test_noise_reference_has_no_voiced_speech(tmp_path: Path, no_synthesis) -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 3 * 16000).astype(np.float32)
    path = save_audio(tmp_path / "noise.wav", noise, 16000)
    with pytest.raises(AudioError, match="no voiced speech found in reference noise.wav"):
        VoiceCloner().load_references(path)
    with pytest.raises(AudioError, match="no voiced speech found in reference 1"):
        VoiceCloner().load_references((noise, 16000))


def test_a_reference_with_too_little_speech_says_how_much_it_holds() -> None:
    """A 3 s reference with 0.1 s of speech was "too short: 0.28 s", which puzzles for a
    3 s file: the length is the speech left once silence is trimmed."""
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    burst = synthesize(EMOTION_VOICES["neutral"], duration=0.1, sr=16000, seed=0)
    ref = np.random.default_rng(0).normal(0, 1e-4, 3 * 16000).astype(np.float32)
    ref[24000:24000 + len(burst)] += burst
    with pytest.raises(AudioError, match=r"^reference a.wav holds only 0\.\d\d s of speech once "
                                         r"silence is trimmed \(need at least 0\.5 s\)$"):
        prepare_reference(ref, 16000, name="reference a.wav")


def test_white_noise_of_any_seed_is_refused() -> None:
    """The earlier check (pyin, then Harvest) let 3 of these 12 noises through (seeds 0, 6, 8:
    webrtcvad keeps their bursts, pyin heard 8 % of them voiced)."""
    for seed in range(12):
        noise = (0.1 * np.random.default_rng(seed).standard_normal(4 * 16000)).astype(np.float32)
        with pytest.raises(AudioError, match="no voiced speech"):
            prepare_reference(noise, 16000)


def test_noisy_speech_reference_still_counts_as_speech(reference_wav) -> None:
    rng = np.random.default_rng(1)
    level = np.sqrt(np.mean(reference_wav ** 2)) / np.sqrt(10.0)  # 10 dB SNR
    noisy = (reference_wav + rng.normal(0, level, len(reference_wav))).astype(np.float32)
    assert len(prepare_reference(noisy, 16000)) > 2 * 16000


# --- wrong types through the Python API ------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [(1999, "int"), (b"hello there.", "bytes"),
                                            (["hello", "there"], "list")])
def test_text_must_be_a_string(reference_wav, text, kind: str, no_synthesis) -> None:
    with pytest.raises(ConfigError, match=f"text must be a string .*got {kind}"):
        VoiceCloner().clone_to_file([(reference_wav, 16000)], text, "o.wav", consent=True)


def test_text_type_is_checked_by_clone(reference_wav) -> None:
    with pytest.raises(ConfigError, match="text must be a string"):
        VoiceCloner().clone([(reference_wav, 16000)], 1999)


def test_every_speaker_of_text_refuses_none_and_blank_alike(reference_wav) -> None:
    """One check (sentences.check_text) for the unit-selection cloner, the neural one and
    the espeak-ng front-end: None is not a string (it used to read as empty text in the
    unit-selection cloner), and blank text is refused in the same words."""
    from emovc.pipelines.frontend import EspeakFrontend
    from emovc.pipelines.sentences import EMPTY_TEXT

    with pytest.raises(ConfigError, match="text must be a string .*got NoneType"):
        VoiceCloner().clone([(reference_wav, 16000)], None)
    with pytest.raises(ConfigError, match="text must be a string .*got NoneType"):
        EspeakFrontend().phonemes(None)
    with pytest.raises(ConfigError, match="text must be a string .*got int"):
        EspeakFrontend().synthesize(1999)
    with pytest.raises(EmovcError) as blank:
        EspeakFrontend().synthesize("   ")
    assert str(blank.value) == EMPTY_TEXT


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_reference_s": 0}, "max_reference_s must be a number of seconds ≥ min_reference_s"),
    ({"max_reference_s": 1.0}, "max_reference_s must be"),  # below min_reference_s = 2
    ({"min_reference_s": -1}, "min_reference_s must be a number of seconds ≥ 0"),
    ({"pause_s": -1}, "pause_s must be a number of seconds ≥ 0, got -1"),
    ({"pause_s": "0.2"}, "pause_s must be a number"),
    ({"target_dbfs": float("nan")}, "target_dbfs must be a number of dBFS"),
    ({"target_dbfs": 10}, "target_dbfs must be a number of dBFS in \\[-70, 0\\]"),
    ({"denoise": "yes"}, "denoise must be a bool, got str"),
    ({"frontend": {"rate": 200}}, "frontend must be a FrontendConfig, got dict"),
])
def test_clone_config_values_are_checked(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=f"CloneConfig.{message}"):
        CloneConfig(**kwargs)


def test_other_wrong_types_are_one_line_errors(reference_wav) -> None:
    with pytest.raises(ConfigError, match="cloner must be a name or a folder path"):
        VoiceCloner.from_pretrained(None)
    with pytest.raises(ConfigError, match="config must be a CloneConfig, got str"):
        VoiceCloner("clear")
    with pytest.raises(ConfigError, match="unknown CloneConfig field 'speed'"):
        CloneConfig.for_style("clear", speed=2)
    with pytest.raises(AudioError, match="sample rate of reference 1 must be a positive integer"):
        VoiceCloner().load_references((reference_wav, "16000"))
    with pytest.raises(AudioError, match="references must be a file path.*got dict"):
        VoiceCloner().load_references({"a": "ref.wav"})
    with pytest.raises(AudioError, match="references must be a file path.*got bytes"):
        VoiceCloner().load_references(b"ref.wav")


def test_library_copies_of_killed_processes_are_removed(tmp_path: Path) -> None:
    """A clone killed by SIGTERM never ran its exit handler and left its espeak-ng copy in
    the temp folder; the next process removes copies whose process is gone."""
    import os
    import subprocess
    import sys

    from emovc.pipelines import frontend

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    orphan = tmp_path / f"{frontend.COPY_PREFIX}{gone}-abc"
    alive = tmp_path / f"{frontend.COPY_PREFIX}{os.getpid()}-def"
    other = tmp_path / "emovc-espeak-notapid"
    for folder in (orphan, alive, other):
        folder.mkdir()
        (folder / "libespeak-ng.so").write_bytes(b"x")
    frontend._remove_orphans(str(tmp_path))
    assert not orphan.exists() and alive.exists() and other.exists()


def _off_axis(n: int) -> np.ndarray:
    """``n`` orthonormal 256-d vectors (the bundled encoder's size) orthogonal to its
    male-female axis: they differ in similarity only."""
    from emovc.pipelines.clone_speakers import gender_axis

    q, _ = np.linalg.qr(np.c_[gender_axis(), np.eye(256)[:, :n]])
    return q[:, 1:n + 1].T


def test_references_of_two_speakers_are_warned_about(reference_wav, monkeypatch):
    """Mixed references give one warning naming the odd one; one speaker's give none."""
    import warnings

    import emovc.pipelines.clone_voices as clone_voices
    from emovc.pipelines.clone_refs import speaker_mismatch

    a, b, c = _off_axis(3)
    same = np.stack([a, a * 0.9 + b * 0.1, a * 0.95 + c * 0.05])
    same /= np.linalg.norm(same, axis=1, keepdims=True)
    assert speaker_mismatch(same, ["r1", "r2", "r3"]) == ""
    assert speaker_mismatch(same[:2], ["r1", "r2"]) == ""
    odd = speaker_mismatch(np.stack([same[0], same[1], b]), ["r1", "r2", "r3"])
    assert odd.startswith("r3 (0.") and "may be another speaker" in odd
    assert "may be different speakers (similarity 0.00" in speaker_mismatch(
        np.stack([a, b]), ["r1", "r2"])

    class Encoder:  # the second reference is another voice
        def embed(self, wav, sr, name=""):
            return b if name == "reference 2" else a

    monkeypatch.setattr(clone_voices, "_speaker_encoder", lambda: Encoder())
    refs = [(reference_wav, 16000), (reference_wav[::-1].copy(), 16000)]
    with pytest.warns(UserWarning, match="reference 1 and reference 2 may be different"):
        VoiceCloner().load_references(refs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VoiceCloner().load_references(refs[:1])  # one reference: nothing to compare


def _map_corpus_tree(root: Path, speaker_clips, bad: bool = True) -> Path:
    """<speaker>/<emotion>/*.wav: 2 clips of each of 2 synthetic speakers, plus (``bad``) a
    0.2 s take and a silent one."""
    for name in ("low", "high"):
        for i, wav in enumerate(speaker_clips[name][:2]):
            save_audio(root / f"{name}/neutral/{i}.wav", wav[:16000], 16000)
    if bad:
        save_audio(root / "low/sad/short.wav", speaker_clips["low"][2][:3200], 16000)
        save_audio(root / "high/sad/silent.wav", np.zeros(16000, np.float32), 16000)
    return root


def test_embed_map_leaves_out_unusable_clips_with_one_warning(tmp_path: Path, speaker_clips,
                                                              capsys) -> None:
    """One short take stopped the whole map (rc 2, nothing plotted)."""
    from emovc.cli.main import main

    folder = _map_corpus_tree(tmp_path / "c", speaker_clips)
    rc = main(["embed-map", str(folder), "-o", str(tmp_path / "map.png"), "--method", "pca"])
    out, err = capsys.readouterr()
    assert rc == 0 and (tmp_path / "map.png").stat().st_size > 0
    assert "(pca, 4 clips)" in out
    assert err.count("\n") == 1 and err.startswith(
        f"emovc: warning: 2 clip(s) of {folder} left out of the map (their audio cannot be "
        "used), e.g. ")
    assert "short.wav is too short: 0.20 s" in err or "silent.wav is silent" in err


def test_embed_map_counts_clips_before_embedding_them(tmp_path: Path, speaker_clips,
                                                      monkeypatch) -> None:
    """Too few clips for a map, or for UMAP, was found only after embedding every clip."""
    folder = _map_corpus_tree(tmp_path / "c", speaker_clips, bad=False)

    def refuse(*args, **kwargs):
        raise AssertionError("embedding started before the check")

    monkeypatch.setattr(speaker.SpeakerEncoder, "from_pretrained", refuse)
    with pytest.raises(ConfigError, match="UMAP needs at least 15 embeddings, got 4 "):
        speaker.map_corpus(folder, tmp_path / "m.png", method="umap")
    with pytest.raises(ConfigError, match="need at least 3 embeddings for a map, got 2$"):
        speaker.map_corpus(folder, tmp_path / "m.png", max_per_speaker=1)
    monkeypatch.setattr(speaker_map, "UMAP_MIN_POINTS", 4)  # enough clips, but no umap-learn
    find_spec = speaker.importlib.util.find_spec
    monkeypatch.setattr(speaker.importlib.util, "find_spec",
                        lambda name, *a: None if name == "umap" else find_spec(name, *a))
    with pytest.raises(ConfigError, match="UMAP needs umap-learn"):
        speaker.map_corpus(folder, tmp_path / "m.png", method="umap")


def test_embed_map_with_too_few_usable_clips_names_them(tmp_path: Path, speaker_clips) -> None:
    folder = tmp_path / "c"
    save_audio(folder / "low/neutral/0.wav", speaker_clips["low"][0][:16000], 16000)
    save_audio(folder / "high/neutral/0.wav", speaker_clips["high"][0][:16000], 16000)
    save_audio(folder / "high/neutral/1.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(ConfigError, match=r"got 2; 1 clip\(s\) left out, e\.g\. .*1\.wav is "
                                          r"silent"):
        speaker.map_corpus(folder, tmp_path / "m.png", method="pca")
    assert not (tmp_path / "m.png").exists()


def test_embed_map_leaves_out_noise_and_embed_warns_of_it(tmp_path: Path, speaker_clips,
                                                           capsys) -> None:
    """A white-noise clip was embedded and plotted as a speaker, though convert and clone
    refuse noise: the map leaves it out with the other unusable clips, and `emovc embed`
    (whose rows follow its input files) embeds it with a warning."""
    from emovc.cli.main import main

    folder = _map_corpus_tree(tmp_path / "c", speaker_clips, bad=False)
    noise = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    save_audio(folder / "high/sad/noise.wav", noise, 16000)
    rc = main(["embed-map", str(folder), "-o", str(tmp_path / "map.png"), "--method", "pca"])
    out, err = capsys.readouterr()
    assert rc == 0 and "(pca, 4 clips)" in out
    assert err.startswith(f"emovc: warning: 1 clip(s) of {folder} left out of the map (their "
                          "audio cannot be used), e.g. ")
    assert "no voiced speech found in" in err and "noise.wav" in err
    clip = folder / "low/neutral/0.wav"
    rc = main(["embed", str(clip), str(folder / "high/sad/noise.wav"), "-o",
               str(tmp_path / "e.npy")])
    out, err = capsys.readouterr()
    assert rc == 0 and np.load(tmp_path / "e.npy").shape == (2, 256)
    assert err.count("\n") == 1 and "noise.wav may not be speech" in err
    assert "its embedding describes the noise, not a voice" in err


def test_map_groups_get_distinct_colours(monkeypatch, tmp_path: Path) -> None:
    """tab20 resampled to 2 colours gave two groups dark and light blue."""
    import matplotlib
    from matplotlib.axes import Axes

    tab10 = matplotlib.colormaps["tab10"].colors
    assert speaker.group_colors(2) == list(tab10[:2])
    tab20 = matplotlib.colormaps["tab20"].colors  # 11-20 groups: 10 hues before light shades
    assert speaker.group_colors(12) == [*tab20[0:20:2], tab20[1], tab20[3]]
    for n in (1, 5, 10, 11, 20, 21, 40):
        colors = speaker.group_colors(n)
        assert len(colors) == n == len(set(map(tuple, colors)))
    used = []
    scatter = Axes.scatter
    monkeypatch.setattr(Axes, "scatter",
                        lambda self, *a, **k: used.append(k["color"]) or scatter(self, *a, **k))
    emb = np.abs(np.random.default_rng(0).normal(size=(6, 8)))
    speaker.embedding_map(emb, ["gender F"] * 3 + ["gender M"] * 3, tmp_path / "m.png",
                          method="pca")
    assert used == list(tab10[:2])


# --- repeated, band-limited references; emotion and API wording (audit s37) -----------------

def test_a_repeated_reference_is_used_once_with_a_warning(tmp_path: Path, reference_wav) -> None:
    """`-r a.wav -r a.wav -r a.wav` got a 1 s reference past the 2 s minimum (and counted it
    twice in the same-speaker check); a copy under another name is the same recording."""
    from emovc.errors import EmovcWarning

    one_s = save_audio(tmp_path / "one_s.wav", reference_wav[8000:24000], 16000)
    with pytest.warns(EmovcWarning, match=r"^reference one_s.wav given 3 times: each "
                                          "recording is used once$"):
        with pytest.raises(AudioError, match=r"reference speech too short: 1\.00 s"):
            VoiceCloner().load_references([one_s, one_s, tmp_path / "." / "one_s.wav"])
    ref = save_audio(tmp_path / "a.wav", reference_wav, 16000)
    (tmp_path / "copy.wav").write_bytes(ref.read_bytes())
    with pytest.warns(EmovcWarning, match="reference copy.wav repeats reference a.wav"):
        assert len(VoiceCloner().load_references([ref, tmp_path / "copy.wav"])) == 1
    with pytest.warns(EmovcWarning, match="reference 2 repeats reference 1"):
        assert len(VoiceCloner().load_references([(reference_wav, 16000)] * 2)) == 1


def test_a_reference_below_16_khz_is_used_with_a_band_limit_warning(tmp_path: Path,
                                                                    reference_wav) -> None:
    """An 8 kHz reference made a clone with nothing above 4 kHz, without a word."""
    import warnings

    from emovc.audio.io import resample
    from emovc.errors import EmovcWarning

    narrow = resample(reference_wav, 16000, 8000)
    path = save_audio(tmp_path / "phone.wav", narrow, 8000)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        VoiceCloner().load_references([path, path])  # once for the file given twice
    notes = [str(w.message) for w in shown if "Hz audio" in str(w.message)]
    assert notes == ["reference phone.wav is 8000 Hz audio, with no sound above 4 kHz: the "
                     "clone will sound band-limited (like a phone call) and match the speaker "
                     "less well; use a recording of 16 kHz or more if you have one"]
    with pytest.warns(EmovcWarning, match="reference 1 is 8000 Hz audio"):
        VoiceCloner().load_references([(narrow, 8000)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VoiceCloner().load_references([(reference_wav, 16000)])


def test_references_are_read_as_convert_reads_its_input(tmp_path: Path, reference_wav) -> None:
    """AIFF references were refused, and a clipped one was used without the warning that
    emovc convert gives for it; a float WAV over full scale is read, without it."""
    import warnings

    import soundfile as sf

    from emovc.errors import EmovcWarning

    peak = reference_wav / np.abs(reference_wav).max()
    sf.write(tmp_path / "a.wav", 0.5 * peak, 16000, subtype="PCM_16")
    sf.write(tmp_path / "a.aiff", 0.5 * peak, 16000, format="AIFF", subtype="PCM_16")
    sf.write(tmp_path / "hot.wav", 1.4 * peak, 16000, subtype="FLOAT")
    cloner = VoiceCloner()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (want,) = cloner.load_references([tmp_path / "a.wav"])
        (aiff,) = cloner.load_references([tmp_path / "a.aiff"])
        (hot,) = cloner.load_references([tmp_path / "hot.wav"])
    np.testing.assert_array_equal(aiff, want)
    assert hot.shape == want.shape and np.corrcoef(hot, want)[0, 1] > 0.999
    clipped = np.clip(4 * peak, -1, 1)
    sf.write(tmp_path / "clipped.wav", clipped, 16000, subtype="PCM_16")
    with pytest.warns(EmovcWarning, match=r"^reference clipped\.wav is clipped: \d+\.\d % of "
                                          r"its samples sit at full scale; the distortion is "
                                          r"kept in what is made of it"):
        cloner.load_references([tmp_path / "clipped.wav"])
    with pytest.warns(EmovcWarning, match=r"^reference 1 is clipped: "):
        cloner.load_references([(np.stack([clipped, clipped], 1), 16000)])


def test_a_noisy_reference_is_used_with_a_noise_warning(tmp_path: Path, reference_wav) -> None:
    """A reference in loud noise made a clone of its noise without a word."""
    import warnings

    from emovc.audio.processing import active_rms_dbfs
    from emovc.errors import EmovcWarning

    level = 10 ** ((active_rms_dbfs(reference_wav, 16000) - 8.0) / 20)  # 8 dB SNR
    noisy = (reference_wav + level * np.random.default_rng(0).standard_normal(
        len(reference_wav))).astype(np.float32)
    path = save_audio(tmp_path / "street.wav", noisy, 16000)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        VoiceCloner().load_references([path])
    notes = [str(w.message) for w in shown if "noisy" in str(w.message)]
    assert len(notes) == 1 and notes[0].startswith("reference street.wav is noisy: its "
                                                   "estimated SNR is ")
    assert notes[0].endswith("use a quieter recording, or --denoise (Python: "
                             "CloneConfig(denoise=True))")
    with pytest.warns(EmovcWarning, match=r"reference 1 is noisy: .*it is denoised first"):
        VoiceCloner(CloneConfig(denoise=True)).load_references([(noisy, 16000)])


def test_an_empty_emotion_is_refused_and_the_tag_names_the_canonical_one(
        tmp_path: Path, reference_wav, monkeypatch) -> None:
    """`--emotion ""` was "no emotion" without a word; `--emotion Anger` was tagged "Anger"
    although the audio was converted to angry."""
    from emovc.audio.io import read_comment
    from emovc.pipelines import cloning

    with pytest.raises(ConfigError, match=r"unknown emotion ''; valid choices: neutral, "):
        VoiceCloner().clone([(reference_wav, 16000)], "Hi.", emotion="")
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    with pytest.raises(ConfigError, match="unknown emotion ''"):
        _cli(["clone", "-r", str(ref), "-t", "Hi.", "-o", str(tmp_path / "o.wav"),
              "--consent", "--emotion", ""])
    converted = []
    monkeypatch.setattr(VoiceCloner, "emotion_converter", lambda self: None)
    monkeypatch.setattr(cloning, "apply_emotion",
                        lambda wav, sr, emotion, converter: converted.append(emotion) or wav)
    out = VoiceCloner().clone_to_file(ref, "Hi there.", tmp_path / "o.wav", consent=True,
                                      emotion="Anger")
    assert converted == ["angry"] and "emotion angry," in read_comment(out)


def test_an_unvoiced_neural_clone_is_named_when_its_emotion_cannot_be_converted(
        reference_wav) -> None:
    """An undertrained voice model's noise failed the emotion conversion with "no voiced
    speech found in audio", which read as a reference problem."""

    from emovc.pipelines.frontend import EspeakFrontend

    class NoiseModel:  # a neural cloner whose output has no voiced speech
        sample_rate = 16000
        frontend = EspeakFrontend()

        def embed(self, refs):
            return np.zeros(256, np.float32)

        def synthesize_sentences(self, speaker, sentences, checked=False):
            yield 0.1 * np.random.default_rng(0).standard_normal(32000).astype(np.float32)

    cloner = VoiceCloner()
    cloner.neural = NoiseModel()
    with pytest.raises(AudioError, match=r"^no voiced speech found in the synthesized clone: "
                                         r".*, so its emotion cannot be converted; the voice "
                                         "model is likely undertrained"):
        cloner.clone([(reference_wav, 16000)], "Hi.", emotion="sad")


def test_api_messages_name_the_python_argument_too(tmp_path: Path, no_synthesis) -> None:
    """The library's messages spoke of --consent and --reference only."""
    with pytest.raises(EmovcError, match=r"confirm with --consent \(Python: consent=True\)"):
        VoiceCloner().clone_to_file("ref.wav", "Hi.", tmp_path / "o.wav", consent="yes")
    with pytest.raises(AudioError, match=r"--reference file \(Python: a path or a \(wav, sr\)"):
        VoiceCloner().load_references([])


def test_a_reference_past_max_reference_s_is_cut_with_a_warning(tmp_path: Path, reference_wav,
                                                               monkeypatch) -> None:
    """`emovc clone` used only the first 60 s of a 3-minute reference without a word."""
    import warnings

    from emovc.errors import EmovcWarning

    monkeypatch.setattr(VoiceCloner, "_mixed_note", lambda self, wavs, names: "")
    a = save_audio(tmp_path / "a.wav", reference_wav, 16000)
    b = save_audio(tmp_path / "b.wav", reference_wav[::-1].copy(), 16000)
    cloner = VoiceCloner(CloneConfig(max_reference_s=2.5))
    with pytest.warns(EmovcWarning, match=r"^only the first 2\.5 s of reference speech are used "
                                          r"\(of \d\.\d s after trimming silence; CloneConfig\."
                                          r"max_reference_s\): reference a\.wav cut to its "
                                          r"first 2\.5 s of \d\.\d s$"):
        (ref,) = cloner.load_references([a])
    assert len(ref) == 2.5 * 16000
    with pytest.warns(EmovcWarning, match=r"reference a\.wav cut to its first 2\.5 s of \d\.\d s; "
                                          r"reference b\.wav not used$"):
        assert len(cloner.load_references([a, b])) == 1
    with warnings.catch_warnings():  # within the cap: no word
        warnings.simplefilter("error")
        VoiceCloner(CloneConfig(max_reference_s=60)).load_references([a, b])
