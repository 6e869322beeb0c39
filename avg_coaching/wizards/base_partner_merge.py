from ast import literal_eval

from odoo import _, models
from odoo.exceptions import UserError


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        # Refused rather than carried out. A client's data key and every ciphertext
        # of her content bind her partner id (associated data): moved to another
        # contact they fail their integrity check, and Odoo's merge deletes the
        # source's key row when the unique constraint stops it from moving, which
        # destroys the content. Doing it right means re-encrypting every field and
        # file under the other contact's key, and is right only when both contacts
        # are the same person, which the addon cannot verify; merging a stranger's
        # contact into a client would also put his records into her access export
        # and her erasure. The contacts stay apart; a duplicate without data is
        # merged or deleted as usual.
        if isinstance(partner_ids, models.BaseModel):
            partner_ids = partner_ids.ids
        partners = self.env["res.partner"].browse(partner_ids).exists()
        if dst_partner:
            partners |= dst_partner
        holders = partners._avg_coaching_data_holders() if len(partners) > 1 else None
        if holders:
            raise UserError(
                _(
                    "%(name)s cannot be merged: the coaching practice keeps data about "
                    "this contact (a dossier, consents, requests or an encryption "
                    "key), which is bound to this contact and cannot move to another "
                    "one. Correct the contact details instead, or erase the duplicate "
                    "through Coaching > Privacy > Requests and consents > Data-subject "
                    "requests.",
                    name=holders[0].sudo().display_name,
                )
            )
        return super()._merge(
            partner_ids, dst_partner=dst_partner, extra_checks=extra_checks
        )

    def _process_query(self, query):
        # The duplicate finder (manual check and automatic merge) does not
        # propose the groups that _merge would refuse.
        res = super()._process_query(query)
        partner_model = self.env["res.partner"]
        refused = self.line_ids.filtered(
            lambda line: partner_model.browse(
                literal_eval(line.aggr_ids)
            )._avg_coaching_data_holders()
        )
        if refused:
            self.number_group -= len(refused)
            refused.unlink()
        return res
