"""Detection of Dutch citizen service numbers (BSN) in free text.

The practice does not record the BSN (UAVG art. 46). A BSN is nine digits that pass
the eleven-test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11. Numbers that are
part of a longer run of digits (phone numbers with a country code, IBAN account
numbers, amounts) are not BSNs; common spellings with dots or spaces between the
groups (1234.56.782, 1234 56 782) are.
"""

import re

from markupsafe import Markup

_BSN_PATTERN = re.compile(
    r"(?<![\d.,\-/])"  # not the tail of a longer number, amount or date
    r"(\d{4})[. ]?(\d{2})[. ]?(\d{3})"
    r"(?![\d,\-/]|\.\d)"  # not the head of one either
)
_TAG = re.compile(r"<[^>]*>")


def passes_eleven_test(digits):
    """True when a nine-digit string passes the BSN eleven-test."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def find_bsn(text):
    """Return the first BSN-like number in ``text`` (plain text or HTML), or None."""
    if not text or not isinstance(text, str | Markup):
        return None
    plain = _TAG.sub(" ", str(text))
    for match in _BSN_PATTERN.finditer(plain):
        digits = "".join(match.groups())
        if passes_eleven_test(digits):
            return match.group(0)
    return None
