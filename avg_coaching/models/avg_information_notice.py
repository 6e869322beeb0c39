import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from ..services import notify

DELIVERIES = [
    ("email", "E-mailed from Odoo"),
    ("in_person", "Handed over in person (on paper)"),
    ("post", "Sent by post"),
]

_lt = LazyTranslate(__name__)


class AvgInformationNotice(models.Model):
    """The information given to a client at the start (art. 13 GDPR; art. 14 when
    her data came from a commissioner): which version of the register she received,
    when, how, and the PDF exactly as it was given."""

    _name = "avg.information.notice"
    _description = "Privacy information given to a client"
    _avg_subject_field = "partner_id"
    _avg_erasure = "delete"
    _inherit = ["mail.thread", "avg.evidence.mixin"]
    _avg_evidence_deleted_by = "superuser"
    _avg_evidence_refusal = _lt(
        "A record of information sent to a client cannot be deleted: it "
        "proves what the client was told."
    )
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
    date_sent = fields.Datetime(string="Given on", readonly=True)
    delivery = fields.Selection(
        DELIVERIES, string="How it was given", default="email", readonly=True
    )
    source_partner_id = fields.Many2one(
        "res.partner",
        string="Data received from",
        readonly=True,
        ondelete="set null",
        help="Art. 14 GDPR: the commissioner her data came from, named in the "
        "information she received.",
    )
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
        frozen = {
            "partner_id",
            "register_hash",
            "date_sent",
            "attachment_id",
            "delivery",
            "source_partner_id",
        }
        if not self.env.su and frozen & set(vals) and any(n.date_sent for n in self):
            raise UserError(
                _(
                    "Information that was sent is evidence and cannot be changed. "
                    "Send the information again to record a new version."
                )
            )
        return super().write(vals)

    def _avg_activities(self):
        """The register as it is now, in the order of the register."""
        company = self[:1].company_id or self.env.company
        return self.env["avg.processing.activity"].search(
            [("company_id", "=", company.id)]
        )

    @api.model
    def _avg_sent_notification(self, partner, reload=False):
        """What the coach sees after sending the privacy information."""
        return notify.notification(
            _(
                "The privacy information was sent to %(client)s (%(email)s).",
                client=partner.display_name,
                email=partner.email or "",
            ),
            reload=reload,
        )

    @api.model
    def _avg_send(self, partner, dossier=None):
        """Record and e-mail the art. 13 information to ``partner``.

        The PDF is rendered from the register at this moment and stored with the
        register's fingerprint, so what the client received can be shown later.
        With a dossier that has a commissioner, the information names it as the
        source of her data (art. 14).
        """
        partner.ensure_one()
        if not partner.email:
            raise UserError(
                _(
                    "%(client)s has no e-mail address: add one to the contact first.",
                    client=partner.display_name,
                )
            )
        notice, attachment = self._avg_prepare(partner, dossier, "email")
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

    @api.model
    def _avg_record_given(self, partner, dossier, delivery, day):
        """Record that the coach gave ``partner`` the information herself
        (``delivery``: in person or by post) on ``day``; the PDF she was given is
        kept as for an e-mail. Records or ids (as XML data passes them)."""
        if isinstance(partner, int):
            partner = self.env["res.partner"].browse(partner)
        if isinstance(dossier, int):
            dossier = self.env["coaching.dossier"].browse(dossier)
        partner.ensure_one()
        if delivery not in ("in_person", "post"):
            raise ValidationError(_("Choose how the information was given."))
        day = fields.Date.to_date(day)
        if not day or day > fields.Date.context_today(self):
            raise ValidationError(
                _("Enter the date the information was given (not in the future).")
            )
        notice, attachment = self._avg_prepare(partner, dossier, delivery)
        notice.sudo().write(
            {
                "attachment_id": attachment.id,
                "date_sent": fields.Datetime.to_datetime(day),
            }
        )
        return notice

    @api.model
    def _avg_prepare(self, partner, dossier, delivery):
        """The notice and its PDF, rendered from the register as it is now."""
        company = (dossier and dossier.company_id) or self.env.company
        activities = self.env["avg.processing.activity"]
        if not activities.search_count([("company_id", "=", company.id)], limit=1):
            raise UserError(
                _(
                    "The processing register is empty: describe the processing "
                    "activities under Coaching > Privacy > Registers > Processing "
                    "register first."
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
                "delivery": delivery,
                "source_partner_id": dossier.commissioner_id.id if dossier else False,
            }
        )
        report = self.env.ref("avg_coaching.avg_information_notice_report")
        reports = self.env["ir.actions.report"].with_context(
            lang=partner.lang or self.env.lang
        )
        if self.env.context.get("avg_information_html"):
            # The demo data: its install must log no wkhtmltopdf warnings.
            content, _type = reports._render_qweb_html(report, notice.ids)
            name = _("Privacy information %(client)s.html", client=partner.name)
            mimetype = "text/html"
        else:
            content, _type = reports._render_qweb_pdf(report, notice.ids)
            name = _("Privacy information %(client)s.pdf", client=partner.name)
            mimetype = "application/pdf"
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": name,
                    "datas": base64.b64encode(content),
                    "mimetype": mimetype,
                    "res_model": self._name,
                    "res_id": notice.id,
                }
            )
        )
        return notice, attachment

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("This information has not been sent yet."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }


class AvgInformationGivenWizard(models.TransientModel):
    """The coach records that she gave the client the privacy information herself
    (in person on paper, or by post), with the date."""

    _name = "avg.information.given.wizard"
    _description = "Record privacy information given"

    dossier_id = fields.Many2one("coaching.dossier", required=True)
    delivery = fields.Selection(
        [d for d in DELIVERIES if d[0] != "email"],
        string="How it was given",
        required=True,
        default="in_person",
    )
    date_given = fields.Date(
        string="Given on", required=True, default=fields.Date.context_today
    )

    def action_confirm(self):
        self.ensure_one()
        dossier = self.dossier_id
        dossier.check_access("write")
        notice = self.env["avg.information.notice"]._avg_record_given(
            dossier.client_id, dossier, self.delivery, self.date_given
        )
        dossier._avg_system_note(
            body=_(
                "Privacy information given to %(client)s (%(how)s, register version "
                "%(version)s).",
                client=dossier.client_id.display_name,
                how=dict(self._fields["delivery"]._description_selection(self.env))[
                    self.delivery
                ],
                version=notice.register_hash[:12],
            )
        )
        return {"type": "ir.actions.act_window_close"}
