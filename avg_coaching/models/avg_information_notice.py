import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AvgInformationNotice(models.Model):
    """The information given to a client at the start (art. 13 GDPR): which version
    of the register she received, when, and the PDF exactly as it was sent."""

    _name = "avg.information.notice"
    _description = "Privacy information given to a client"
    _avg_subject_field = "partner_id"
    _avg_erasure = "delete"
    _inherit = ["mail.thread"]
    _order = "date_sent desc, id desc"
    _rec_name = "partner_id"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="restrict"
    )
    dossier_id = fields.Many2one(
        "coaching.dossier",
        index=True,
        ondelete="set null",
        groups="avg_coaching.group_avg_coach",
    )
    retention_years = fields.Integer(
        string="Agreed retention (years)",
        readonly=True,
        help="The shorter term agreed on the dossier when the information was sent.",
    )
    date_sent = fields.Datetime(string="Sent on", readonly=True)
    register_hash = fields.Char(string="Register version", readonly=True)
    register_date = fields.Datetime(string="Register last changed on", readonly=True)
    attachment_id = fields.Many2one(
        "ir.attachment", string="PDF as sent", readonly=True, ondelete="restrict"
    )
    mail_id = fields.Many2one("mail.mail", string="E-mail", readonly=True)
    is_current = fields.Boolean(
        string="Matches the current register", compute="_compute_is_current"
    )

    @api.depends("register_hash", "company_id")
    def _compute_is_current(self):
        activities = self.env["avg.processing.activity"]
        current = {}
        for notice in self:
            company = notice.company_id
            if company not in current:
                current[company] = activities._avg_register_fingerprint(company)[0]
            notice.is_current = notice.register_hash == current[company]

    def write(self, vals):
        frozen = {"partner_id", "register_hash", "date_sent", "attachment_id"}
        if not self.env.su and frozen & set(vals) and any(n.date_sent for n in self):
            raise UserError(
                _(
                    "Information that was sent is evidence and cannot be changed. "
                    "Send the information again to record a new version."
                )
            )
        return super().write(vals)

    def unlink(self):
        if not self.env.su:
            raise UserError(
                _(
                    "A record of information sent to a client cannot be deleted: it "
                    "proves what the client was told."
                )
            )
        return super().unlink()

    def _avg_activities(self):
        """The register as it is now, in the order of the register."""
        company = self[:1].company_id or self.env.company
        return self.env["avg.processing.activity"].search(
            [("company_id", "=", company.id)]
        )

    @api.model
    def _avg_send(self, partner, dossier=None):
        """Record and e-mail the art. 13 information to ``partner``.

        The PDF is rendered from the register at this moment and stored with the
        register's fingerprint, so what the client received can be shown later.
        """
        partner.ensure_one()
        if not partner.email:
            raise UserError(
                _(
                    "%(client)s has no e-mail address: add one to the contact first.",
                    client=partner.display_name,
                )
            )
        company = (dossier and dossier.company_id) or self.env.company
        activities = self.env["avg.processing.activity"]
        if not activities.search_count([("company_id", "=", company.id)], limit=1):
            raise UserError(
                _(
                    "The processing register is empty: describe the processing "
                    "activities under Privacy > Processing register first."
                )
            )
        digest, last_change = activities._avg_register_fingerprint(company)
        notice = self.create(
            {
                "company_id": company.id,
                "partner_id": partner.id,
                "dossier_id": dossier.id if dossier else False,
                # The shorter term agreed with her: on this dossier, else on all
                # of hers (as the portal and her export state it).
                "retention_years": dossier.retention_years
                if dossier
                else partner.sudo().avg_agreed_years,
                "register_hash": digest,
                "register_date": last_change,
            }
        )
        report = self.env.ref("avg_coaching.avg_information_notice_report")
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_context(lang=partner.lang or self.env.lang)
            ._render_qweb_pdf(report, notice.ids)
        )
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": _(
                        "Privacy information %(client)s.pdf", client=partner.name
                    ),
                    "datas": base64.b64encode(pdf),
                    "mimetype": "application/pdf",
                    "res_model": self._name,
                    "res_id": notice.id,
                }
            )
        )
        template = self.env.ref("avg_coaching.mail_template_avg_information_notice")
        mail_id = template.send_mail(
            notice.id,
            email_values={
                "recipient_ids": [(4, partner.id)],
                "attachment_ids": [(4, attachment.id)],
            },
        )
        notice.sudo().write(
            {
                "attachment_id": attachment.id,
                "mail_id": mail_id,
                "date_sent": fields.Datetime.now(),
            }
        )
        return notice

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("This information has not been sent yet."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }
