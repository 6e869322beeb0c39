from odoo import _, api, models
from odoo.exceptions import UserError

# What belongs to a coaching client, or is the practice's evidence about one.
CLIENT_MODELS = (
    "coaching.dossier",
    "coaching.session",
    "coaching.document",
    "coaching.special.data",
    "coaching.moment",
    "coaching.moment.transfer",
    "coaching.insurer.disclosure",
    "coaching.client.secret",
    "avg.consent",
    "avg.request",
    "avg.data.key",
    "avg.deletion.log",
    "avg.information.notice",
    "avg.breach.notification",
)


class PrivacyLookupWizardLine(models.TransientModel):
    """Odoo's privacy lookup deletes and archives with sudo(), one record at a
    time, outside the erasure path: no legal hold, restriction, open request or
    fiscal term is checked, no deletion log or journal is written, and a contact
    goes without the rest of her data. For a coaching client the lookup refuses
    and points to the data-subject requests, where the erasure is carried out
    (and recorded) through the erasure path; everything else it still does."""

    _inherit = "privacy.lookup.wizard.line"

    def _avg_refusal(self):
        """Why this line's record may not be deleted or archived here, or False."""
        self.ensure_one()
        if not self.res_model or self.res_model not in self.env or not self.res_id:
            return False
        record = self.env[self.res_model].sudo().browse(self.res_id).exists()
        if not record:
            return False
        if self.res_model in CLIENT_MODELS:
            protected = True
        elif self.res_model == "res.partner":
            protected = bool(record._avg_coaching_subjects())
        elif self.res_model == "res.users":
            protected = bool(record.partner_id._avg_coaching_subjects())
        elif self.res_model == "mail.message":
            protected = bool(record.author_id._avg_coaching_subjects())
        else:
            protected = False
        if not protected:
            return False
        return _(
            "%(model)s #%(id)s belongs to a coaching client. It is removed only "
            "through the erasure path, which respects legal holds, restrictions, open "
            "requests and the fiscal term, and writes the deletion log: record an "
            "erasure request under Coaching > Privacy > Requests and consents > "
            "Data-subject requests.",
            model=self.res_model_id.name or self.res_model,
            id=self.res_id,
        )

    def action_unlink(self):
        self.ensure_one()
        refusal = self._avg_refusal()
        if refusal:
            raise UserError(refusal)
        return super().action_unlink()

    @api.onchange("is_active")
    def _onchange_is_active(self):
        for line in self:
            refusal = line._avg_refusal()
            if refusal:
                raise UserError(refusal)
        return super()._onchange_is_active()
