import fcntl
import json
import logging
import os
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config
from odoo.tools.translate import LazyTranslate

from ..services import crypto

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# Journal lines waiting for the commit (in the cursor's post-commit data).
_JOURNAL_PENDING = "avg_coaching.journal"
# Set (for its own transaction) by the retention purge of entries past their
# term: the only deletion the database lets through.
PURGE_SETTING = "avg_coaching.deletion_log_purge"
# Kinds of records whose mere existence says something about a person: that she
# had special-category data (art. 9) recorded, or was involved in a breach.
# An entry whose subject's contact remains (a purge, or an erasure that keeps
# the contact for her invoices) can be followed back to her through its
# reference: it counts them as "other records", without their kind.
REVEALING_KINDS = ("coaching.special.data", "avg.breach", "avg.breach.notification")
# Policies whose very name says so: their entries carry no subject reference.
REVEALING_POLICIES = ("special_withdrawn",)
OTHER_RECORDS = "other records"


class AvgDeletionLog(models.Model):
    """What was purged, when and why, without any personal data (art. 5(2), 30).

    ``subject_ref`` is an HMAC of the subject's id and creation time under the
    database secret: it cannot be turned back into a person, yet lets a restored
    backup find the same subject again to re-apply the erasure.

    Append-only evidence: the ORM refuses every change and deletion (the
    administrator's and the erasure path's too), and a database trigger refuses
    them to SQL, except the retention engine's purge of entries past the
    deletion log's own term (policy 'deletion_log'), which prunes the journal
    of the same age.
    """

    _name = "avg.deletion.log"
    # Append-only (ORM and database trigger): only a link to a deleted policy or
    # user may go empty; deleted only by the retention purge (PURGE_SETTING).
    _inherit = ["avg.append.only.mixin"]
    _avg_purge_setting = PURGE_SETTING
    _avg_fixed_columns = (
        "id",
        "date",
        "operation",
        "subject_ref",
        "counts",
        "reason",
        "create_date",
    )
    _avg_fading_columns = ("policy_id", "create_uid", "write_uid")
    _avg_write_refusal = _lt(
        "The deletion log is append-only: an entry cannot be changed, not "
        "even by the administrator."
    )
    _avg_unlink_refusal = _lt(
        "The deletion log cannot be deleted: it is the record of what was "
        "erased, and lets erasures be re-applied after a restore. Entries "
        "are deleted only by the retention policy 'Deletion log and "
        "journal' when their term has passed."
    )
    _avg_copy_refusal = _lt("Deletion log entries cannot be duplicated.")
    _description = "Deletion log"
    _order = "date desc, id desc"
    _rec_name = "subject_ref"

    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    policy_id = fields.Many2one(
        "avg.retention.policy", readonly=True, ondelete="set null"
    )
    reason = fields.Char(readonly=True, help="Policy or request that caused the purge.")
    operation = fields.Selection(
        [("erase", "Erased"), ("anonymise", "Anonymised"), ("purge", "Content purged")],
        required=True,
        readonly=True,
    )
    subject_ref = fields.Char(string="Subject reference", readonly=True, index=True)
    counts = fields.Text(string="Records per model", readonly=True)

    @api.model
    def _avg_subject_ref(self, partner):
        return self._avg_subject_refs(partner)[partner.id]

    @api.model
    def _avg_subject_refs(self, partners):
        """{partner id: irreversible reference} for ``partners``."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret", "")
        refs = {}
        partners = partners.sudo()
        # Only the creation date: reading it alone would fetch every column of
        # the contacts (a thousand at a time in a sweep).
        partners.fetch(["create_date"])
        for partner in partners:
            message = f"{partner.id}:{fields.Datetime.to_string(partner.create_date)}"
            refs[partner.id] = crypto.keyed_hash(secret, message)
        return refs

    @api.model
    def _avg_journal_path(self):
        """An append-only copy outside the database, to re-apply after a restore."""
        return os.path.join(
            config["data_dir"], "avg_coaching", f"{self.env.cr.dbname}.jsonl"
        )

    @api.model
    def _avg_record(self, operation, partner, counts, policy=None, reason=None):
        ref = self._avg_subject_ref(partner) if partner else False
        return self._avg_record_ref(
            operation, ref, counts, policy=policy, reason=reason
        )

    @api.model
    def _avg_record_ref(self, operation, ref, counts, policy=None, reason=None):
        return self._avg_record_many(
            operation, [(ref, counts)], policy=policy, reason=reason
        )

    @api.model
    def _avg_record_purge(
        self, records, label=None, policy=None, reason=None, subject="client_id"
    ):
        """Log that ``records`` were purged: one entry per data subject (their
        ``subject`` field), counting them under ``label`` (default: their model)."""
        label = label or records._name
        counts = {}
        for record in records:
            pid = record[subject].id
            counts[pid] = counts.get(pid, 0) + 1
        refs = self._avg_subject_refs(records[subject])
        return self._avg_record_many(
            "purge",
            [(refs[pid], {label: count}) for pid, count in counts.items()],
            policy=policy,
            reason=reason,
        )

    def _avg_unrevealing(self, counts):
        """``counts`` without the kinds that reveal special-category data or a
        breach (REVEALING_KINDS): those are added up as "other records"."""
        kept, other = {}, 0
        for kind, count in counts.items():
            if kind.split(" (")[0] in REVEALING_KINDS:
                other += count
            else:
                kept[kind] = count
        if other:
            kept[OTHER_RECORDS] = kept.get(OTHER_RECORDS, 0) + other
        return kept

    @api.model
    def _avg_record_many(self, operation, entries, policy=None, reason=None):
        """Log purges: ``entries`` is a list of (subject_ref, counts).

        A purge or anonymisation leaves the subject's contact in place, so its
        reference leads back to her: such entries do not name the kinds that
        reveal special-category data or a breach, and under a policy whose name
        reveals it they carry no reference at all. (An erasure that keeps the
        contact for her invoices counts only the total: ``avg.erasure``.)"""
        if operation != "erase":
            if policy and policy.code in REVEALING_POLICIES:
                entries = [(False, counts) for _ref, counts in entries]
            entries = [
                (ref, self._avg_unrevealing(counts) if ref else counts)
                for ref, counts in entries
            ]
        # One INSERT for the whole batch: the ORM's create costs more per row
        # (defaults, cache) than the row itself, on a sweep of thousands. Nothing
        # computes from this model, and it is written only here.
        now = fields.Datetime.now()
        ids = self.env.execute_query(
            SQL(
                """
                INSERT INTO avg_deletion_log (operation, subject_ref, counts,
                                              policy_id, reason, date, create_uid,
                                              create_date, write_uid, write_date)
                SELECT %(operation)s, e.ref, e.counts, %(policy)s, %(reason)s,
                       %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(refs)s::varchar[], %(counts)s::text[])
                       WITH ORDINALITY AS e(ref, counts, n)
                 ORDER BY e.n
                RETURNING id
                """,
                operation=operation,
                policy=policy.id if policy else None,
                reason=reason or (policy.code if policy else None),
                now=now,
                uid=self.env.uid,
                refs=[ref or None for ref, _counts in entries],
                counts=[json.dumps(counts, sort_keys=True) for _ref, counts in entries],
            )
        )
        logs = self.sudo().browse(row[0] for row in ids)
        if operation == "erase":
            stamp = fields.Datetime.to_string(now)
            self._avg_journal_after_commit(
                [
                    (
                        log_id,
                        {"date": stamp, "operation": operation, "subject_ref": ref},
                    )
                    for (log_id,), (ref, _counts) in zip(ids, entries, strict=True)
                    if ref
                ]
            )
        return logs

    @api.model
    def _avg_journal_after_commit(self, entries):
        """Append ``entries`` [(log id, line)] to the journal once the transaction
        that logged them has committed.

        The journal lives outside the database: written inside the transaction,
        a batch rolled back afterwards would leave lines for people who were never
        erased. A whole rollback drops the post-commit callbacks; a batch rolled
        back to a savepoint (the retention run's fallback) does not, so at commit
        only the lines whose deletion log row was committed are written.
        """
        if not entries:
            return
        cr = self.env.cr
        pending = cr.postcommit.data.setdefault(_JOURNAL_PENDING, [])
        if not pending:
            path = self._avg_journal_path()
            cr.postcommit.add(lambda: self._avg_journal_write(path, cr))
        pending.extend(entries)

    @api.model
    def _avg_journal_write(self, path, cr):
        entries = cr.postcommit.data.pop(_JOURNAL_PENDING, [])
        try:
            # Runs after COMMIT, on the same connection: sees what was committed.
            cr.execute(
                SQL(
                    "SELECT id FROM avg_deletion_log WHERE id = ANY(%s)",
                    [log_id for log_id, _line in entries],
                )
            )
            committed = {row[0] for row in cr.fetchall()}
            lines = [
                json.dumps(line) + "\n"
                for log_id, line in entries
                if log_id in committed
            ]
            if lines:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "a", encoding="utf-8") as journal:
                    # (The retention purge rewrites the file under this lock.)
                    fcntl.flock(journal, fcntl.LOCK_EX)
                    journal.writelines(lines)
        except Exception:
            # The erasure itself is committed; say loudly that the copy is short.
            _logger.exception(
                "Deletion journal %s: %s erasures could not be appended; re-apply "
                "them by hand after a restore (see the deletion log)",
                path,
                len(entries),
            )

    @api.model
    def _avg_reapply(self, path=None):
        """After restoring a backup: erase again every subject the journal names.

        Returns the number of subjects erased again.
        """
        path = path or self._avg_journal_path()
        if not os.path.exists(path):
            raise UserError(_("No deletion journal found at %(path)s.", path=path))
        wanted = set()
        with open(path, encoding="utf-8") as journal:
            for line in journal:
                line = line.strip()
                if line:
                    wanted.add(json.loads(line)["subject_ref"])
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        partners = Partner.search([("avg_erased_date", "=", False)])
        refs = self._avg_subject_refs(partners)
        found = partners.filtered(lambda p: refs[p.id] in wanted)
        found._avg_erase(reason="restore")
        redone = len(found)
        _logger.info("Re-applied %s erasures from %s", redone, path)
        return redone

    # ------------------------------------------------------------ retention
    # Declared, with the policy it serves, in avg_retention_policy.RULES.
    @api.model
    def _avg_due_deletion_log(self, policy, today, limit=None):
        """Deletion-log policy: entries written on or before the day the
        deletion log's own term counts back to."""
        until = fields.Datetime.to_datetime(policy._avg_cutoff(today)) + timedelta(
            days=1
        )
        return self.sudo().search([("date", "<", until)], order="id", limit=limit)

    def _avg_purge_deletion_log(self, policy):
        """Delete these entries (past their term) and, once that is committed,
        the journal's lines of the same age; the purge itself is logged."""
        if not self:
            return
        last = max(self.mapped("date"))
        cr = self.env.cr
        cr.execute(SQL("SELECT set_config(%s, 'on', true)", PURGE_SETTING))
        cr.execute(SQL("DELETE FROM avg_deletion_log WHERE id IN %s", tuple(self.ids)))
        cr.execute(SQL("SELECT set_config(%s, 'off', true)", PURGE_SETTING))
        self.invalidate_model()
        path = self._avg_journal_path()
        stamp = fields.Datetime.to_string(last)
        cr.postcommit.add(lambda: self._avg_journal_prune(path, stamp))
        self._avg_record_ref("purge", False, {self._name: len(self)}, policy=policy)

    @api.model
    def _avg_journal_prune(self, path, until):
        """Remove the journal's lines dated ``until`` (a datetime string) or
        earlier: their deletion-log entries are gone, and a backup that old is
        past every term (see the policy). Under the lock the appends take."""
        if not os.path.exists(path):
            return
        try:
            with open(path, "r+", encoding="utf-8") as journal:
                fcntl.flock(journal, fcntl.LOCK_EX)
                lines = journal.readlines()
                kept = [
                    line
                    for line in lines
                    if line.strip() and json.loads(line).get("date", "") > until
                ]
                if len(kept) != len(lines):
                    journal.seek(0)
                    journal.writelines(kept)
                    journal.truncate()
        except (OSError, ValueError):
            _logger.exception("Deletion journal %s could not be pruned", path)
