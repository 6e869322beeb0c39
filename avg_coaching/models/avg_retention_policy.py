import logging
from contextlib import contextmanager

from dateutil.relativedelta import relativedelta
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, config

from ..services.erasure import erasure_env

_logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
LOCK_CLASS = 4242  # advisory-lock namespace of the retention runs
# One lock for every policy: two policies can reach the same person (a contact
# erased by one, anonymised or purged by another), so two runs never overlap.
LOCK_ALL = 0


class AvgRetentionPolicy(models.Model):
    """How long the data of one purpose is kept, and what happens when it expires.

    Each policy names a handler (``code``) that finds what is due through indexed
    dates and purges it through the one erasure path (``res.partner._avg_erase``)
    or the dossier purge (``coaching.dossier._avg_purge_*``).
    """

    _name = "avg.retention.policy"
    _description = "Retention policy"
    _order = "sequence, id"

    name = fields.Char(string="Purpose", required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    code = fields.Selection(
        [
            ("contact", "Contact that did not lead to a service"),
            ("invoice", "Invoices and bookkeeping"),
            ("agreement", "Coaching agreement"),
            ("crm", "Client relationship (CRM)"),
            ("dossier", "Coaching dossier"),
            ("special_withdrawn", "Special-category data after withdrawn consent"),
            ("moment", "ZKM personal moments after the trajectory"),
            ("zkm_transfer", "ZKM transfer copies"),
            ("access_log", "Access log of dossier content"),
        ],
        string="Handler",
        required=True,
        help="What the daily cron does for this purpose.",
    )
    model_id = fields.Many2one("ir.model", required=True, ondelete="cascade")
    date_field_id = fields.Many2one(
        "ir.model.fields",
        string="Counts from",
        required=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('date', 'datetime'))]",
    )
    period = fields.Integer(required=True, default=1)
    period_unit = fields.Selection(
        [
            ("days", "Days"),
            ("weeks", "Weeks"),
            ("months", "Months"),
            ("years", "Years"),
        ],
        required=True,
        default="years",
    )
    action = fields.Selection(
        [
            ("delete", "Delete"),
            ("anonymise", "Anonymise"),
            ("remind", "Remind the coach"),
        ],
        required=True,
        default="delete",
    )
    legal_basis = fields.Text(string="Legal basis", translate=True)
    remind_days = fields.Integer(
        string="Remind the coach (days before)",
        default=30,
        help="The coach gets an activity this many days before a dossier is purged.",
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "There is one retention policy per handler."),
    ]

    @api.constrains("period", "remind_days")
    def _check_period(self):
        for policy in self:
            if policy.period < 0 or policy.remind_days < 0:
                raise ValidationError(
                    _("Retention periods and reminder days cannot be negative.")
                )

    def _avg_delta(self):
        self.ensure_one()
        return relativedelta(**{self.period_unit: self.period})

    def _avg_cutoff(self, today):
        """Records whose counting date is on or before this date are due."""
        return today - self._avg_delta()

    # ------------------------------------------------------------------ engine
    @api.model
    def _cron_purge(self):
        """Daily: purge what has expired under every active policy."""
        today = fields.Date.context_today(self)
        with self._avg_run_lock() as locked:
            if not locked:
                _logger.info("Retention: another run is busy; this run skipped")
                return True
            for policy in self.search([]):
                policy._avg_run(today)
        return True

    @api.model
    @contextmanager
    def _avg_run_lock(self):
        """Hold the retention lock (re-entrant); yields whether it was obtained.

        The lock is taken without waiting: a second run skips rather than queue.
        Once it is held, the transaction that took it is committed, so that what
        is due is read from a snapshot taken *after* the lock. PostgreSQL's
        REPEATABLE READ snapshot starts at the transaction's first statement; a
        snapshot taken earlier would not see what another run committed before it
        released the lock, and purging those records again fails with "could not
        serialize access due to concurrent delete".
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_CLASS, LOCK_ALL))
        locked = cr.fetchone()[0]
        try:
            if locked and self._avg_can_commit():
                # A fresh snapshot after the lock (see above); the runs commit
                # per batch anyway. In tests nothing is committed and no other
                # transaction runs.
                cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()
            yield locked
        finally:
            if locked:
                unlock = SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_CLASS, LOCK_ALL)
                failed = cr._cnx.info.transaction_status == TRANSACTION_STATUS_INERROR
                if failed and self._avg_can_commit():
                    # A run that failed outright: its transaction is lost anyway,
                    # and the lock must not stay with the pooled connection.
                    cr.rollback()
                cr.execute(unlock)

    def _avg_run(self, today, batch_size=BATCH_SIZE):
        """Purge what this policy finds due on ``today``, in batches.

        Each record is purged in a savepoint: one that fails is logged and skipped
        (and found again on the next run). Outside tests, every batch is committed.
        Returns (done, failed) counts.
        """
        self.ensure_one()
        handler = f"_avg_due_{self.code}"
        purge = f"_avg_purge_{self.code}"
        # The engine deletes what is due: let through the delete guards.
        target = erasure_env(self.env)[self.sudo().model_id.model]
        if self.action == "remind" or not hasattr(target, handler):
            return 0, 0
        # One run at a time: a second, concurrent run skips; what is due is read
        # only once the lock is held, from a snapshot taken after it.
        with self._avg_run_lock() as locked:
            if not locked:
                _logger.info("Retention %s: another run is busy; skipped", self.code)
                return 0, 0
            return self._avg_run_locked(target, handler, purge, today, batch_size)

    def _avg_run_locked(self, target, handler, purge, today, batch_size):
        done = failed = 0
        seen_failed = set()
        while True:
            due = getattr(target, handler)(
                self, today, limit=batch_size + len(seen_failed)
            )
            due = due.filtered(lambda r: r.id not in seen_failed)[:batch_size]
            if not due:
                break
            try:
                # The whole batch at once; on any failure, record by record.
                with self.env.cr.savepoint():
                    getattr(due, purge)(self)
                done += len(due)
            except Exception:  # noqa: BLE001 - isolate the failing record below
                self.env.invalidate_all()
                for record in due.exists():
                    try:
                        with self.env.cr.savepoint():
                            getattr(record, purge)(self)
                        done += 1
                    except Exception:  # one record's failure
                        _logger.exception(
                            "Retention %s: purging %s,%s failed; retried next run",
                            self.code,
                            record._name,
                            record.id,
                        )
                        seen_failed.add(record.id)
                        failed += 1
            if self._avg_can_commit():
                # Keep the progress of a long sweep; see data_recycle.
                self.env.cr.commit()  # pylint: disable=invalid-commit
            self.env.invalidate_all()
        if done or failed:
            _logger.info("Retention %s: %s purged, %s failed", self.code, done, failed)
        return done, failed

    @api.model
    def _avg_can_commit(self):
        return not (config["test_enable"] or config["test_file"])

    def _avg_preview(self, today, days):
        """What this policy will purge between today and today + days."""
        self.ensure_one()
        target = self.env[self.sudo().model_id.model].sudo()
        handler = f"_avg_due_{self.code}"
        if not hasattr(target, handler):
            return target
        return getattr(target, handler)(
            self, today + relativedelta(days=days), limit=None
        )
