from odoo import fields, models


class CoachingDocument(models.Model):
    _name = "coaching.document"
    _description = "Dossier document"
    _order = "date desc, id desc"

    dossier_id = fields.Many2one(
        "coaching.dossier",
        required=True,
        index=True,
        ondelete="cascade",
    )
    client_id = fields.Many2one(related="dossier_id.client_id", store=True, index=True)
    coach_id = fields.Many2one(related="dossier_id.coach_id", store=True, index=True)
    company_id = fields.Many2one(related="dossier_id.company_id", store=True)
    name = fields.Char(string="Description", required=True)
    date = fields.Date(default=fields.Date.context_today)
    file = fields.Binary(required=True, attachment=True)
    filename = fields.Char()
