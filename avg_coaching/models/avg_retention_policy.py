import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL, config
from odoo.tools.translate import LazyGettext, LazyTranslate

from ..services.erasure import erasure_env
from .avg_access_log import AvgAccessLog
from .avg_deletion_log import AvgDeletionLog
from .avg_request import AvgRequest
from .coaching_dossier import CoachingDossier
from .coaching_moment import CoachingMoment
from .coaching_moment_transfer import CoachingMomentTransfer
from .coaching_special_data import CoachingSpecialData
from .res_partner import ResPartner

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

BATCH_SIZE = 1000
# Batches one call of the cron purges before it reports its progress and returns;
# while work remains, the scheduler calls it again at once (ir.cron progress API).
BATCHES_PER_CALL = 20
LOCK_CLASS = 4242  # advisory-lock namespace of the retention runs
# One lock for every policy: two policies can reach the same person (a contact
# erased by one, anonymised or purged by another), so two runs never overlap.
LOCK_ALL = 0
# Agreed dossier terms are whole years from 1 to 7 (coaching.dossier constraint).
AGREED_YEARS = range(1, 8)


class Handler(NamedTuple):
    """One due search and its purge, both on the model whose records they purge.

    ``due(model, policy, today, limit=None)`` returns what is due on ``today``;
    ``purge(records, policy)`` purges it. The engine calls them by their name on
    the model, so that overrides (and tests that patch them) apply.
    """

    model: str
    due: Callable
    purge: Callable
    # The date the term counts from, and the shorter term agreed (retention
    # preview; the due search applies the same).
    start: str | None = None
    agreed_field: str | None = None


class Rule(NamedTuple):
    """What the engine does for one policy code."""

    # From when the term counts, as told to the client ("2 years" + this).
    counts_from: LazyGettext
    # Run in this order, each to the end, within one policy.
    handlers: tuple
    # Whether a shorter term agreed on the client's dossier shortens this term
    # (processing register §2: "after 7 years, or sooner when agreed").
    agreed: bool = False
    # Called once a run has purged everything due: reminders before purges.
    remind: Callable | None = None


# The one place that says what the daily retention run does, per policy code, in
# the order it runs them: what erases a person or deletes a whole record before
# what trims it (the agreement before the dossier content, the CRM term before the
# client data), so that a run with a backlog does not first trim what it erases
# next. On an ordinary day each term falls on a day of its own.
RULES = {
    "contact": Rule(
        _lt("after the last contact"),
        (
            # An intake that never started a trajectory is a contact that led to
            # no service: it goes with the contact's term.
            Handler(
                "coaching.dossier",
                CoachingDossier._avg_due_intake,
                CoachingDossier._avg_purge_intake,
                start="client_id.avg_last_contact_stored",
            ),
            Handler(
                "res.partner",
                ResPartner._avg_due_contact,
                ResPartner._avg_purge_contact,
                start="avg_last_contact_stored",
            ),
        ),
    ),
    "invoice": Rule(
        _lt("after the invoice date"),
        (
            Handler(
                "res.partner",
                ResPartner._avg_due_invoice,
                ResPartner._avg_purge_invoice,
            ),
        ),
    ),
    "agreement": Rule(
        _lt("after the agreement ended"),
        (
            Handler(
                "coaching.dossier",
                CoachingDossier._avg_due_agreement,
                CoachingDossier._avg_purge_agreement,
                start="date_end",
                agreed_field="retention_years",
            ),
        ),
        agreed=True,
    ),
    "crm": Rule(
        _lt("after the client relationship ended"),
        (
            Handler(
                "res.partner",
                ResPartner._avg_due_crm,
                ResPartner._avg_purge_crm,
                start="avg_relation_end",
                agreed_field="avg_agreed_years",
            ),
            # Contact persons of a commissioner: the same term, counted from the
            # end of the last trajectory their organisation commissioned.
            Handler(
                "res.partner",
                ResPartner._avg_due_commissioner,
                ResPartner._avg_purge_commissioner,
                start="avg_commission_end",
            ),
        ),
        agreed=True,
    ),
    "client_data": Rule(
        _lt("after the agreement ended"),
        (
            Handler(
                "res.partner",
                ResPartner._avg_due_client_data,
                ResPartner._avg_purge_client_data,
                start="avg_relation_end",
                agreed_field="avg_agreed_years",
            ),
        ),
        agreed=True,
    ),
    "dossier": Rule(
        _lt("after the trajectory ended"),
        (
            Handler(
                "coaching.dossier",
                CoachingDossier._avg_due_dossier,
                CoachingDossier._avg_purge_dossier,
                start="date_end",
                agreed_field="retention_years",
            ),
        ),
        agreed=True,
        remind=CoachingDossier._avg_remind_dossier,
    ),
    "special_withdrawn": Rule(
        _lt("after the consent was withdrawn"),
        (
            Handler(
                "coaching.special.data",
                CoachingSpecialData._avg_due_special_withdrawn,
                CoachingSpecialData._avg_purge_special_withdrawn,
                start="withdrawn_date",
            ),
        ),
    ),
    "zkm_transfer": Rule(
        _lt("after the ZKM Computer Service processed them"),
        (
            Handler(
                "coaching.moment.transfer",
                CoachingMomentTransfer._avg_due_zkm_transfer,
                CoachingMomentTransfer._avg_purge_zkm_transfer,
                start="date_processed",
            ),
        ),
    ),
    "moment": Rule(
        _lt("after the trajectory ended"),
        (
            Handler(
                "coaching.moment",
                CoachingMoment._avg_due_moment,
                CoachingMoment._avg_purge_moment,
                start="trajectory_end",
            ),
        ),
    ),
    "access_log": Rule(
        _lt("after the access"),
        (
            Handler(
                "avg.access.log",
                AvgAccessLog._avg_due_access_log,
                AvgAccessLog._avg_purge_access_log,
                start="date",
            ),
        ),
    ),
    # Requests never linked to a contact (the public form): anonymised.
    "request": Rule(
        _lt("after the request was closed"),
        (
            Handler(
                "avg.request",
                AvgRequest._avg_due_request,
                AvgRequest._avg_purge_request,
                start="date_closed",
            ),
        ),
    ),
    # The deletion log and the journal: the evidence that the terms above were
    # applied; never shorter than the longest of them (_check_deletion_log_term).
    "deletion_log": Rule(
        _lt("after the deletion"),
        (
            Handler(
                "avg.deletion.log",
                AvgDeletionLog._avg_due_deletion_log,
                AvgDeletionLog._avg_purge_deletion_log,
                start="date",
            ),
        ),
    ),
}


class AvgRetentionPolicy(models.Model):
    """How long the data of one purpose is kept: the one source of every term.

    What the engine does for a policy is declared in ``RULES`` (its code): the
    due searches and purges, each on the model it purges, which go through the
    one erasure path (``res.partner._avg_erase``) or the dossier purge. The
    register, the art. 13 notice, the portal and the access export state the
    term from here (:meth:`_avg_term_text`).
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
            ("client_data", "Client data after the agreement"),
            ("crm", "Client relationship (CRM)"),
            ("dossier", "Coaching dossier"),
            ("special_withdrawn", "Special-category data after withdrawn consent"),
            ("moment", "ZKM personal moments after the trajectory"),
            ("zkm_transfer", "ZKM transfer copies"),
            ("access_log", "Access log of dossier content"),
            ("request", "Data-subject requests not linked to a contact"),
            ("deletion_log", "Deletion log and journal"),
        ],
        string="Applies to",
        required=True,
        readonly=True,
        help="What the daily retention run removes under this policy (fixed).",
    )
    period = fields.Integer(string="Kept for", required=True, default=1)
    period_unit = fields.Selection(
        [
            ("days", "Days"),
            ("weeks", "Weeks"),
            ("months", "Months"),
            ("years", "Years"),
        ],
        string="Unit of the term",
        required=True,
        default="years",
    )
    term_display = fields.Char(string="Term", compute="_compute_term_display")
    legal_basis = fields.Text(string="Legal basis", translate=True)
    remind_days = fields.Integer(
        string="Remind the coach (days before)",
        default=30,
        help="The coach gets an activity this many days before a dossier is purged.",
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "There is one retention policy per handler."),
    ]

    @api.depends("period", "period_unit", "code")
    @api.depends_context("lang")
    def _compute_term_display(self):
        for policy in self:
            policy.term_display = policy._avg_term_text() if policy.code else False

    @api.constrains("period", "remind_days")
    def _check_period(self):
        for policy in self:
            if policy.period < 0 or policy.remind_days < 0:
                raise ValidationError(
                    _("Retention periods and reminder days cannot be negative.")
                )

    @api.constrains("period", "period_unit", "active")
    def _check_deletion_log_term(self):
        """The deletion log proves that every other term was applied: it is kept
        at least as long as the longest of them. (Not while the module loads:
        its policy is created with the shipped term, and the migration lengthens
        it where the practice keeps something longer.)"""
        if not self.env.registry.ready:
            return
        policies = self.search([("code", "!=", False)])
        log = policies.filtered(lambda p: p.code == "deletion_log")
        if not log or not (self & policies):
            return
        origin = date(2000, 1, 1)
        longest = max(
            (p for p in policies - log if p.active),
            key=lambda p: origin + p._avg_delta(),
            default=None,
        )
        if longest and origin + log._avg_delta() < origin + longest._avg_delta():
            raise ValidationError(
                _(
                    "The deletion log must be kept at least as long as the longest "
                    "retention term (%(policy)s: %(term)s): it is the proof that "
                    "the data were deleted when their term ended.",
                    policy=longest.name,
                    term=longest._avg_term_text(),
                )
            )

    def write(self, vals):
        res = super().write(vals)
        if {"period", "period_unit", "active"} & set(vals) and "dossier" in self.mapped(
            "code"
        ):
            # The dossiers' due dates hold the dossier term: follow it.
            dossiers = (
                self.env["coaching.dossier"].sudo().search([("state", "=", "closed")])
            )
            dossiers.modified(["retention_years"])
            dossiers.flush_recordset()
        return res

    # ------------------------------------------------------------------ terms
    def _avg_rule(self):
        self.ensure_one()
        return RULES[self.code]

    def _avg_delta(self):
        self.ensure_one()
        return relativedelta(**{self.period_unit: self.period})

    def _avg_term_delta(self, agreed_years=None):
        """The term this policy applies: its own, or the shorter term agreed on
        the client's dossier when one reaches this policy."""
        self.ensure_one()
        delta = self._avg_delta()
        if agreed_years and self._avg_rule().agreed:
            agreed = relativedelta(years=agreed_years)
            origin = date(2000, 1, 1)
            if origin + agreed < origin + delta:
                return agreed
        return delta

    def _avg_cutoff(self, today, agreed_years=None):
        """Records whose counting date is on or before this date are due."""
        return today - self._avg_term_delta(agreed_years)

    def _avg_due_on(self, start, agreed_years=None):
        """The day the engine purges what counts from ``start``."""
        return start + self._avg_term_delta(agreed_years) if start else False

    def _avg_agreed_domain(self, date_field, agreed_field, today):
        """Domain: ``date_field`` is past this policy's term, where the term is
        shortened by the years agreed in ``agreed_field`` (empty or 0: none)."""
        self.ensure_one()
        domains = [
            [
                "|",
                (agreed_field, "=", False),
                (agreed_field, "=", 0),
                (date_field, "<=", self._avg_cutoff(today)),
            ]
        ]
        if self._avg_rule().agreed:
            domains += [
                [
                    (agreed_field, "=", years),
                    (date_field, "<=", self._avg_cutoff(today, years)),
                ]
                for years in AGREED_YEARS
            ]
        return expression.OR(domains)

    def _avg_term_text(self, agreed_years=None):
        """The term in words, as the engine applies it (translated), e.g. "2
        years after the last contact" or "Immediately after the consent was
        withdrawn"; with ``agreed_years``, the shorter term agreed with the
        client where it applies."""
        self.ensure_one()
        rule = self._avg_rule()
        counts_from = self.env._(rule.counts_from)
        delta = self._avg_term_delta(agreed_years)
        agreed = delta != self._avg_delta()
        if agreed:
            count, unit = agreed_years, "years"
        else:
            count, unit = self.period, self.period_unit
        if not count:
            return _("Immediately %(counts_from)s", counts_from=counts_from)
        units = {
            "days": (_("day"), _("days")),
            "weeks": (_("week"), _("weeks")),
            "months": (_("month"), _("months")),
            "years": (_("year"), _("years")),
        }[unit]
        text = _(
            "%(count)s %(unit)s %(counts_from)s",
            count=count,
            unit=units[0] if count == 1 else units[1],
            counts_from=counts_from,
        )
        if agreed:
            text = _("%(term)s, as agreed with you", term=text)
        return text

    # ------------------------------------------------------------------ engine
    @api.model
    def _cron_purge(self):
        """Daily: purge what has expired under every active policy, then remind.

        One call purges at most BATCHES_PER_CALL batches and reports its progress
        to the scheduler (done, remaining), which calls it again at once while
        work remains."""
        today = fields.Date.context_today(self)
        with self._avg_run_lock() as locked:
            if not locked:
                _logger.info("Retention: another run is busy; this run skipped")
                return True
            done, budget, more = 0, BATCHES_PER_CALL, False
            order = list(RULES)
            policies = self.search([]).sorted(lambda p: order.index(p.code))
            for policy in policies:
                purged, _failed, used, more = policy._avg_run_locked(
                    today, BATCH_SIZE, max_batches=budget
                )
                done += purged
                budget -= used
                if more:
                    break
            remaining = policies._avg_count_due(today) if more else 0
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            if not more:
                for policy in policies:
                    policy._avg_remind(today)
        return True

    def _avg_remind(self, today):
        """The reminders of this policy (on the model of its first handler)."""
        self.ensure_one()
        rule = self._avg_rule()
        if rule.remind:
            target = self.env[rule.handlers[0].model].sudo()
            getattr(target, rule.remind.__name__)(self, today)

    def _avg_count_due(self, today):
        """How many records are due now under these policies (progress report)."""
        count = 0
        for policy in self:
            for handler in policy._avg_rule().handlers:
                target = self.env[handler.model].sudo()
                count += len(getattr(target, handler.due.__name__)(policy, today))
        return count

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
        # One run at a time: a second, concurrent run skips; what is due is read
        # only once the lock is held, from a snapshot taken after it.
        with self._avg_run_lock() as locked:
            if not locked:
                _logger.info("Retention %s: another run is busy; skipped", self.code)
                return 0, 0
            done, failed, _used, _more = self._avg_run_locked(today, batch_size)
            return done, failed

    def _avg_run_locked(self, today, batch_size, max_batches=None):
        """Run this policy's handlers in order. Returns (done, failed, batches
        used, more): ``more`` when ``max_batches`` ran out with work left."""
        self.ensure_one()
        done = failed = used = 0
        for handler in self._avg_rule().handlers:
            # The engine deletes what is due: let through the delete guards.
            target = erasure_env(self.env)[handler.model]
            seen_failed = set()
            while True:
                if max_batches is not None and used >= max_batches:
                    return done, failed, used, True
                due = getattr(target, handler.due.__name__)(
                    self, today, limit=batch_size + len(seen_failed)
                )
                due = due.filtered(lambda r, s=seen_failed: r.id not in s)
                due = due[:batch_size]
                if not due:
                    break
                used += 1
                batch_done, batch_failed = self._avg_purge_batch(
                    handler, due, seen_failed
                )
                done += batch_done
                failed += batch_failed
                if self._avg_can_commit():
                    # Keep the progress of a long sweep; see data_recycle.
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()
        if done or failed:
            _logger.info("Retention %s: %s purged, %s failed", self.code, done, failed)
        return done, failed, used, False

    def _avg_purge_batch(self, handler, due, seen_failed):
        """Purge ``due`` at once; on any failure, record by record."""
        purge = handler.purge.__name__
        try:
            with self.env.cr.savepoint():
                getattr(due, purge)(self)
            return len(due), 0
        except Exception:  # noqa: BLE001 - isolate the failing record below
            self.env.invalidate_all()
        done = failed = 0
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
        return done, failed

    @api.model
    def _avg_can_commit(self):
        return not (config["test_enable"] or config["test_file"])

    def _avg_preview(self, today, days):
        """What this policy will purge between today and today + days:
        [(handler, records)]."""
        self.ensure_one()
        day = today + relativedelta(days=days)
        found = []
        for handler in self._avg_rule().handlers:
            target = self.env[handler.model].sudo()
            due = getattr(target, handler.due.__name__)(self, day, limit=None)
            found.append((handler, due))
        return found

    def _avg_record_due_on(self, handler, record):
        """The day the engine purges ``record`` (found by ``handler``), or False."""
        self.ensure_one()
        if not handler.start:
            return False
        start = record.mapped(handler.start)[:1]
        start = fields.Date.to_date(start[0]) if start and start[0] else False
        agreed = record[handler.agreed_field] if handler.agreed_field else None
        return self._avg_due_on(start, agreed)
