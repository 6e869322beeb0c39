from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AvgRetentionPreview(models.TransientModel):
    """What the daily purge will remove in the coming days, per policy."""

    _name = "avg.retention.preview"
    _description = "Retention preview"

    days = fields.Integer(string="Next days", default=30, required=True)
    line_ids = fields.One2many(
        "avg.retention.preview.line", "preview_id", readonly=True
    )

    @api.constrains("days")
    def _check_days(self):
        for preview in self:
            if not 0 <= preview.days <= 3660:
                raise UserError(_("Choose a number of days between 0 and 3660."))

    def action_preview(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        lines = [(5, 0, 0)]
        for policy in self.env["avg.retention.policy"].search([]):
            for handler, records in policy._avg_preview(today, self.days):
                for record in records:
                    lines.append(
                        (
                            0,
                            0,
                            {
                                "policy_id": policy.id,
                                "model": record._name,
                                "res_id": record.id,
                                "name": record.display_name,
                                "due_date": self._avg_due_date(
                                    policy, handler, record, today
                                ),
                            },
                        )
                    )
        self.line_ids = lines
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _avg_due_date(self, policy, handler, record, today):
        due = policy._avg_record_due_on(handler, record)
        if not due and record._name == "res.partner":
            due = record.avg_fiscal_hold_until or record.parent_id.avg_commission_end
            if due and not record.avg_fiscal_hold_until:
                due = policy._avg_due_on(due)
        return due or today + relativedelta(days=self.days)


class AvgRetentionPreviewLine(models.TransientModel):
    _name = "avg.retention.preview.line"
    _description = "Retention preview line"
    _order = "due_date, policy_id"

    preview_id = fields.Many2one(
        "avg.retention.preview", required=True, ondelete="cascade"
    )
    policy_id = fields.Many2one("avg.retention.policy", readonly=True)
    model = fields.Char(readonly=True)
    res_id = fields.Integer(readonly=True)
    name = fields.Char(string="Record", readonly=True)
    due_date = fields.Date(string="Due on", readonly=True)
