from odoo import models
from odoo.exceptions import UserError

from ..services.erasure import erasure_allowed


class AvgEvidenceMixin(models.AbstractModel):
    """Records that are evidence (a consent, a request, a breach, the register,
    the deletion log, ...): nobody deletes them by hand.

    ``_avg_evidence_deleted_by`` says who may:

    * ``"erasure"``: the erasure path and the retention engine only
      (``services/erasure.py``), not any ``sudo()`` caller such as
      ``privacy_lookup``;
    * ``"superuser"``: the superuser (Odoo's own clean-ups, uninstalling).

    ``_avg_evidence_refusal`` (a lazy translated text) tells the user why, and
    what to do instead.
    """

    _name = "avg.evidence.mixin"
    _description = "Evidence that cannot be deleted by hand"
    _avg_evidence_deleted_by = "erasure"
    _avg_evidence_refusal = None

    def unlink(self):
        if self._avg_evidence_deleted_by == "superuser":
            allowed = self.env.su
        else:
            allowed = erasure_allowed(self.env)
        if not allowed:
            raise UserError(self.env._(self._avg_evidence_refusal))
        return super().unlink()
