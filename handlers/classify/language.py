"""Language of what the sender wrote now: py3langid restricted to the EU's languages (+ a few neighbours)."""

from __future__ import annotations

import functools
import re
import threading

import numpy as np

EU_LANGUAGES = ["en", "fr", "de", "es", "it", "pt", "pl", "nl", "el", "ro", "cs", "sv", "fi", "hu", "da", "sk", "sl",
                "hr", "bg", "lt", "lv", "et", "ga", "mt"]
# what cluster managers write most; a few words are only trusted for one of these
MAJOR = ("en", "fr", "de", "es", "it", "pt", "pl", "nl")

_lock = threading.Lock()
_identifier = None
# URLs, mail addresses and phone numbers say nothing about the language. Each alternative can only
# start where its token starts (the look-behinds), so a long token is scanned once, not once per
# character: `\S+@\S+` alone took quadratic time on a megabyte without spaces.
_URL, _ADDRESS, _PHONE = r"(?:https?://|www\.)\S+", r"(?<![^\s@])[^\s@]*+@\S*", r"(?<![\d+])\+?\d[\d\s().-]{5,}\d"
_PHONE_DIGITS_RE = re.compile(r"\d[\d\s().-]{5,}\d")   # in every phone match; found fast (no look-behind)
_THREE_WORD_CHARS_RE = re.compile(r"\w\W*\w\W*\w")


@functools.lru_cache(maxsize=None)
def _strip_re(url: bool, address: bool, phone: bool) -> re.Pattern:
    return re.compile("|".join(alt for alt, on in ((_URL, url), (_ADDRESS, address), (_PHONE, phone)) if on))


def _strip(text: str) -> str:
    """`text` with its URLs, addresses and phone numbers blanked. The pattern tried along the text
    has only the alternatives that can match in it (quick tests first): most text has none, and
    an alternative that matches nowhere changes nothing."""
    url, address = "http" in text or "www." in text, "@" in text
    phone = _PHONE_DIGITS_RE.search(text) is not None
    return _strip_re(url, address, phone).sub(" ", text) if url or address or phone else text


def identifier():
    """The language model, loaded once (the mail workers' fork server loads it ahead: handlers/classify/preload.py)."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
                ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                ident.set_languages(EU_LANGUAGES)
                # its scores are float32 products of a float16 table: the same table widened once
                # (exactly) spares converting the rows of every text's features again (~10 µs a mail)
                ident.nb_ptc = ident.nb_ptc.astype(np.float32)
                _identifier = ident
    return _identifier


def detect(text: str, fallback: str = "en") -> tuple[str, float]:
    """(ISO 639-1 code, probability). Short or empty text falls back to `fallback`."""
    clean = " ".join(_strip(text or "").split())[:400]
    if _THREE_WORD_CHARS_RE.search(clean) is None:   # fewer than three word characters
        return fallback, 0.3
    ident = identifier()
    if len(clean.split()) >= 5:
        lang, prob = ident.classify(clean)
        return lang, float(prob)
    # a few words: rank, keep the major languages, and fall back when nothing stands out
    ranked = [(lang, p) for lang, p in ident.rank(clean) if lang in MAJOR]
    total = sum(p for _, p in ranked) or 1.0
    lang, p = ranked[0]
    p = p / total
    en = dict(ranked).get("en", 0.0) / total
    if lang != "en" and p < 0.9 and en >= 0.5 * p:
        # "Hello", "OK thanks": English is what a few ambiguous words most likely are here
        lang, p = "en", en
    if p < 0.5:
        return fallback, round(p, 3)
    return lang, float(p)
