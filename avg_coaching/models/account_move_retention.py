from odoo import api, models


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _avg_due_invoice(self, policy, today, limit=None):
        """Erased persons whose invoices have passed the fiscal retention term.

        Posted entries are never deleted (they are hashed); what is purged is what
        the anonymised contact still kept for them.
        """
        return (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("avg_fiscal_hold_until", "!=", False),
                    ("avg_fiscal_hold_until", "<=", today),
                    *self.env["res.partner"]._avg_block_domain(),
                ],
                limit=limit,
            )
        )
