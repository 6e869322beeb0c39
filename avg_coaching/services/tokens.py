"""Sealed, short-lived tokens: a small payload carried encrypted in a link.

The public request form stores nothing until the person confirms through the link
mailed to her: the request itself travels in the link, sealed with a key derived
from the master key (:func:`crypto.derive_key`), authenticated (AES-GCM through
:func:`crypto.encrypt`) and with an expiry. Plain Python: the caller passes the
master key (``avg.data.key._avg_current_master()``).
"""

import hashlib
import json
import time

from . import crypto

PUBLIC_REQUEST = "avg.request.public"
MAX_TOKEN_LENGTH = 20000


def seal(master_key, payload, hours, purpose=PUBLIC_REQUEST, now=None):
    """A token carrying ``payload`` (a JSON-able dict) for ``hours``.
    Returns ``(token, payload)``, the payload with its expiry added."""
    now = time.time() if now is None else now
    payload = dict(payload, expires=int(now) + hours * 3600)
    key = crypto.derive_key(master_key, purpose)
    return crypto.encrypt(key, json.dumps(payload), purpose), payload


def unseal(master_key, token, purpose=PUBLIC_REQUEST, now=None):
    """The payload of a valid, unexpired token made by :func:`seal`, or None."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    key = crypto.derive_key(master_key, purpose)
    try:
        payload = json.loads(crypto.decrypt(key, token, purpose))
    except (crypto.CryptoError, ValueError):
        return None
    now = time.time() if now is None else now
    if not isinstance(payload, dict) or payload.get("expires", 0) < now:
        return None
    return payload


def fingerprint(token):
    """What is stored of a used token: its SHA-256, so a link works once."""
    return hashlib.sha256(token.encode()).hexdigest()
