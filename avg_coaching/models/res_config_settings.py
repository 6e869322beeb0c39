from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    avg_minor_policy = fields.Selection(
        [
            ("refuse", "Refuse dossiers for clients under 16"),
            (
                "guardian",
                "Allow them with the recorded consent of a parent or guardian",
            ),
        ],
        string="Clients under 16",
        default="refuse",
        required=True,
        config_parameter="avg_coaching.minor_policy",
    )

    avg_dossier_retention_years = fields.Selection(
        [
            ("7", "7 years after the trajectory (ZKM privacy rules)"),
            ("5", "5 years after the trajectory (privacy statement)"),
        ],
        string="Dossier retention",
        default="7",
        required=True,
        config_parameter="avg_coaching.dossier_retention_years",
    )

    def set_values(self):
        before = self.env["coaching.dossier"]._avg_default_retention_years()
        res = super().set_values()
        if self.env["coaching.dossier"]._avg_default_retention_years() != before:
            dossiers = (
                self.env["coaching.dossier"].sudo().search([("state", "=", "closed")])
            )
            dossiers.modified(["retention_years"])
            dossiers.flush_recordset()
        return res

    avg_session_product_id = fields.Many2one(
        "product.product",
        string="Coaching service",
        domain=[("type", "=", "service")],
        config_parameter="avg_coaching.session_product_id",
        help="The service invoiced per hour of coaching.",
    )
    avg_hourly_rate = fields.Float(
        string="Hourly rate",
        related="avg_session_product_id.list_price",
        readonly=False,
    )

    def action_avg_rewrap_keys(self):
        return self.env["avg.data.key"].action_rewrap_keys()
