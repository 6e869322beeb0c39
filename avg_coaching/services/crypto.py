"""The one encryption service of avg_coaching: plain Python around ``cryptography``.

Two layers:

* a **master key** (32 random bytes) that never enters the database: it comes from
  the environment (``AVG_MASTER_KEY``), Odoo's configuration (``avg_master_key``) or a
  key file named there (``avg_master_key_file``). During a rotation the previous key is
  given too (``AVG_MASTER_KEY_PREVIOUS`` / ``avg_master_key_previous`` /
  ``avg_master_key_previous_file``);
* a **data key** per data subject (32 random bytes), stored in the database only
  wrapped (encrypted) under a key derived (HKDF) from the master key and the data
  key's own **shard**: 32 random bytes kept in the **key store**, a directory
  outside the database and outside Odoo's backups (``avg_key_store_dir``, one
  sub-directory per database). Destroying the shard makes everything encrypted
  under that data key unreadable (crypto-shredding), in the live database and in
  every backup of it made before, once no backup of the key store holds the shard
  any more. Data keys made before the key store existed are wrapped by the master
  key alone until the rotation (or the migration) gives them a shard.

Content is encrypted with AES-256-GCM (authenticated: tampering is detected) under
the data key, bound by associated data to the model, field and subject it belongs to.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import os
import time

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


class KeyStoreUnavailable(CryptoError):
    """The key store is missing, unreadable, or not this database's."""


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


def wrapping_key(master_key, shard=None):
    """The key that wraps a data key: derived (HKDF-SHA256) from the master key
    and the data key's shard; the master key itself for a key without a shard
    (made before the key store)."""
    if not shard:
        return master_key
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=shard,
        info=b"avg-data-key-wrap",
    ).derive(master_key)


def wrap_key(master_key, data_key, subject, shard=None):
    """Encrypt a data key under the master key and its shard; ``subject`` binds it
    to its owner."""
    nonce = os.urandom(NONCE_BYTES)
    aead = AESGCM(wrapping_key(master_key, shard))
    blob = nonce + aead.encrypt(nonce, data_key, _wrap_aad(subject))
    return base64.b64encode(blob).decode()


def unwrap_key(master_key, wrapped, subject, shard=None):
    try:
        blob = base64.b64decode(wrapped)
        return AESGCM(wrapping_key(master_key, shard)).decrypt(
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


def reencrypt(old_key, new_key, token, context):
    """The same plaintext under another data key (re-keying); raises
    IntegrityError when ``token`` does not open with ``old_key``."""
    return encrypt(new_key, decrypt(old_key, token, context), context)


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


# ---------------------------------------------------------------------- key store
# A shard file is named after its handle (stored in the database with the wrapped
# key) and a state:
#   .pending  written before the commit that stores its wrapped key;
#   .key      its key is committed (renamed after the commit);
#   .retired  its key is being destroyed (renamed before the commit that destroys
#             it, shredded after it).
# Any of the three opens its key: a rename that did not happen (a crash between
# the commit and the rename) never loses a live key. ``sweep`` finishes what a
# crash left: only .pending and .retired files, older than a grace period, that
# no active key of the database names, are shredded; a .key file is never swept.
SHARD_STATES = (".key", ".pending", ".retired")
STORE_MARKER = "AVG_KEY_STORE"
SWEEP_GRACE = 6 * 3600  # seconds


def new_shard_handle():
    return base64.b16encode(os.urandom(16)).decode().lower()


class KeyStore:
    """A directory of shards, one file per data key (mode 600, directory 700)."""

    def __init__(self, path):
        self.path = path

    # ----------------------------------------------------------------- the store
    def marker(self):
        """The store id written in the store, or None when the store is new.
        Raises KeyStoreUnavailable when the directory cannot be read."""
        try:
            with open(os.path.join(self.path, STORE_MARKER), encoding="ascii") as fh:
                return fh.read().strip() or None
        except FileNotFoundError:
            if not os.path.isdir(self.path):
                raise KeyStoreUnavailable(f"{self.path} does not exist") from None
            return None
        except OSError as exc:
            raise KeyStoreUnavailable(f"{self.path}: {exc}") from exc

    def initialise(self, store_id):
        """Make the directory (and its parents, mode 700) and write its id."""
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            self._write_file(STORE_MARKER, store_id.encode())
        except OSError as exc:
            raise KeyStoreUnavailable(f"{self.path}: {exc}") from exc

    # ----------------------------------------------------------------- shards
    def _file(self, handle, state):
        if not handle or not handle.isalnum():
            raise KeyStoreUnavailable(f"invalid shard handle {handle!r}")
        return os.path.join(self.path, handle + state)

    def _write_file(self, name, data):
        path = os.path.join(self.path, name)
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        self.sync()

    def sync(self):
        """Make renames and removals in the directory durable."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_pending(self, shards):
        """Write ``{handle: shard}`` as .pending files, durable (fsync) before
        returning: they must exist before the wrapped keys are committed."""
        try:
            for handle, shard in shards.items():
                fd = os.open(
                    self._file(handle, ".pending"),
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                    0o600,
                )
                try:
                    os.write(fd, shard)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            self.sync()
        except OSError as exc:
            raise KeyStoreUnavailable(f"{self.path}: {exc}") from exc

    def get(self, handle):
        """The shard of ``handle``, or None when it has been destroyed."""
        for state in SHARD_STATES:
            try:
                with open(self._file(handle, state), "rb") as fh:
                    shard = fh.read()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise KeyStoreUnavailable(f"{self.path}: {exc}") from exc
            if len(shard) == KEY_BYTES:
                return shard
        return None

    def _rename(self, handle, state):
        """Give the file of ``handle`` the name of ``state`` (whatever it was)."""
        target = self._file(handle, state)
        for other in SHARD_STATES:
            source = self._file(handle, other)
            if other != state and os.path.exists(source):
                os.replace(source, target)
                return True
        return False

    def settle(self, handles, state):
        """Rename the shards of ``handles`` to ``state`` (``.key`` after a commit,
        ``.retired`` before destroying, ``.key`` again after a rollback)."""
        changed = False
        for handle in handles:
            try:
                changed |= self._rename(handle, state)
            except OSError as exc:
                _logger.warning("Key store: cannot rename shard %s: %s", handle, exc)
        if changed:
            self.sync()

    def retire(self, handles):
        """Before the commit that destroys these keys: strict, so that a key
        store that cannot be written refuses the destruction."""
        try:
            for handle in handles:
                self._rename(handle, ".retired")
            self.sync()
        except OSError as exc:
            raise KeyStoreUnavailable(f"{self.path}: {exc}") from exc

    def shred(self, handles):
        """Overwrite, then remove, the shards of ``handles`` (any state). On a
        copy-on-write file system or an SSD the overwrite is best effort; the
        removal is what counts, with the rotation of the key store's backups."""
        for handle in handles:
            for state in SHARD_STATES:
                path = self._file(handle, state)
                try:
                    size = os.path.getsize(path)
                except OSError:
                    continue
                try:
                    fd = os.open(path, os.O_WRONLY)
                    try:
                        os.write(fd, os.urandom(max(size, KEY_BYTES)))
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                    os.remove(path)
                except OSError as exc:
                    _logger.warning("Key store: cannot shred %s: %s", path, exc)
        try:
            self.sync()
        except OSError as exc:
            _logger.warning("Key store: cannot sync %s: %s", self.path, exc)

    def sweep(self, active, grace=SWEEP_GRACE, now=None):
        """Finish what a crash or a rolled-back test left. ``active``: the handles
        of the database's active keys. Returns (promoted, shredded)."""
        now = time.time() if now is None else now
        promote, shred = [], []
        try:
            names = os.listdir(self.path)
        except OSError as exc:
            raise KeyStoreUnavailable(f"{self.path}: {exc}") from exc
        for name in names:
            handle, dot, state = name.partition(".")
            state = dot + state
            if state not in (".pending", ".retired"):
                continue
            try:
                stat = os.stat(os.path.join(self.path, name))
            except OSError:
                continue
            if now - max(stat.st_mtime, stat.st_ctime) < grace:
                continue
            if handle in active:
                promote.append(handle)
            else:
                shred.append(handle)
        self.settle(promote, ".key")
        self.shred(shred)
        return len(promote), len(shred)
