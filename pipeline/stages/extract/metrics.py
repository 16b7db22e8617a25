"""Text similarity metrics shared by the extraction benchmark and the tests."""
from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from pipeline.core.textutil import WORD_RE


class PRF(NamedTuple):
    precision: float
    recall: float
    f1: float


def bow_tokens(text: str) -> list[str]:
    """Lower-cased `\\w+` tokens (Python 3 Unicode `\\w`), as the boilerplate-dev README defines them."""
    return WORD_RE.findall(text.lower())


def bow_prf(pred: str, gold: str) -> PRF:
    """Bag-of-words precision, recall and F1 of `pred` against `gold`.

    Overlap is the multiset intersection of tokens; an empty prediction (or gold) scores 0.
    """
    p_tok, g_tok = Counter(bow_tokens(pred)), Counter(bow_tokens(gold))
    n_pred, n_gold = sum(p_tok.values()), sum(g_tok.values())
    if not n_pred or not n_gold:
        return PRF(0.0, 0.0, 0.0)
    overlap = sum((p_tok & g_tok).values())
    p, r = overlap / n_pred, overlap / n_gold
    return PRF(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def bow_f1(pred: str, gold: str) -> float:
    """Bag-of-words F1 of `pred` against `gold` (see `bow_prf`)."""
    return bow_prf(pred, gold).f1
