from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

COACH_GROUPS = "avg_coaching.group_avg_coach,avg_coaching.group_avg_privacy_manager"


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "avg.bsn.guard"]

    _avg_bsn_fields = (
        "name",
        "comment",
        "street",
        "street2",
        "city",
        "function",
        "coaching_employer",
    )

    is_coaching_client = fields.Boolean(
        string="Coaching client",
        help="A coachee: a person who follows, or followed, a coaching trajectory.",
    )
    is_coaching_commissioner = fields.Boolean(
        help="An organisation or person that commissions and pays for the coaching "
        "of a client (opdrachtgever).",
    )
    coaching_birthdate = fields.Date(
        string="Date of birth",
        groups=COACH_GROUPS,
    )
    coaching_employer = fields.Char(string="Employer")
    coaching_dossier_ids = fields.One2many(
        "coaching.dossier",
        "client_id",
        string="Coaching dossiers",
        groups="avg_coaching.group_avg_coach",
    )
    coaching_dossier_count = fields.Integer(
        compute="_compute_coaching_dossier_count",
        string="Dossiers",
        groups="avg_coaching.group_avg_coach",
    )

    @api.depends("coaching_dossier_ids")
    def _compute_coaching_dossier_count(self):
        groups = self.env["coaching.dossier"]._read_group(
            [("client_id", "in", self.ids)], ["client_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.coaching_dossier_count = counts.get(partner.id, 0)

    @api.constrains("coaching_birthdate")
    def _check_coaching_birthdate(self):
        today = fields.Date.context_today(self)
        for partner in self:
            birthdate = partner.coaching_birthdate
            if birthdate and not (
                today - relativedelta(years=120) <= birthdate <= today
            ):
                raise ValidationError(
                    _(
                        "The date of birth of %(name)s is not plausible: enter a date "
                        "in the past, less than 120 years ago.",
                        name=partner.display_name,
                    )
                )

    def _avg_age_on(self, day):
        """Age in whole years on ``day``, or None when the birth date is unknown."""
        self.ensure_one()
        birthdate = self.sudo().coaching_birthdate
        if not birthdate or not day:
            return None
        return relativedelta(day, birthdate).years

    def action_view_coaching_dossiers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.coaching_dossier_action"
        )
        action["domain"] = [("client_id", "=", self.id)]
        action["context"] = {"default_client_id": self.id}
        return action

    def action_avg_send_client_information(self):
        """Send the privacy information (art. 13) to this client; the retention
        term agreed on her most recent dossier is included when there is one."""
        self.ensure_one()
        dossier = self.env["coaching.dossier"]
        if self.env.user.has_group("avg_coaching.group_avg_coach"):
            dossier = dossier.search([("client_id", "=", self.id)], limit=1)
        self.env["avg.information.notice"]._avg_send(self, dossier or None)
        return True
