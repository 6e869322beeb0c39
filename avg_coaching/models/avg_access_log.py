import hashlib
import hmac
import json
import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..services import crypto, notify

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# Advisory-lock key of the sealer: one process extends the chain at a time.
SEAL_LOCK = (4243, 1)
# Set (SET LOCAL) only by the retention purge of the log: without it the database
# refuses to delete an entry, whoever asks.
PURGE_SETTING = "avg_coaching.access_log_purge"

ACTIONS = [
    ("read", "Read"),
    ("print", "Print"),
    ("export", "Export"),
    ("download", "Download"),
]
KINDS = [
    ("dossier", "Dossier"),
    ("session", "Session"),
    ("moment", "Personal moment"),
    ("document", "Document"),
    ("special", "Special-category data"),
    ("transfer", "ZKM transfer"),
    ("insurer", "Disclosure to an insurer"),
    ("password", "Document password"),
    ("id_copy", "Copy of an identity document"),
    ("export", "Everything held (access export)"),
]
PURPOSES = [
    ("coach", "The client's coach"),
    ("client", "The client herself"),
    ("request", "Carrying out her data-subject request"),
    ("verification", "Verifying the identity of a requester"),
    ("system", "The system"),
]
# The columns an entry's seal covers, in this order.
SEALED_COLUMNS = (
    "id",
    "date",
    "user_id",
    "subject_id",
    "res_model",
    "res_ids",
    "kind",
    "action",
    "purpose",
    "purpose_ref",
    "origin",
)


class AvgAccessLog(models.Model):
    """Who read, printed, exported or downloaded which client's dossier content,
    when and for what (NEN 7513:2018).

    Append-only: the ORM refuses every change and deletion, for the administrator
    too, and a database trigger refuses them to SQL as well (except the retention
    purge of entries past their term). Tamper-evident: entries are sealed in a
    chain, each seal an HMAC (under a key derived from the master key, which is not
    in the database) over the entry and the previous seal. Entries are written in
    the transaction of the read (a read whose entry cannot be written fails with
    it) and sealed within the minute by the cron worker, one sealer at a time.
    """

    _name = "avg.access.log"
    # Append-only: the ORM and a database trigger refuse every change and
    # deletion; an entry's seal is set once, and the link to the contact only
    # goes (she was erased: the entry keeps her former id). Deleted only by the
    # retention purge (PURGE_SETTING for its own transaction).
    _inherit = ["avg.append.only.mixin"]
    _avg_purge_setting = PURGE_SETTING
    # What an entry says: what its seal covers, and the number of records.
    _avg_fixed_columns = (*SEALED_COLUMNS, "record_count")
    _avg_fading_columns = ("partner_id",)
    _avg_guard_extra = (
        "OLD.seal IS NOT NULL AND (NEW.seal, NEW.chain_seq, NEW.prev_seal) "
        "IS DISTINCT FROM (OLD.seal, OLD.chain_seq, OLD.prev_seal)"
    )
    _avg_write_refusal = _lt(
        "The access log is append-only: an entry cannot be changed, not even "
        "by the administrator."
    )
    _avg_unlink_refusal = _lt(
        "The access log is append-only: entries are deleted only by the "
        "retention policy 'Access log of dossier content' when their term "
        "has passed."
    )
    _avg_copy_refusal = _lt("Access log entries cannot be duplicated.")
    _description = "Access log of dossier content"
    _order = "date desc, id desc"
    _rec_name = "date"
    _log_access = False
    # Erasure cuts the link to the contact; the entry keeps her former id and
    # goes after its own term.
    _avg_subject_field = "partner_id"
    _avg_erasure = "keep"

    date = fields.Datetime(required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    subject_id = fields.Integer(
        string="Client id", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        readonly=True,
        index=True,
        ondelete="set null",
        help="Empty once the client has been erased; the entry keeps her former id.",
    )
    res_model = fields.Char(string="Model", readonly=True)
    res_ids = fields.Char(string="Records", readonly=True)
    record_count = fields.Integer(string="Number of records", readonly=True)
    kind = fields.Selection(KINDS, string="What", required=True, readonly=True)
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    purpose = fields.Selection(
        PURPOSES, string="On behalf of / purpose", required=True, readonly=True
    )
    purpose_ref = fields.Char(string="Reference", readonly=True)
    origin = fields.Char(
        readonly=True,
        help="Where the read came from: the network address or the server.",
    )
    # Indexed by its unique constraint (a second index would only slow the
    # insert every read makes).
    chain_seq = fields.Integer(string="Chain position", readonly=True)
    prev_seal = fields.Char(string="Previous seal", readonly=True)
    seal = fields.Char(readonly=True)

    _sql_constraints = [
        ("chain_seq_uniq", "unique(chain_seq)", "Two entries cannot share a place."),
    ]

    # ------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise UserError(
            _(
                "Access log entries are written by the system when dossier content "
                "is read; they cannot be made by hand."
            )
        )

    # ------------------------------------------------------------------ append
    @api.model
    def _avg_append(self, entries):
        """Write ``entries`` (dicts: subject_id, res_model, res_ids, kind, action,
        purpose, purpose_ref) in the current transaction, once per transaction
        for the same user, records, action and purpose; seal them after commit."""
        seen = self.env.cr.precommit.data.setdefault("avg.access.log.seen", set())
        origin = self._avg_origin()
        now = fields.Datetime.now()
        rows = []
        for entry in entries:
            key = (
                self.env.uid,
                entry["res_model"],
                entry["res_ids"],
                entry["action"],
                entry["purpose"],
                entry.get("purpose_ref") or "",
            )
            if key in seen:
                continue
            seen.add(key)
            ids = entry["res_ids"]
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    now,
                    self.env.uid,
                    entry["subject_id"],
                    entry["res_model"],
                    ",".join(map(str, ids)),
                    len(ids),
                    entry["kind"],
                    entry["action"],
                    entry["purpose"],
                    entry.get("purpose_ref") or None,
                    origin,
                )
            )
        gate = self.env["avg.access.gate"]
        state = gate._avg_two_factor_state()
        verify = state.get(self.env.uid) == "to_verify"
        if not rows:
            if verify:  # (cannot happen: a deduplicated entry was verified)
                if not gate._avg_has_two_factor(self.env.user):
                    state[self.env.uid] = False
                    raise AccessError(gate._avg_two_factor_refusal())
                gate._avg_two_factor_proven()
            return
        if self.env.cr.readonly:
            # A read-only request (or replica): Odoo runs it again read/write.
            raise psycopg2.errors.ReadOnlySqlTransaction(
                "the access log is written in a read/write transaction"
            )
        # Plain SQL: the ORM's create is closed to everyone. A partner that no
        # longer exists (or not yet for this cursor) keeps only its id.
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO avg_access_log
                    (date, user_id, subject_id, partner_id, res_model, res_ids,
                     record_count, kind, action, purpose, purpose_ref, origin)
                SELECT v.date, v.user_id, v.subject_id, p.id, v.res_model,
                       v.res_ids, v.record_count, v.kind, v.action, v.purpose,
                       v.purpose_ref, v.origin
                  FROM (VALUES %s) AS v(date, user_id, subject_id, res_model,
                        res_ids, record_count, kind, action, purpose, purpose_ref,
                        origin)
                  LEFT JOIN res_partner p ON p.id = v.subject_id
                 WHERE %s
                RETURNING id
                """,
                SQL(", ").join(rows),
                # The reader's second factor, checked by the same statement.
                SQL(
                    "EXISTS (SELECT 1 FROM res_users u WHERE u.id = %s "
                    "AND u.totp_secret IS NOT NULL)",
                    self.env.uid,
                )
                if verify
                else SQL("TRUE"),
            )
        )
        if verify:
            if len(self.env.cr.fetchall()) < len(rows):
                state[self.env.uid] = False
                raise AccessError(gate._avg_two_factor_refusal())
            gate._avg_two_factor_proven()
        # Sealed within the minute by the cron worker, not in the request: a
        # seal waits for the one before it, under a lock.

    @api.model
    def _avg_origin(self):
        if request and request.httprequest:
            return request.httprequest.remote_addr or "web"
        return "server"

    # ------------------------------------------------------------------ seal
    @api.model
    def _cron_seal(self):
        """Seal what was logged since the last run (every minute)."""
        self._avg_seal_pending()

    @api.model
    def _avg_seal_key(self):
        master = self.env["avg.data.key"]._avg_current_master()
        return crypto.derive_key(master, "access-log-seal")

    @api.model
    def _avg_seal_value(self, key, prev_seal, chain_seq, row):
        payload = json.dumps(
            [prev_seal or "", chain_seq] + [row[col] for col in SEALED_COLUMNS],
            default=str,
            separators=(",", ":"),
        )
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()

    @api.model
    def _avg_seal_pending(self):
        """Seal every committed entry that has no seal yet, in a transaction of
        its own that starts after the sealer's lock is taken (so it sees every
        seal committed before). Returns how many were sealed."""
        key = self._avg_seal_key()
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT pg_advisory_lock(%s, %s)", SEAL_LOCK)
            try:
                # End the transaction that took the lock: the next one reads a
                # snapshot taken while the lock is already ours.
                cr.commit()  # pylint: disable=invalid-commit
                cr.execute(
                    "SELECT chain_seq, seal FROM avg_access_log "
                    "WHERE seal IS NOT NULL ORDER BY chain_seq DESC LIMIT 1"
                )
                head = cr.fetchone() or (0, "")
                seq, prev = head
                cr.execute(
                    SQL(
                        "SELECT %s FROM avg_access_log WHERE seal IS NULL ORDER BY id",
                        SQL(", ").join(SQL.identifier(c) for c in SEALED_COLUMNS),
                    )
                )
                rows = cr.dictfetchall()
                for row in rows:
                    seq += 1
                    seal = self._avg_seal_value(key, prev, seq, row)
                    cr.execute(
                        "UPDATE avg_access_log SET chain_seq = %s, prev_seal = %s, "
                        "seal = %s WHERE id = %s",
                        [seq, prev or None, seal, row["id"]],
                    )
                    prev = seal
                # The sealer's own cursor: its seals stand on their own.
                cr.commit()  # pylint: disable=invalid-commit
            finally:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", SEAL_LOCK)
                cr.commit()  # pylint: disable=invalid-commit
        return len(rows)

    @api.model
    def _avg_verify(self):
        """Check the chain from its first remaining entry. Returns (checked,
        first broken entry or None, reason)."""
        key = self._avg_seal_key()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT %s, chain_seq, prev_seal, seal FROM avg_access_log "
                "WHERE seal IS NOT NULL ORDER BY chain_seq",
                SQL(", ").join(SQL.identifier(c) for c in SEALED_COLUMNS),
            )
        )
        checked, prev, prev_seq = 0, None, None
        for row in self.env.cr.dictfetchall():
            if prev_seq is not None:
                if row["chain_seq"] != prev_seq + 1:
                    return checked, row["id"], "gap"
                if row["prev_seal"] != prev:
                    return checked, row["id"], "link"
            if (
                self._avg_seal_value(key, row["prev_seal"], row["chain_seq"], row)
                != row["seal"]
            ):
                return checked, row["id"], "seal"
            checked += 1
            prev, prev_seq = row["seal"], row["chain_seq"]
        return checked, None, None

    @api.model
    def action_avg_verify_chain(self):
        if not self.env.user.has_group("avg_coaching.group_avg_privacy_manager"):
            raise UserError(_("Only the privacy manager verifies the access log."))
        self._avg_seal_pending()
        checked, broken_id, reason = self._avg_verify()
        if broken_id:
            reasons = {
                "gap": _("an entry before it is missing"),
                "link": _("it does not follow the entry before it"),
                "seal": _("its content no longer matches its seal"),
            }
            message = _(
                "The access log has been tampered with: entry %(id)s is the first that "
                "fails (%(reason)s). %(count)s entries before it are intact. Treat "
                "this as a possible data breach (Coaching > Privacy > Registers > Data "
                "breaches).",
                id=broken_id,
                reason=reasons[reason],
                count=checked,
            )
            kind = "danger"
        else:
            message = _(
                "The access log is intact: %(count)s entries checked.", count=checked
            )
            kind = "success"
        return notify.notification(message, kind=kind, sticky=bool(broken_id))

    # ------------------------------------------------------------------ retention
    @api.model
    def _avg_due_access_log(self, policy, today, limit=None):
        """Entries past the log's own term (sealed ones: the chain goes on from
        the first entry kept)."""
        return self.sudo().search(
            [("date", "<", policy._avg_cutoff(today)), ("seal", "!=", False)],
            order="chain_seq",
            limit=limit,
        )

    def _avg_purge_access_log(self, policy):
        cr = self.env.cr
        cr.execute(SQL("SELECT set_config(%s, 'on', true)", PURGE_SETTING))
        cr.execute(SQL("DELETE FROM avg_access_log WHERE id IN %s", tuple(self.ids)))
        cr.execute(SQL("SELECT set_config(%s, 'off', true)", PURGE_SETTING))
        self.env["avg.deletion.log"]._avg_record_ref(
            "purge", False, {self._name: len(self)}, policy=policy
        )
        self.invalidate_model()
