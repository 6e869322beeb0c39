from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# The practice's choices, also made on the set-up checklist (avg.setup).
MINOR_POLICIES = [
    ("adult", "No minors: refuse dossiers for clients under 18"),
    ("refuse", "Refuse dossiers for clients under 16"),
    (
        "guardian",
        "Under 16 only with the recorded consent of a parent or guardian",
    ),
]
DOSSIER_RETENTION_YEARS = [
    ("7", "7 years after the trajectory (ZKM privacy rules)"),
    ("5", "5 years after the trajectory (privacy statement)"),
]


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    avg_minor_policy = fields.Selection(
        MINOR_POLICIES,
        string="Young clients",
        default="adult",
        required=True,
        config_parameter="avg_coaching.minor_policy",
        help="Every rule needs the client's age: a dossier is refused while her date "
        "of birth is unknown.",
    )

    avg_dossier_retention_years = fields.Selection(
        DOSSIER_RETENTION_YEARS,
        string="Dossier retention",
        default="7",
        required=True,
        help="The term of the dossier retention policy: what the daily purge applies "
        "and what the register, the client's privacy information and the portal say.",
    )

    avg_two_factor_optional = fields.Boolean(
        string="Dossier content without two-factor login (demo only)",
        config_parameter="avg_coaching.two_factor_optional",
        help="Off (the default): coaches and privacy managers read dossier content "
        "only after logging in with two-factor authentication. Switch it on only on "
        "a demo database: every dossier then shows a warning.",
    )
    avg_idle_logout_minutes = fields.Integer(
        string="Log out after (minutes without activity)",
        config_parameter="avg_coaching.idle_logout_minutes",
        default=30,
        help="Coaches and privacy managers are logged out after this many minutes "
        "without any request. 0 switches it off.",
    )

    def set_values(self):
        res = super().set_values()
        self._avg_set_zkm_policies()
        # The dossier policy holds the term (its write recomputes the due dates).
        policy = self.env["coaching.dossier"]._avg_dossier_policy()
        years = int(self.avg_dossier_retention_years or 7)
        if policy and (policy.period, policy.period_unit) != (years, "years"):
            policy.write({"period": years, "period_unit": "years"})
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

    avg_moment_retention = fields.Selection(
        [
            ("dossier", "Keep them with the dossier, for the dossier's term"),
            ("after_trajectory", "Delete them a set time after the trajectory ends"),
        ],
        string="ZKM personal moments",
        default="dossier",
    )
    avg_moment_retention_months = fields.Integer(
        string="Months after the trajectory", default=3
    )
    avg_zkm_copy_weeks = fields.Integer(
        string="Keep ZKM export copies (weeks)",
        default=4,
        help="Weeks after the ZKM Computer Service processed the moments: then the "
        "local export copy is deleted and the coach is asked to delete the moments "
        "there.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        years = self.env["coaching.dossier"]._avg_default_retention_years()
        res["avg_dossier_retention_years"] = "5" if years == 5 else "7"
        moment = self.env.ref(
            "avg_coaching.retention_policy_moment", raise_if_not_found=False
        )
        transfer = self.env.ref(
            "avg_coaching.retention_policy_zkm_transfer", raise_if_not_found=False
        )
        if moment:
            moment = moment.sudo()
            res["avg_moment_retention"] = (
                "after_trajectory" if moment.active else "dossier"
            )
            if moment.period_unit == "months":
                res["avg_moment_retention_months"] = moment.period
        if transfer and transfer.sudo().period_unit == "weeks":
            res["avg_zkm_copy_weeks"] = transfer.sudo().period
        return res

    def _avg_set_zkm_policies(self):
        if self.avg_zkm_copy_weeks < 1 or (
            self.avg_moment_retention == "after_trajectory"
            and self.avg_moment_retention_months < 1
        ):
            raise ValidationError(
                _(
                    "Enter at least 1 week for the ZKM export copies and at least 1 "
                    "month for the personal moments."
                )
            )
        # Settings are the administrator's: the policies are written as such.
        moment = self.env.ref(
            "avg_coaching.retention_policy_moment", raise_if_not_found=False
        )
        if moment:
            vals = {"active": self.avg_moment_retention == "after_trajectory"}
            if vals["active"]:
                vals.update(
                    period=self.avg_moment_retention_months, period_unit="months"
                )
            moment.sudo().write(vals)
        transfer = self.env.ref(
            "avg_coaching.retention_policy_zkm_transfer", raise_if_not_found=False
        )
        if transfer:
            transfer.sudo().write(
                {"period": self.avg_zkm_copy_weeks, "period_unit": "weeks"}
            )

    def action_avg_rewrap_keys(self):
        return self.env["avg.data.key"].action_rewrap_keys()
