import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError

# Documents that can be shared with a client: (report, model of its record).
REPORTS = {
    "session": ("avg_coaching.coaching_session_report_action", "coaching.session"),
    "dossier": ("avg_coaching.coaching_dossier_report_action", "coaching.dossier"),
    "access": ("avg_coaching.avg_access_export_report_action", "res.partner"),
}


class CoachingProtectedDocumentWizard(models.TransientModel):
    """Share a document with the client as a PDF protected by the password agreed
    with her (seed 004 §2: "met een zwaar wachtwoord beveiligde documenten")."""

    _name = "coaching.protected.document.wizard"
    _description = "Share a password-protected document with a client"

    document = fields.Selection(
        [
            ("session", "Session report"),
            ("dossier", "Dossier report"),
            ("access", "Everything we keep about the client (art. 15)"),
        ],
        required=True,
        default="dossier",
    )
    dossier_id = fields.Many2one(
        "coaching.dossier", required=True, readonly=True, ondelete="cascade"
    )
    session_id = fields.Many2one(
        "coaching.session",
        ondelete="cascade",
        domain="[('dossier_id', '=', dossier_id)]",
    )
    partner_id = fields.Many2one(related="dossier_id.client_id", string="Client")
    has_password = fields.Boolean(compute="_compute_has_password")

    @api.depends("partner_id")
    def _compute_has_password(self):
        secrets = self.env["coaching.client.secret"].search(
            [("partner_id", "in", self.partner_id.ids)]
        )
        for wizard in self:
            wizard.has_password = wizard.partner_id in secrets.partner_id

    @api.model
    def _avg_open(self, dossier, document, session=None):
        """The action opening this wizard for ``dossier`` (checked readable)."""
        (session or dossier).check_access("read")
        context = {"default_dossier_id": dossier.id, "default_document": document}
        if session:
            context["default_session_id"] = session.id
        return {
            "type": "ir.actions.act_window",
            "name": _("Send a protected document"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": context,
        }

    def _avg_records(self):
        self.ensure_one()
        if self.document == "session":
            if not self.session_id:
                raise UserError(_("Choose the session whose report to share."))
            if self.session_id.dossier_id != self.dossier_id:
                raise UserError(
                    _(
                        "Session %(session)s does not belong to dossier %(name)s: "
                        "share it from its own dossier.",
                        session=self.session_id.display_name,
                        name=self.dossier_id.name,
                    )
                )
            return self.session_id
        if self.document == "access":
            return self.dossier_id.client_id
        return self.dossier_id

    def _avg_filename(self, records):
        if self.document == "session":
            name = _(
                "Session report %(reference)s %(date)s",
                reference=records.dossier_id.name,
                date=records.date,
            )
        elif self.document == "access":
            name = _("Your data %(date)s", date=fields.Date.context_today(self))
        else:
            name = _("Dossier %(reference)s", reference=records.name)
        return name.replace("/", "-") + ".pdf"

    def _avg_attachment(self):
        """The protected PDF, as an attachment of the dossier (so only those who
        may read the dossier may read it)."""
        records = self._avg_records()
        records.check_access("read")
        report_ref, _model = REPORTS[self.document]
        protected = self.env["coaching.client.secret"]._avg_protected_report(
            self.partner_id, report_ref, records
        )
        return self.env["ir.attachment"].create(
            {
                "name": self._avg_filename(records),
                "datas": base64.b64encode(protected),
                "mimetype": "application/pdf",
                "res_model": "coaching.dossier",
                "res_id": self.dossier_id.id,
            }
        )

    def action_download(self):
        self.ensure_one()
        attachment = self._avg_attachment()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    def action_send(self):
        self.ensure_one()
        client = self.partner_id
        if not client.email:
            raise UserError(
                _(
                    "%(client)s has no e-mail address: add one to the contact, or "
                    "download the protected PDF and hand it over another way.",
                    client=client.display_name,
                )
            )
        attachment = self._avg_attachment()
        env = self.with_context(lang=client.lang or self.env.lang).env
        self.dossier_id._avg_system_note(
            subject=env._("A document from your coach"),
            body=env._(
                "Dear %(client)s, attached is the document %(document)s. It is "
                "protected with the password we agreed; the password is not in "
                "this e-mail.",
                client=client.name,
                document=attachment.name,
            ),
            partner_ids=client.ids,
            attachment_ids=attachment.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return {"type": "ir.actions.act_window_close"}
