from dateutil.relativedelta import relativedelta

from odoo import models

# Seed 000 §"Boekhouding": financial records are kept at least seven years.
FISCAL_RETENTION_YEARS = 7


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _avg_fiscal_hold_until(self):
        """Date until which this partner's posted invoices must be kept (the fiscal
        retention term from the latest invoice date), or False without any.

        Used by the retention engine: a partner on posted invoices is anonymised,
        never deleted, and not before this date.
        """
        self.ensure_one()
        latest = (
            self.env["account.move"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [
                    ("partner_id", "child_of", self.id),
                    ("state", "=", "posted"),
                    (
                        "move_type",
                        "in",
                        self.env["account.move"].get_invoice_types(True),
                    ),
                    ("invoice_date", "!=", False),
                ],
                aggregates=["invoice_date:max"],
            )[0][0]
        )
        if not latest:
            return False
        return latest + relativedelta(years=FISCAL_RETENTION_YEARS)
