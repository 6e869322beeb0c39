"""Detection of Dutch citizen service numbers (BSN) in free text.

The practice does not record the BSN (UAVG art. 46; processing register §1). A BSN
is nine digits that pass the eleven-test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is
divisible by 11. It is found however it is grouped: straight (111222333), with
dots, spaces or dashes (1112.22.333, 111 222 333, 11 12 22 333, 111-22-2333, mixed),
with or without a "BSN" label in front.

What is not a BSN although it has digits: a number with more or fewer than nine
digits (phone numbers, IBAN account numbers, KvK numbers, postcodes, dates), a
number that is part of an identifier (INV/2026/00001, FACT-2026-00123, +31...), a
phone number's local part after an area code in brackets, and an amount with
decimals. The Dutch btw-id is NL + nine digits + B + two digits: since 2020 it is
a random number (it passes a modulus-97 check); the older format embedded the
owner's BSN, so an old btw-id whose digits pass the eleven-test is refused too.
"""

import re

from markupsafe import Markup

# Digits with at most one separator (space, no-break space, dot, dash) between them.
_RUN = re.compile(r"\d(?:[ \u00a0.\-]?\d)*")
_BTW_ID = re.compile(r"NL(\d{9})B(\d{2})", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_LABEL = re.compile(r"bsn[:.]?$", re.IGNORECASE)


def passes_eleven_test(digits):
    """True when a nine-digit string passes the BSN eleven-test."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def is_current_btw_id(digits, suffix):
    """True for a btw-id of the format used since 2020 (modulus 97 over the whole
    identifier, letters as in an IBAN: N=23, L=21, B=11)."""
    return int(f"2321{digits}11{suffix}") % 97 == 1


def _plain(text):
    if not text or not isinstance(text, str | Markup):
        return ""
    return _TAG.sub(" ", str(text))


def nine_digit_numbers(text):
    """Every nine-digit number in ``text`` written the way a BSN can be written
    (not part of a longer number, an identifier, a phone number or an amount), as
    (the text as written, its nine digits). Old-format btw-ids are included."""
    plain = _plain(text)
    if not plain:
        return
    masked = list(plain)
    for match in _BTW_ID.finditer(plain):
        digits, suffix = match.groups()
        if not is_current_btw_id(digits, suffix):
            yield match.group(0), digits
        masked[match.start() : match.end()] = "#" * (match.end() - match.start())
    plain = "".join(masked)
    for match in _RUN.finditer(plain):
        written = match.group(0)
        digits = re.sub(r"\D", "", written)
        if len(digits) != 9:
            continue
        start, end = match.span()
        before = plain[start - 1] if start else ""
        after = plain[end : end + 2]
        nxt = after[:1]
        if nxt and (nxt.isalnum() or nxt in "/_#") or re.match(r",\d", after):
            continue  # the head of an identifier or an amount
        if (
            before
            and before in "/+_)#"
            or (
                before.isalnum() and not _LABEL.search(plain[max(0, start - 4) : start])
            )
        ):
            continue  # the tail of an identifier, a phone number or an area code
        yield written, digits


def find_bsn(text):
    """Return the first BSN in ``text`` (plain text or HTML) as written, or None."""
    for written, digits in nine_digit_numbers(text):
        if passes_eleven_test(digits):
            return written
    return None
