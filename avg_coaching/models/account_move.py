from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

COACH = "avg_coaching.group_avg_coach"


class AccountMove(models.Model):
    _inherit = "account.move"

    # Only the dossier's own coach may follow an invoice back to its dossier: the
    # link is not stored on the invoice (which every invoicing user reads) but
    # found through the invoiced sessions, which the record rules show to their
    # coach only. The bookkeeper has no access to the field at all (seed 004 §4).
    coaching_dossier_id = fields.Many2one(
        "coaching.dossier",
        string="Coaching dossier",
        compute="_compute_coaching_dossier_id",
        search="_search_coaching_dossier_id",
        groups=COACH,
    )

    @api.depends_context("uid")
    @api.depends("line_ids.coaching_session_ids")
    def _compute_coaching_dossier_id(self):
        # As the real user, whatever sudo() says: the sessions' record rules
        # decide what she sees (the superuser, running crons, sees all).
        if not (self.env.su or self.env.user.has_group(COACH)):
            # Paths that skip the field's groups (export_data computes it).
            raise AccessError(
                _("Only the coach follows an invoice back to its dossier.")
            )
        sessions = self.env["coaching.session"]
        if self.env.uid != SUPERUSER_ID:
            sessions = sessions.sudo(False)
        readable = sessions.has_access("read")
        for move in self:
            found = (
                sessions.search([("invoice_line_id", "in", move.line_ids.ids)])
                if readable and move.line_ids.ids
                else sessions
            )
            move.coaching_dossier_id = found.dossier_id[:1]

    def _search_coaching_dossier_id(self, operator, value):
        return [("line_ids.coaching_session_ids.dossier_id", operator, value)]

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # An invoice is contact: the last-contact date of its person moves on.
        for move in posted.filtered(lambda m: m.is_invoice(include_receipts=True)):
            self.env["res.partner"]._avg_touch_last_contact(
                [move.partner_id.id, move.commercial_partner_id.id],
                move.invoice_date,
            )
        return posted


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    coaching_session_ids = fields.One2many(
        "coaching.session",
        "invoice_line_id",
        string="Coaching sessions",
        readonly=True,
        groups=COACH,
    )
