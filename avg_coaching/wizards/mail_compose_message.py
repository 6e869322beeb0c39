from odoo import _, models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail_mass_mail(self, res_ids, auto_commit=False):
        """Art. 21: an e-mail to several contacts (Contacts, Action, Send email)
        goes to all of them but the persons whose upheld objection stops messages
        to them, and the sender is told who was left out. To one of them alone it
        is refused with the reason (mail.message's own check)."""
        if self.model == "res.partner" and res_ids:
            partners = self.env["res.partner"].browse(res_ids)
            objecting = partners._avg_objections_stopping("messages").partner_id
            kept = [res_id for res_id in res_ids if res_id not in objecting.ids]
            if objecting and kept:
                self.env.user._bus_send(
                    "simple_notification",
                    {
                        "type": "warning",
                        "sticky": True,
                        "title": _("Not sent to everyone"),
                        "message": _(
                            "This e-mail was not sent to %(names)s: an upheld "
                            "objection (art. 21) stops messages to them from their "
                            "contact. It went to %(count)s other contact(s).",
                            names=", ".join(objecting.mapped("display_name")),
                            count=len(kept),
                        ),
                    },
                )
                res_ids = kept
        return super()._action_send_mail_mass_mail(res_ids, auto_commit=auto_commit)
