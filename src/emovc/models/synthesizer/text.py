"""Text front-end of the neural synthesizer: IPA phonemes → integer ids.

Phonemes come from espeak-ng (:meth:`emovc.pipelines.frontend.EspeakFrontend.phonemes`).

The symbol set is fixed (stored with checkpoints as ``symbols``) so a trained model's ids never
shift: padding ``_``, end-of-sequence ``~``, word/clause boundaries, punctuation, stress marks
and the IPA letters espeak-ng emits for English (plus common European ones). Unknown
characters are dropped with their count reported.

>>> ids = phonemes_to_ids("həlˈoʊ wˈɜːld")
>>> ids[-1] == SYMBOLS.index(EOS)
True
"""

from __future__ import annotations

PAD, EOS = "_", "~"
_PUNCT = " !'(),.:;?|-"
_STRESS = "ˈˌːˑ"
_IPA = ("aæɐɑɒbcçdðeəɘɚɛɜɝfɡhɦiɪɨjklɫlmɱnŋɲoɔøœpɹɾrʁsʃtθuʊʉʌvʋwʍxyʏzʒʔ"
        "ɬɮʎɣχβɸᵻ̩̃")
SYMBOLS: list[str] = [PAD, EOS, *_PUNCT, *_STRESS, *dict.fromkeys(_IPA)]
_INDEX = {s: i for i, s in enumerate(SYMBOLS)}


def phonemes_to_ids(phonemes: str, symbols: list[str] | None = None) -> list[int]:
    """Map an IPA string to symbol ids, appending the end-of-sequence id.

    Args:
        phonemes: IPA text as produced by :meth:`EspeakFrontend.phonemes`.
        symbols: the model's symbol table (default :data:`SYMBOLS`).

    Returns:
        List of ints in ``[1, len(symbols))``; characters outside the table are skipped.
    """
    index = _INDEX if symbols is None else {s: i for i, s in enumerate(symbols)}
    ids = [index[c] for c in phonemes if c in index and c != PAD]
    return [*ids, index[EOS]]

