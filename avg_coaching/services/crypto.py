"""The one encryption service of avg_coaching: plain Python around ``cryptography``.

Two layers:

* a **master key** (32 random bytes) that never enters the database: it comes from
  the environment (``AVG_MASTER_KEY``), Odoo's configuration (``avg_master_key``) or a
  key file named there (``avg_master_key_file``). During a rotation the previous key is
  given too (``AVG_MASTER_KEY_PREVIOUS`` / ``avg_master_key_previous`` /
  ``avg_master_key_previous_file``);
* a **data key** per data subject (32 random bytes), stored only wrapped (encrypted)
  by the master key. Destroying the wrapped data key makes everything encrypted
  under it unreadable (crypto-shredding).

Content is encrypted with AES-256-GCM (authenticated: tampering is detected) under
the data key, bound by associated data to the model, field and subject it belongs to.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_logger = logging.getLogger(__name__)

TOKEN_PREFIX = "avg1:"
KEY_BYTES = 32
NONCE_BYTES = 12


class CryptoError(Exception):
    """Base class: encryption or decryption could not be done."""


class KeyUnavailable(CryptoError):
    """The master key that wrapped a data key is not configured."""


class IntegrityError(CryptoError):
    """Ciphertext or wrapped key failed authentication (tampered, or wrong key)."""


def parse_key(text):
    """Decode a master key written as URL-safe or standard base64 (32 bytes)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "ignore")
    text = (text or "").strip()
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError("a master key must be 32 bytes written in base64")
    return raw


def new_master_key_text():
    """A new random master key, as text for a key file or the configuration."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def key_id(master_key):
    """A short public fingerprint of a master key (safe to store)."""
    return hashlib.sha256(b"avg-master-key-id:" + master_key).hexdigest()[:16]


def load_master_keys(options, environ=None):
    """Return ``(current, previous)`` master keys (bytes or None) from the sources.

    ``options`` is a mapping such as Odoo's ``tools.config``. Unreadable or malformed
    sources count as absent: the caller reports the key as unavailable.
    """
    environ = os.environ if environ is None else environ

    def _one(env_name, option, file_option):
        candidates = [environ.get(env_name), options.get(option)]
        path = options.get(file_option)
        if path:
            try:
                with open(path, encoding="ascii") as handle:
                    candidates.append(handle.read())
            except OSError as exc:
                _logger.warning("Cannot read the master key file %s: %s", path, exc)
        for candidate in candidates:
            try:
                key = parse_key(candidate)
            except ValueError:
                continue
            if key:
                return key
        return None

    current = _one("AVG_MASTER_KEY", "avg_master_key", "avg_master_key_file")
    previous = _one(
        "AVG_MASTER_KEY_PREVIOUS",
        "avg_master_key_previous",
        "avg_master_key_previous_file",
    )
    return current, previous


def derive_key(master_key, purpose):
    """A key for ``purpose`` derived from the master key (HKDF-SHA256), so that one
    secret outside the database protects short-lived tokens too."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"avg-derived:{purpose}".encode(),
    ).derive(master_key)


def keyed_hash(secret, message):
    """HMAC-SHA256 of ``message`` under ``secret`` (text, such as the database
    secret), in hex: a reference that cannot be turned back into what it was
    made from, yet is made again the same way by whoever holds the secret."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def new_data_key():
    return os.urandom(KEY_BYTES)


def wrap_key(master_key, data_key, subject):
    """Encrypt a data key under the master key; ``subject`` binds it to its owner."""
    nonce = os.urandom(NONCE_BYTES)
    blob = nonce + AESGCM(master_key).encrypt(nonce, data_key, _wrap_aad(subject))
    return base64.b64encode(blob).decode()


def unwrap_key(master_key, wrapped, subject):
    try:
        blob = base64.b64decode(wrapped)
        return AESGCM(master_key).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _wrap_aad(subject)
        )
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise IntegrityError(
            "the wrapped data key does not open with this master key"
        ) from exc


def _wrap_aad(subject):
    return f"avg-data-key:{subject}".encode()


def encrypt(data_key, plaintext, context):
    """Encrypt text or bytes; returns an ASCII token. ``context`` is bound as AAD."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext, context.encode())
    return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(data_key, token, context):
    """Decrypt a token made by :func:`encrypt`; returns bytes."""
    if not is_token(token):
        raise IntegrityError("not an avg_coaching ciphertext")
    try:
        blob = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :])
        return AESGCM(data_key).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()
        )
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise IntegrityError("the ciphertext failed its integrity check") from exc


class Cipher:
    """AES-GCM under one data key, for decrypting many tokens of one subject."""

    __slots__ = ("_aead",)

    def __init__(self, data_key):
        self._aead = AESGCM(data_key)

    def decrypt(self, token, context):
        if not is_token(token):
            raise IntegrityError("not an avg_coaching ciphertext")
        try:
            blob = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :])
            return self._aead.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise IntegrityError("the ciphertext failed its integrity check") from exc


def is_token(value):
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)
