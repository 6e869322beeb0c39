from odoo import api, fields, models

COACH = "avg_coaching.group_avg_coach"


class AccountMove(models.Model):
    _inherit = "account.move"

    # Only the coach may follow an invoice back to its dossier: the bookkeeper
    # works on the invoice without any access to dossiers (seed 004 §4).
    coaching_dossier_id = fields.Many2one(
        "coaching.dossier",
        string="Coaching dossier",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        groups=COACH,
    )

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


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    coaching_session_ids = fields.One2many(
        "coaching.session",
        "invoice_line_id",
        string="Coaching sessions",
        readonly=True,
        groups=COACH,
    )
