"""Bag-of-words F1 between an extracted text and a gold text.

Tokens are the lowercase ``\\w+`` runs of the text (``re.UNICODE``), counted as a
multiset: precision = |pred ∩ gold| / |pred|, recall = |pred ∩ gold| / |gold|, where
∩ is the multiset intersection (``Counter & Counter``), and F1 their harmonic mean.

Conventions for empty texts (no tokens at all):
- both empty → (1.0, 1.0, 1.0): nothing to find and nothing found is a perfect answer;
- only one of them empty → (0.0, 0.0, 0.0).
"""
from __future__ import annotations

import re
from collections import Counter

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter:
    """Multiset of the lowercase ``\\w+`` tokens of ``text``."""
    return Counter(_TOKEN.findall((text or "").lower()))


def word_f1(pred_text: str, gold_text: str) -> tuple[float, float, float]:
    """(precision, recall, f1) of ``pred_text`` against ``gold_text`` as bags of words."""
    pred = tokens(pred_text)
    gold = tokens(gold_text)
    n_pred = sum(pred.values())
    n_gold = sum(gold.values())
    if n_pred == 0 and n_gold == 0:
        return 1.0, 1.0, 1.0
    if n_pred == 0 or n_gold == 0:
        return 0.0, 0.0, 0.0
    overlap = sum((pred & gold).values())
    if overlap == 0:
        return 0.0, 0.0, 0.0
    p = overlap / n_pred
    r = overlap / n_gold
    return p, r, 2 * p * r / (p + r)
