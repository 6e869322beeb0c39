from odoo import models


class IrBinary(models.AbstractModel):
    _inherit = "ir.binary"

    def _record_to_stream(self, record, field_name):
        # /web/content and /web/image of an encrypted file: the read gate logs
        # it as a download (it still decides whether it is allowed).
        if hasattr(record, "_avg_access_kind"):
            record = record.with_context(avg_access_action="download")
        return super()._record_to_stream(record, field_name)
