import base64
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import SENTINEL

from ..services import crypto

_logger = logging.getLogger(__name__)


class _EncryptedMixin:
    """Behaviour shared by the encrypted field types.

    An encrypted field ``x`` is computed (decrypted) from the stored field ``x_enc``
    that holds only ciphertext, and written back (encrypted) by its inverse. Searching
    on it is refused with a clear message.
    """

    def __init__(self, string=SENTINEL, **kwargs):
        kwargs.update(compute="_compute_avg_encrypted", store=False, copy=False)
        kwargs.setdefault("readonly", False)
        super().__init__(string=string, **kwargs)

    def _setup_attrs(self, model_class, name):
        res = super()._setup_attrs(model_class, name)
        self.storage = f"{name}_enc"
        self.depends = (self.storage,)
        # Decrypted per user: what one user may read never reaches another's
        # reads through the transaction's cache; each passes the read gate.
        self._depends_context = ("uid",)
        # Unique per field: Odoo groups inverse calls by this value, and each
        # encrypted field must be written back on its own.
        self.inverse = f"avg-encrypted:{name}"
        self.search = self.inverse
        return res

    def determine_inverse(self, records):
        records._avg_encrypt_field(self)

    def determine_domain(self, records, operator, value):
        raise UserError(
            _(
                "'%(field)s' is encrypted and cannot be searched, filtered or "
                "grouped. Open the dossier to read it.",
                field=self._description_string(records.env),
            )
        )


class EncryptedText(_EncryptedMixin, fields.Text):
    """Free text stored only as ciphertext."""

    def _avg_to_plain(self, raw):
        return raw.decode()

    def _avg_to_bytes(self, value):
        return value.encode() if isinstance(value, str) else bytes(value)

    def _avg_unreadable(self, env, state):
        return {
            "unavailable": env._("[Encrypted – the master key is unavailable]"),
            "no_store": env._("[Encrypted – the key store is unavailable]"),
            "destroyed": env._("[Erased]"),
            "tampered": env._("[Unreadable – integrity check failed]"),
        }.get(state, False)


class EncryptedBinary(_EncryptedMixin, fields.Binary):
    """A file stored only as ciphertext (in the filestore when the storage field
    is an attachment field)."""

    def _avg_to_plain(self, raw):
        return base64.b64encode(raw)

    def _avg_to_bytes(self, value):
        return base64.b64decode(value)

    def _avg_unreadable(self, env, state):
        return False


class AvgEncryptedMixin(models.AbstractModel):
    """Encryption at rest for models holding dossier content.

    Content is encrypted under the data key of the data subject named by
    ``_avg_subject_field`` (a Many2one to res.partner).
    """

    _name = "avg.encrypted.mixin"
    _description = "Encryption at rest of dossier content"

    _avg_subject_field = "client_id"
    # How the access log names this content (avg.access.log's kind).
    _avg_access_kind = "dossier"
    # Restriction of processing (art. 18) freezes this content until it is lifted.
    _avg_frozen_when_restricted = True

    avg_key_state = fields.Selection(
        [
            ("ok", "Readable"),
            ("missing", "No content yet"),
            ("unavailable", "Master key unavailable"),
            ("no_store", "Key store unavailable"),
            ("destroyed", "Erased"),
            ("tampered", "Integrity check failed"),
        ],
        string="Encryption",
        compute="_compute_avg_key_state",
    )
    avg_content_locked = fields.Boolean(
        string="Content locked",
        compute="_compute_avg_content_locked",
        help="The encrypted content cannot be read or changed now: the key is "
        "unavailable, destroyed or damaged. The forms show it read-only.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._avg_check_not_restricted()
        return records

    def write(self, vals):
        # Users may change nothing; the system's own bookkeeping (sudo: reminders,
        # purge flags) may go on as long as it leaves the content alone.
        content = {f.name for f in self._avg_encrypted_fields()}
        if not self.env.su or content & set(vals):
            self._avg_check_not_restricted()
        return super().write(vals)

    def _avg_check_not_restricted(self):
        """Refuse to process the content of a person whose processing is restricted."""
        if not self._avg_frozen_when_restricted or not self:
            return
        subjects = self.sudo()[self._avg_subject_field]
        restricted = subjects.filtered("avg_restricted")
        if restricted:
            raise UserError(
                _(
                    "The processing of %(name)s's data is restricted (art. 18 GDPR): "
                    "it is kept but may not be changed or used. Lift the restriction "
                    "on her data-subject request first.",
                    name=restricted[0].display_name,
                )
            )

    # Reading content writes its access-log entry, so the reads the web client
    # and JSON-RPC make of these models need a read/write transaction. Odoo runs
    # methods marked @api.readonly on a read-only cursor (a replica, and in
    # tests); the log's insert would fail there, and Odoo would log a warning and
    # run the whole request a second time. ``_readonly = False`` is what
    # ``/web/dataset/call_kw`` looks up to choose the cursor.
    def read(self, fields=None, load="_classic_read"):
        return super().read(fields=fields, load=load)

    read._readonly = False

    @api.model
    def search_read(
        self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs
    ):
        return super().search_read(
            domain=domain,
            fields=fields,
            offset=offset,
            limit=limit,
            order=order,
            **read_kwargs,
        )

    search_read._readonly = False

    def web_read(self, specification):
        return super().web_read(specification)

    web_read._readonly = False

    @api.model
    def web_search_read(
        self, domain, specification, offset=0, limit=None, order=None, count_limit=None
    ):
        return super().web_search_read(
            domain,
            specification,
            offset=offset,
            limit=limit,
            order=order,
            count_limit=count_limit,
        )

    web_search_read._readonly = False

    @api.model
    def _avg_encrypted_fields(self):
        return [f for f in self._fields.values() if isinstance(f, _EncryptedMixin)]

    def _avg_context(self, field, subject_id):
        return f"{self._name}.{field.name}.{subject_id}"

    def _avg_keys(self, create=False):
        subjects = self.sudo().mapped(self._avg_subject_field)
        return self.env["avg.data.key"]._avg_get_keys(subjects, create=create)

    @api.depends(lambda self: [self._avg_subject_field])
    def _compute_avg_key_state(self):
        keys = self._avg_keys()
        for record in self:
            subject = record.sudo()[self._avg_subject_field]
            key = keys.get(subject.id, "missing")
            record.avg_key_state = "ok" if isinstance(key, bytes) else key

    @api.depends("avg_key_state")
    def _compute_avg_content_locked(self):
        for record in self:
            record.avg_content_locked = record.avg_key_state not in ("ok", "missing")

    def _avg_gate_role(self, uid):
        """('coach', False) when ``uid`` reads this record as its coach: the
        dossier's coach for a dossier and what belongs to it, else the coach of
        one of the client's dossiers. None otherwise (the read gate then looks
        for another reason)."""
        self.ensure_one()
        coach_field = self._fields.get("coach_id")
        if coach_field is not None and coach_field.comodel_name == "res.users":
            return ("coach", False) if self.sudo().coach_id.id == uid else None
        subject = self.sudo()[self._avg_subject_field]
        if uid in self.env["avg.access.gate"]._avg_coaches_of(subject):
            return "coach", False
        return None

    def _compute_avg_encrypted(self):
        # Bulk reads and writes of the record cache: this runs for every record a
        # list, form or export shows, so per-record field access would dominate.
        enc_fields = self._avg_encrypted_fields()
        subject_field = self._fields[self._avg_subject_field]
        cache = self.env.cache
        stored = self.sudo().with_context(bin_size=False)
        # (With the coach the read gate asks about: one query for all.)
        coach = ["coach_id"] if "coach_id" in self._fields else []
        stored.fetch([subject_field.name, *coach] + [f.storage for f in enc_fields])
        fetched = set(cache.get_records(stored, subject_field)._ids)
        records = self.browse(i for i in self._ids if i in fetched)
        # The one read gate: may this user read this content now? (It looks at
        # the real user, whatever sudo() says, and logs the read.)
        self.env["avg.access.gate"]._avg_authorize(records)
        gone = self - records  # deleted meanwhile: nothing to show for them
        for field in enc_fields:
            cache.update(gone, field, [False] * len(gone))
        stored = stored.browse(records._ids)
        subject_ids = list(cache.get_values(stored, subject_field))
        keys = self.env["avg.data.key"]._avg_get_keys(
            self.env["res.partner"].browse({sid for sid in subject_ids if sid})
        )
        ciphers = {
            pid: crypto.Cipher(key)
            for pid, key in keys.items()
            if isinstance(key, bytes)
        }
        for field in enc_fields:
            tokens = cache.get_values(stored, self._fields[field.storage])
            values = [
                self._avg_decrypt_value(
                    field, record_id, subject_id, token, ciphers, keys
                )
                for record_id, subject_id, token in zip(
                    records._ids, subject_ids, tokens, strict=True
                )
            ]
            cache.update(records, field, values)

    def _avg_decrypt_value(self, field, record_id, subject_id, token, ciphers, keys):
        if not token:
            return False
        if isinstance(field, EncryptedBinary):
            token = base64.b64decode(token).decode("ascii", "replace")
        cipher = ciphers.get(subject_id)
        if cipher is None:
            state = keys.get(subject_id, "missing")
            return field._avg_unreadable(
                self.env, "unavailable" if state == "missing" else state
            )
        try:
            plain = cipher.decrypt(token, self._avg_context(field, subject_id))
        except crypto.IntegrityError:
            _logger.error(
                "%s,%s: field %s failed its integrity check",
                self._name,
                record_id,
                field.name,
            )
            return field._avg_unreadable(self.env, "tampered")
        return field._avg_to_plain(plain)

    def _avg_encrypt_field(self, field):
        """Inverse of an encrypted field: encrypt the new values into storage."""
        keys = self._avg_keys(create=True)
        stored = self.sudo()
        # (Marks the keys used: a concurrent re-keying cannot miss this content.)
        self.env["avg.data.key"]._avg_hold_keys(stored.mapped(self._avg_subject_field))
        tokens, plain = [], []
        for record, raw in zip(self, stored, strict=True):
            subject = raw[self._avg_subject_field]
            key = keys.get(subject.id)
            if not isinstance(key, bytes):
                raise UserError(self._avg_refusal(key, field))
            value = record[field.name]
            plain.append(value)
            if not value:
                tokens.append(False)
                continue
            token = crypto.encrypt(
                key, field._avg_to_bytes(value), self._avg_context(field, subject.id)
            )
            tokens.append(
                base64.b64encode(token.encode())
                if isinstance(field, EncryptedBinary)
                else token
            )
        storage = self._fields[field.storage]
        if storage.column_type:
            # Plain column: mark the ciphertext dirty in the cache; the ORM flushes
            # all records in one batched UPDATE. Only the decrypted field depends on
            # the storage field and its cache already holds the new plaintext.
            self.env.cache.update(stored, storage, tokens, dirty=True)
        else:
            # Attachment-backed storage: the ORM writes the ir.attachment.
            for raw, token in zip(stored, tokens, strict=True):
                raw[field.storage] = token
        # Decrypted values are cached per user: drop every user's copy of the
        # old text; the writer keeps the new one.
        self.env.cache.invalidate([(field, self._ids)])
        self.env.cache.update(self, field, plain)

    def _avg_refusal(self, state, field):
        label = field._description_string(self.env)
        if state == "destroyed":
            return _(
                "'%(field)s' cannot be saved: this client's data has been erased "
                "and its key destroyed.",
                field=label,
            )
        if state == "no_store":
            return self.env["avg.data.key"]._avg_key_store_refusal()
        if state == "tampered":
            return _(
                "'%(field)s' cannot be saved: this client's data key failed its "
                "integrity check. Restore the key from a backup or contact the "
                "administrator; nothing was changed.",
                field=label,
            )
        return _(
            "'%(field)s' cannot be saved because the encryption master key is "
            "unavailable or wrong. Ask the administrator to configure "
            "avg_master_key_file (see the README); nothing was changed.",
            field=label,
        )

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        names = {f.name for f in self._avg_encrypted_fields()}
        for spec in list(groupby) + list(aggregates):
            fname = spec.split(":")[0].split(".")[0]
            if fname in names:
                raise UserError(
                    _(
                        "'%(field)s' is encrypted and cannot be searched, filtered "
                        "or grouped. Open the dossier to read it.",
                        field=self._fields[fname]._description_string(self.env),
                    )
                )
        return super()._read_group(
            domain,
            groupby,
            aggregates,
            having=having,
            offset=offset,
            limit=limit,
            order=order,
        )
