from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CoachingDossier(models.Model):
    """Invoicing of a trajectory's sessions (seed 004 §1: commissioners are billed)."""

    _inherit = "coaching.dossier"

    invoice_ids = fields.One2many(
        "account.move", "coaching_dossier_id", string="Invoices", readonly=True
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    session_to_invoice_count = fields.Integer(
        string="Sessions to invoice", compute="_compute_invoice_count"
    )

    @api.depends("invoice_ids", "session_ids.is_invoiced")
    def _compute_invoice_count(self):
        for dossier in self:
            dossier.invoice_count = len(dossier.invoice_ids)
            dossier.session_to_invoice_count = len(dossier._avg_sessions_to_invoice())

    def _avg_sessions_to_invoice(self):
        """Sessions of these dossiers that are not (or no longer) invoiced."""
        return self.session_ids.filtered(lambda s: not s.is_invoiced).sorted(
            lambda s: (s.date, s.id)
        )

    def action_invoice_sessions(self):
        self.ensure_one()
        self.check_access("write")
        if not self._avg_sessions_to_invoice():
            raise UserError(
                _(
                    "Dossier %(name)s has no sessions left to invoice: every session "
                    "is on an invoice already. Record a new session first.",
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("Invoice sessions"),
            "res_model": "coaching.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_dossier_id": self.id},
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("coaching_dossier_id", "=", self.id)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(self.invoice_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.invoice_ids.id
        return action

    # ------------------------------------------------------------ client documents
    def action_share_protected_document(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("Send a protected document"),
            "res_model": "coaching.protected.document.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_dossier_id": self.id, "default_document": "dossier"},
        }
