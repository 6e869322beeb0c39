from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from ..services import crypto


class AvgRequestThrottle(models.Model):
    """Rate limit of the public request form. Holds only keyed hashes of the
    address and e-mail used (no personal data), and forgets them after a day."""

    _name = "avg.request.throttle"
    _description = "Rate limit of the public privacy request form"

    key = fields.Char(required=True, index=True, readonly=True)

    @api.model
    def _avg_key(self, kind, value):
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        return f"{kind}:{crypto.keyed_hash(secret, f'{kind}:{value}')}"

    @api.model
    def _avg_hit(self, kind, value, limit, hours=1):
        """Count one use of ``value``; False when it was already used ``limit``
        times in the last ``hours``."""
        key = self._avg_key(kind, value)
        since = fields.Datetime.now() - relativedelta(hours=hours)
        used = self.sudo().search_count(
            [("key", "=", key), ("create_date", ">=", since)]
        )
        if used >= limit:
            return False
        self.sudo().create({"key": key})
        return True

    @api.autovacuum
    def _gc_throttle(self):
        since = fields.Datetime.now() - relativedelta(days=1)
        self.sudo().search([("create_date", "<", since)]).unlink()
