from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from .avg_encrypted_mixin import EncryptedText

# Fields whose value an invoice line repeats: they cannot change once invoiced.
INVOICED_FIELDS = ("date", "duration", "dossier_id")


class CoachingSession(models.Model):
    _name = "coaching.session"
    _description = "Coaching session"
    _inherit = ["coaching.dossier.part", "avg.encrypted.mixin"]
    _avg_access_kind = "session"
    _order = "date desc, id desc"

    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    duration = fields.Float(
        string="Duration (hours)", default=1.0, help="Length of the session in hours."
    )
    notes = EncryptedText(string="Session notes")
    observations = EncryptedText()
    report = EncryptedText()
    notes_enc = fields.Text(copy=False, groups="base.group_system")
    observations_enc = fields.Text(copy=False, groups="base.group_system")
    report_enc = fields.Text(copy=False, groups="base.group_system")

    invoice_line_id = fields.Many2one(
        "account.move.line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The invoice line this session was invoiced on.",
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id", string="Invoice", readonly=True
    )
    is_invoiced = fields.Boolean(
        string="Invoiced",
        compute="_compute_is_invoiced",
        search="_search_is_invoiced",
        help="Invoiced on an invoice that is not cancelled.",
    )

    @api.model
    def _avg_delete_of_dossiers(self, dossier_ids):
        """Delete the sessions of these dossiers in one statement (deleting or
        purging dossiers may take tens of thousands of sessions; the ORM's unlink
        works through them a thousand at a time, reading each one to invalidate its
        dossier). Does what that unlink does for sessions: they have no stored
        dependents (only the dossiers' non-stored counts), and their external ids,
        attachments and many2one defaults go with them. Returns how many went."""
        if not dossier_ids:
            return 0
        self.env.flush_all()
        count, data_ids, attachment_ids, with_defaults = self.env.execute_query(
            SQL(
                """
                WITH gone AS (
                    DELETE FROM coaching_session WHERE dossier_id = ANY(%(dossiers)s)
                    RETURNING id
                )
                SELECT (SELECT count(*) FROM gone),
                       ARRAY(SELECT d.id FROM ir_model_data d JOIN gone g
                                ON d.res_id = g.id WHERE d.model = %(model)s),
                       ARRAY(SELECT a.id FROM ir_attachment a JOIN gone g
                                ON a.res_id = g.id WHERE a.res_model = %(model)s),
                       -- the ids only when a many2one default may name one
                       ARRAY(SELECT g.id FROM gone g
                              WHERE EXISTS (
                                  SELECT 1 FROM ir_default v
                                    JOIN ir_model_fields f ON f.id = v.field_id
                                   WHERE f.ttype = 'many2one'
                                     AND f.relation = %(model)s))
                """,
                dossiers=list(dossier_ids),
                model=self._name,
            )
        )[0]
        self.env.invalidate_all()
        self.env["ir.model.data"].sudo().browse(data_ids).unlink()
        self.env["ir.attachment"].sudo().browse(attachment_ids).unlink()
        if with_defaults:
            self.env["ir.default"].sudo().discard_records(self.browse(with_defaults))
        return count

    def _compute_display_name(self):
        for session in self:
            session.display_name = _(
                "%(dossier)s – %(date)s",
                dossier=session.dossier_id.name or "",
                date=session.date or "",
            )

    @api.constrains("duration")
    def _check_duration(self):
        for session in self:
            if not 0 < session.duration <= 24:
                raise ValidationError(
                    _(
                        "A session lasts more than 0 and at most 24 hours: "
                        "correct the duration."
                    )
                )

    @api.constrains("dossier_id", "date")
    def _check_dossier_open(self):
        for session in self:
            if session.dossier_id.state == "closed":
                raise ValidationError(
                    _(
                        "Dossier %(name)s is closed: sessions can no longer be "
                        "added or changed. Reopen the dossier first.",
                        name=session.dossier_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        sessions = super().create(vals_list)
        sessions._avg_touch_last_contact()
        return sessions

    def _avg_touch_last_contact(self):
        """A session is contact: its client's last-contact date moves on."""
        Partner = self.env["res.partner"]
        for session in self:
            Partner._avg_touch_last_contact([session.client_id.id], session.date)

    def write(self, vals):
        if set(vals) & set(INVOICED_FIELDS):
            invoiced = self.filtered("is_invoiced")
            if invoiced:
                raise UserError(
                    _(
                        "Session %(session)s has been invoiced (%(invoice)s): its "
                        "date, duration and dossier can no longer change. Cancel or "
                        "credit the invoice first.",
                        session=invoiced[0].display_name,
                        invoice=invoiced[0].invoice_id.name,
                    )
                )
        if vals and set(vals) <= {"invoice_line_id"}:
            # Invoicing a session changes nothing it holds: allowed after closing.
            return super().write(vals)
        if any(s.dossier_id.state == "closed" for s in self):
            raise UserError(
                _(
                    "This session belongs to a closed dossier and can no longer "
                    "be changed."
                )
            )
        res = super().write(vals)
        if "date" in vals:
            self._avg_touch_last_contact()
        return res

    @api.depends("invoice_line_id.parent_state")
    def _compute_is_invoiced(self):
        for session in self:
            session.is_invoiced = bool(
                session.invoice_line_id
                and session.invoice_line_id.parent_state != "cancel"
            )

    def _search_is_invoiced(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Filter on 'Invoiced' with yes or no only."))
        invoiced = [
            ("invoice_line_id", "!=", False),
            ("invoice_line_id.parent_state", "!=", "cancel"),
        ]
        if (operator == "=") == value:
            return invoiced
        return [
            "|",
            ("invoice_line_id", "=", False),
            ("invoice_line_id.parent_state", "=", "cancel"),
        ]

    def _avg_invoice_line_name(self, lang=None):
        """The text of the invoice line: reference, date and duration, nothing else."""
        self.ensure_one()
        env = self.with_context(lang=lang).env if lang else self.env
        hours, minutes = divmod(round(self.duration * 60), 60)
        return env._(
            "Coaching trajectory %(reference)s – session of %(date)s, "
            "%(duration)s hours",
            reference=self.dossier_id.name,
            date=format_date(env, self.date, lang_code=lang),
            duration=f"{hours}:{minutes:02d}",
        )

    def action_share_protected_report(self):
        self.ensure_one()
        return self.env["coaching.protected.document.wizard"]._avg_open(
            self.dossier_id, "session", session=self
        )
