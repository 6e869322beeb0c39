from odoo import fields, models


class CoachingDossierPart(models.AbstractModel):
    """What belongs to one dossier (sessions, documents, special-category data,
    moments, ZKM transfers): it goes with the dossier, and carries the dossier's
    client, coach and company for the record rules and the erasure path."""

    _name = "coaching.dossier.part"
    _description = "Part of a coaching dossier"

    dossier_id = fields.Many2one(
        "coaching.dossier",
        required=True,
        index=True,
        ondelete="cascade",
    )
    client_id = fields.Many2one(related="dossier_id.client_id", store=True, index=True)
    coach_id = fields.Many2one(related="dossier_id.coach_id", store=True, index=True)
    company_id = fields.Many2one(related="dossier_id.company_id", store=True)
