"""Detection of what identifies a person in free text, before it leaves the practice.

Used when ZKM personal moments are exported to the ZKM Computer Service (seed 004 §6):
only the moments go there, never the client's name, e-mail address or phone number,
and never a BSN. Plain Python, no Odoo.
"""

import re
import unicodedata

from .bsn import find_bsn, nine_digit_numbers

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of digits with the separators phone numbers are written with.
_NUMBER_RUN = re.compile(r"\+?\(?\d[\d ()./-]{6,}\d")
# Dutch name particles and initials are not identifying on their own.
_PARTICLES = {
    "van",
    "de",
    "der",
    "den",
    "het",
    "ten",
    "ter",
    "te",
    "op",
    "in",
    "la",
    "le",
    "du",
    "da",
    "di",
    "von",
    "vom",
    "zu",
    "el",
    "al",
    "bin",
    "mevrouw",
    "meneer",
    "dhr",
    "mw",
    "mr",
    "mrs",
    "ms",
    "dr",
    "drs",
    "ir",
    "prof",
}
MIN_NAME_PART = 3


def _fold(text):
    """Lower case without accents, so 'Cliënt' and 'client' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_parts(name):
    """The parts of a person's name that identify: the whole name, and every part
    of at least three letters that is not a particle or title."""
    folded = _fold(name).strip()
    if not folded:
        return []
    parts = [folded]
    for word in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", folded):
        if len(word) >= MIN_NAME_PART and word not in _PARTICLES and word not in parts:
            parts.append(word)
    return parts


def find_name(text, name):
    """The first part of ``name`` that occurs as a whole word in ``text``, or None."""
    folded = _fold(text)
    for part in name_parts(name):
        if re.search(rf"(?<!\w){re.escape(part)}(?!\w)", folded):
            return part
    return None


def find_email(text):
    """The first e-mail address in ``text``, or None."""
    match = _EMAIL.search(text or "")
    return match.group(0) if match else None


def _national_digits(number):
    """Digits of a phone number without country code or leading zero (NL)."""
    digits = re.sub(r"\D", "", number or "")
    if digits.startswith("0031"):
        digits = digits[4:]
    elif number.strip().startswith("+31") or (
        digits.startswith("31") and len(digits) == 11
    ):
        digits = digits[2:]
    return digits.lstrip("0")


def find_phone(text, phones):
    """The first number in ``text`` that is one of ``phones``, however written
    (+31 6 12345678, 06-12345678, 0612345678), or None."""
    wanted = {_national_digits(p) for p in phones if p}
    wanted = {w for w in wanted if len(w) >= 6}
    if not wanted:
        return None
    for match in _NUMBER_RUN.finditer(text or ""):
        if _national_digits(match.group(0)) in wanted:
            return match.group(0).strip()
    return None


def find_bsn_like(text):
    """A BSN (eleven-test) or any nine-digit number written like one, or None."""
    found = find_bsn(text)
    if found:
        return found
    # A mistyped BSN identifies too: any nine-digit number written like one.
    return next((written for written, _digits in nine_digit_numbers(text)), None)
