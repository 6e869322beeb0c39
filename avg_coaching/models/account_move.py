from odoo import fields, models

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


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    coaching_session_ids = fields.One2many(
        "coaching.session",
        "invoice_line_id",
        string="Coaching sessions",
        readonly=True,
        groups=COACH,
    )
