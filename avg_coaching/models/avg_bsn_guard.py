from odoo import _, api, models
from odoo.exceptions import ValidationError

from ..services.bsn import find_bsn


class AvgBsnGuard(models.AbstractModel):
    """Refuses text that holds a BSN (the practice never records it, UAVG art. 46).

    Models list the free-text fields to guard in ``_avg_bsn_fields``.
    """

    _name = "avg.bsn.guard"
    _description = "BSN guard for free-text fields"

    _avg_bsn_fields = ()

    @api.model
    def _avg_check_bsn(self, vals):
        for fname in self._avg_bsn_fields:
            if fname in vals and find_bsn(vals[fname]):
                field = self._fields[fname]
                raise ValidationError(
                    _(
                        "The field '%(field)s' contains a number that looks like a "
                        "citizen service number (BSN). The practice does not record "
                        "BSNs: remove the number and save again.",
                        field=field._description_string(self.env),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._avg_check_bsn(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._avg_check_bsn(vals)
        return super().write(vals)
