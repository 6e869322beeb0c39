import json
import logging
import os

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config
from odoo.tools.translate import LazyTranslate

from ..services import crypto

_logger = logging.getLogger(__name__)

# Journal lines waiting for the commit (in the cursor's post-commit data).
_JOURNAL_PENDING = "avg_coaching.journal"

_lt = LazyTranslate(__name__)


class AvgDeletionLog(models.Model):
    """What was purged, when and why, without any personal data (art. 5(2), 30).

    ``subject_ref`` is an HMAC of the subject's id and creation time under the
    database secret: it cannot be turned back into a person, yet lets a restored
    backup find the same subject again to re-apply the erasure.
    """

    _name = "avg.deletion.log"
    _inherit = ["avg.evidence.mixin"]
    _avg_evidence_refusal = _lt(
        "The deletion log cannot be deleted: it is the record of what "
        "was erased, and lets erasures be re-applied after a restore."
    )
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

    @api.model
    def _avg_record_many(self, operation, entries, policy=None, reason=None):
        """Log purges: ``entries`` is a list of (subject_ref, counts)."""
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
