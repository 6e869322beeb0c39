from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError

from ..models.avg_request import OPEN_STATES


class AvgRequestDecision(models.TransientModel):
    """Extend the deadline of a request, or refuse it: both with a reason that is
    sent to the requester (art. 12(3) and 12(4) GDPR)."""

    _name = "avg.request.decision"
    _description = "Extend or refuse a data-subject request"

    request_id = fields.Many2one("avg.request", required=True, ondelete="cascade")
    mode = fields.Selection(
        [("extend", "Extend the deadline"), ("refuse", "Refuse")], required=True
    )
    months = fields.Selection(
        [("1", "One month"), ("2", "Two months")],
        string="Extend by",
        default="1",
    )
    reason = fields.Text(required=True)
    new_date_due = fields.Date(compute="_compute_new_date_due")

    @api.depends("request_id", "months", "mode")
    def _compute_new_date_due(self):
        for wizard in self:
            request = wizard.request_id
            wizard.new_date_due = (
                request.date_received
                + relativedelta(months=1 + int(wizard.months or 0))
                if wizard.mode == "extend" and request.date_received
                else False
            )

    def action_confirm(self):
        self.ensure_one()
        request = self.request_id
        request.check_access("write")
        if request.state not in OPEN_STATES:
            raise UserError(_("This request is already closed."))
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(_("Give the reason: it is sent to the requester."))
        if self.mode == "refuse":
            request._avg_close("refused", reason)
            return {"type": "ir.actions.act_window_close"}
        months = int(self.months or 0)
        if request.extension_months:
            raise UserError(
                _(
                    "This request has already been extended; the law allows one "
                    "extension of two months at most."
                )
            )
        if months not in (1, 2):
            raise UserError(_("Extend by one or two months."))
        today = fields.Date.context_today(self)
        first_due = request.date_received + relativedelta(months=1)
        if today > first_due:
            raise UserError(
                _(
                    "The first month has passed (%(date)s): an extension must be "
                    "announced within a month of receipt. Answer the request now.",
                    date=tools.format_date(self.env, first_due),
                )
            )
        request.write({"extension_months": months, "extension_reason": reason})
        request._avg_send("avg_coaching.mail_template_avg_request_extended")
        request.message_post(
            body=_(
                "Deadline extended to %(date)s; the requester has been told why.",
                date=tools.format_date(self.env, request.date_due),
            )
        )
        return {"type": "ir.actions.act_window_close"}
