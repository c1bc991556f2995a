"""The two linear models (intent; category of service requests): training (scikit-learn) and the
numpy-only scorer that classify() runs.

Features (chosen by measurement on the dev split and leave-one-writer-out evaluation):
  * character 3-4-grams inside word boundaries (TF-IDF, sublinear tf) of subject + what the sender
    wrote now - robust to inflection, typos and the many languages,
  * the multilingual cue lexicons of `cues.py` as dense features (scaled by `cue_weight`) - they
    carry most of the generalisation to other writers (without them intent macro-F1 drops from
    ~0.89 to ~0.58 when testing on a writer the model has not seen),
  * word uni+bigrams are supported (`ModelConfig(word=True)`) but measured no better and are off.
Classifier: multinomial logistic regression (class-balanced, C=10); its probabilities are the
confidences.

Training exports an `artifact` (plain dicts and numpy arrays, pickled and gzipped) so that
start-up needs neither scikit-learn nor joblib: `Scorer(artifact)` repeats the vectorisers'
and the regressions' arithmetic exactly (tested against scikit-learn).
"""

from __future__ import annotations

import functools
import gzip
import pickle
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .features import Prepared, dense_category, dense_intent

FORMAT_VERSION = 2
MAX_TEXT_CHARS = 2500


@dataclass
class ModelConfig:
    word: bool = False
    char: bool = True
    cues: bool = True
    cue_weight: float = 1.0
    C_intent: float = 10.0
    C_category: float = 10.0
    char_range: tuple[int, int] = (3, 4)
    max_char_features: int = 30000
    word_min_df: int = 1
    class_weight: str | None = "balanced"

    def to_dict(self) -> dict:
        return asdict(self)


def model_text(p: Prepared) -> str:
    return p.decision_text[:MAX_TEXT_CHARS].lower()


# ------------------------------------------------------------------------------ analyzers
# Training hands these very functions to scikit-learn (analyzer=callable), so the scorer below
# sees exactly the features the regressions were fitted on.
_WORD_RE = re.compile(r"(?u)\b\w\w+\b")


def word_ngrams(text: str) -> list[str]:
    """Word unigrams and bigrams (tokens of two or more word characters)."""
    tokens = _WORD_RE.findall(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_wb_ngrams(text: str, lo: int = 2, hi: int = 5) -> list[str]:
    """Character n-grams that stay inside one word (padded with a space on each side)."""
    t = " " + " ".join(text.split()) + " "
    grams: list[str] = []
    for n in range(lo, hi + 1):
        if n <= 2:
            grams += [t[i:i + n] for i in range(len(t) - n + 1) if t[i:i + n] != "  "]
        else:
            grams += [g for i in range(len(t) - n + 1) if " " not in (g := t[i:i + n])[1:-1]]
    return grams


class _CharAnalyzer:
    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi

    def __call__(self, text: str) -> list[str]:
        return char_wb_ngrams(text, self.lo, self.hi)


# ------------------------------------------------------------------------------ training
def _dense_matrix(which: str, preps, mails) -> np.ndarray:
    if which == "intent":
        return np.vstack([dense_intent(p, m) for p, m in zip(preps, mails)])
    return np.vstack([dense_category(p) for p in preps])


def train_artifact(preps: list[Prepared], mails: list, labels: list[dict], config: ModelConfig | None = None) -> dict:
    """Fit vectorisers and both regressions (scikit-learn) and export them as a plain artifact."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    config = config or ModelConfig()
    texts = [model_text(p) for p in preps]
    blocks = []
    art: dict = {"version": FORMAT_VERSION, "config": config.to_dict(), "trained_on": len(labels),
                 "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "word": None, "char": None}
    if config.word:
        vec = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, min_df=config.word_min_df)
        blocks.append(vec.fit_transform(texts))
        art["word"] = {"vocab": dict(vec.vocabulary_), "idf": vec.idf_.astype(np.float64)}
    if config.char:
        vec = TfidfVectorizer(analyzer=_CharAnalyzer(*config.char_range), sublinear_tf=True, min_df=2,
                              max_features=config.max_char_features)
        blocks.append(vec.fit_transform(texts))
        art["char"] = {"vocab": dict(vec.vocabulary_), "idf": vec.idf_.astype(np.float64), "range": tuple(config.char_range)}
    Xt = sparse.hstack(blocks, format="csr") if blocks else None

    def fit(which: str, idx: list[int], y: list[str]) -> dict:
        parts = [] if Xt is None else [Xt[idx]]
        if config.cues:
            parts.append(sparse.csr_matrix(_dense_matrix(which, [preps[i] for i in idx], [mails[i] for i in idx]) * config.cue_weight))
        X = sparse.hstack(parts, format="csr")
        C = config.C_intent if which == "intent" else config.C_category
        clf = LogisticRegression(C=C, solver="newton-cg", max_iter=300, class_weight=config.class_weight)
        clf.fit(X, y)
        coef = np.asarray(clf.coef_, dtype=np.float64)
        if coef.shape[0] == 1:   # two classes: scikit-learn keeps one row; make it a softmax pair
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            icpt = np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
        else:
            icpt = np.asarray(clf.intercept_, dtype=np.float64)
        return {"labels": [str(c) for c in clf.classes_], "W": np.ascontiguousarray(coef.T.astype(np.float32)), "b": icpt,
                "_sk": clf, "_X": X}

    all_idx = list(range(len(labels)))
    art["intent"] = fit("intent", all_idx, [lab["intent"] for lab in labels])
    sr = [i for i, lab in enumerate(labels) if lab["intent"] == "service-request" and lab.get("category")]
    art["category"] = fit("category", sr, [labels[i]["category"] for i in sr])
    return art


def strip_private(art: dict) -> dict:
    """The artifact without the scikit-learn objects kept for checks."""
    out = dict(art)
    for k in ("intent", "category"):
        out[k] = {kk: vv for kk, vv in art[k].items() if not kk.startswith("_")}
    return out


def save_artifact(art: dict, path: str | Path) -> None:
    with gzip.open(path, "wb", compresslevel=6) as fh:
        pickle.dump(strip_private(art), fh, protocol=pickle.HIGHEST_PROTOCOL)


def load_artifact(path: str | Path) -> dict:
    with gzip.open(path, "rb") as fh:
        art = pickle.load(fh)
    if not isinstance(art, dict) or art.get("version") != FORMAT_VERSION:
        raise ValueError(f"classifier artifact {path} has format {art.get('version') if isinstance(art, dict) else '?'}, "
                         f"expected {FORMAT_VERSION}")
    return art


# ------------------------------------------------------------------------------ scoring
class TextVector(NamedTuple):
    """A mail's TF-IDF text features (ids, values) and what they add to each model's scores."""
    idx: np.ndarray
    val: np.ndarray
    intent: np.ndarray      # the text's share of the intent scores (before the intercept and cues)
    category: np.ndarray


class Scorer:
    """Vectorise one mail and apply both regressions with numpy only."""

    def __init__(self, art: dict):
        cfg = art["config"]
        self.cue_weight = float(cfg["cue_weight"]) if cfg["cues"] else 0.0
        self.blocks = []
        offset = 0
        if art.get("word"):
            self.blocks.append(("word", art["word"]["vocab"], art["word"]["idf"], None, offset))
            offset += len(art["word"]["vocab"])
        if art.get("char"):
            self.blocks.append(("char", art["char"]["vocab"], art["char"]["idf"], tuple(art["char"]["range"]), offset))
            offset += len(art["char"]["vocab"])
        self.n_text = offset
        self.intent_labels = list(art["intent"]["labels"])
        self.category_labels = list(art["category"]["labels"])
        self._iW, self._ib = art["intent"]["W"], art["intent"]["b"]
        self._cW, self._cb = art["category"]["W"], art["category"]["b"]
        # both models' text weights side by side: a mail's text rows are gathered once for the two
        self._text_W = np.hstack([self._iW[:offset], self._cW[:offset]])
        self._n_intent = self._iW.shape[1]
        self._char_block = next((b for b in self.blocks if b[0] == "char"), None)
        self._word_ids = functools.lru_cache(maxsize=1 << 16)(self._char_word_ids)

    def text_vector(self, prep: Prepared) -> TextVector:
        text = model_text(prep)
        idx_all, val_all = [], []
        for kind, vocab, idf, rng, offset in self.blocks:
            if kind == "word":
                get = vocab.get
                ids = np.fromiter((i for g in word_ngrams(text) if (i := get(g, -1)) >= 0), dtype=np.intp)
            else:
                ids = self._char_ids(text)
            if not len(ids):
                continue
            # the weights do not depend on the order of the features: sorted ids and their counts
            ia, tf = np.unique(ids, return_counts=True)
            v = (1.0 + np.log(tf)) * idf[ia]
            norm = np.sqrt(v @ v)
            if norm > 0:
                v /= norm
            idx_all.append(ia + offset)
            val_all.append(v)
        if not idx_all:
            idx, val = np.zeros(0, dtype=np.intp), np.zeros(0)
            z = np.zeros(self._text_W.shape[1])
        else:
            idx, val = np.concatenate(idx_all), np.concatenate(val_all)
            z = val @ self._text_W[idx]
        return TextVector(idx, val, z[:self._n_intent], z[self._n_intent:])

    def _char_ids(self, text: str) -> np.ndarray:
        """The vocabulary ids of `char_wb_ngrams(text, *range)` (grams not in the vocabulary left
        out), grouped by word. A gram never spans two words, so each word's ids are looked up once
        and kept (`_word_ids`): a mail's words are mostly words seen before."""
        words = text.split()
        if not words:
            return np.zeros(0, dtype=np.intp)
        return np.concatenate([self._word_ids(w) for w in words])

    def _char_word_ids(self, word: str) -> np.ndarray:
        """The ids of the char block's n-grams of " word " that are in its vocabulary."""
        _, vocab, _, (lo, hi), _ = self._char_block
        padded = f" {word} "
        get = vocab.get
        return np.fromiter((i for n in range(lo, hi + 1) for j in range(len(padded) - n + 1)
                            if (i := get(padded[j:j + n], -1)) >= 0), dtype=np.intp)

    def _proba(self, W, b, text_z, dense) -> np.ndarray:
        z = b + text_z
        if dense is not None and self.cue_weight:
            z += (dense * self.cue_weight) @ W[self.n_text:self.n_text + len(dense)]
        z -= z.max()
        e = np.exp(z)
        return e / e.sum()

    def intent_proba(self, tv: TextVector, prep: Prepared, mail) -> np.ndarray:
        return self._proba(self._iW, self._ib, tv.intent, dense_intent(prep, mail) if self.cue_weight else None)

    def category_proba(self, tv: TextVector, prep: Prepared) -> np.ndarray:
        return self._proba(self._cW, self._cb, tv.category, dense_category(prep) if self.cue_weight else None)
