from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .avg_encrypted_mixin import EncryptedBinary


class CoachingDocument(models.Model):
    _name = "coaching.document"
    _description = "Dossier document"
    _inherit = ["coaching.dossier.part", "avg.encrypted.mixin"]
    _avg_access_kind = "document"
    _order = "date desc, id desc"

    name = fields.Char(string="Description", required=True)
    date = fields.Date(default=fields.Date.context_today)
    file = EncryptedBinary(required=True)
    file_enc = fields.Binary(attachment=True, copy=False, groups="base.group_system")
    filename = fields.Char()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._avg_check_file(vals)
        return super().create(vals_list)

    def write(self, vals):
        if "file" in vals:
            self._avg_check_file(vals)
        return super().write(vals)

    @api.model
    def _avg_check_file(self, vals):
        if not vals.get("file"):
            raise ValidationError(_("Attach the file of the document."))
