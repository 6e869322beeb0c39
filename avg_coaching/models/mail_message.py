from odoo import api, models

# Messages that are contact with a person: written by her, or to her.
CONTACT_TYPES = ("email", "comment", "email_outgoing")


class MailMessage(models.Model):
    _inherit = "mail.message"

    @api.model_create_multi
    def create(self, vals_list):
        # The BSN guard (models/avg_bsn_guard.py) for chatter on the addon's
        # records and on contacts.
        for vals in vals_list:
            if vals.get("model") and self._avg_bsn_guarded(vals["model"]):
                self._avg_check_bsn(vals, ("subject", "body"))
        self._avg_check_objections(vals_list)
        messages = super().create(vals_list)
        messages._avg_touch_last_contact()
        return messages

    @api.model
    def _avg_check_objections(self, vals_list):
        """Art. 21: a message or e-mail to a person from her contact (chatter,
        composer, mass mailing) is refused while her upheld objection to the
        processing it serves is in force. Internal notes, tracking and what she
        writes herself are not refused."""
        ids = set()
        for vals in vals_list:
            if (
                vals.get("model") != "res.partner"
                or not vals.get("res_id")
                or vals.get("message_type") not in ("comment", "email_outgoing")
                or vals.get("is_internal")
            ):
                continue
            subtype = self.env["mail.message.subtype"].browse(vals.get("subtype_id"))
            if subtype.sudo().internal:
                continue
            ids.add(vals["res_id"])
        if ids:
            self.env["res.partner"].browse(sorted(ids))._avg_check_objection("messages")

    def _avg_touch_last_contact(self):
        """A message from or to a person (an e-mail, a note on her contact) is
        contact: her last-contact date moves on (contact retention term). Internal
        notes and tracking messages are not contact."""
        by_day = {}
        for message in self.sudo():
            if message.message_type not in CONTACT_TYPES:
                continue
            ids = set(message.partner_ids.ids)
            if message.author_id:
                ids.add(message.author_id.id)
            internal = message.is_internal or message.subtype_id.internal
            if message.model == "res.partner" and message.res_id and not internal:
                ids.add(message.res_id)
            day = message.date.date() if message.date else None
            by_day.setdefault(day, set()).update(ids)
        for day, ids in by_day.items():
            self.env["res.partner"]._avg_touch_last_contact(ids, day)
