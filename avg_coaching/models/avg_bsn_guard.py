from odoo import _, api, models, tools
from odoo.exceptions import ValidationError

from ..services.bsn import find_bsn

# Models of the addon whose text is system-made (keys, hashes, logs): nobody types
# in them.
UNGUARDED = {
    "avg.access.log",
    "avg.data.key",
    "avg.deletion.log",
    "avg.request.throttle",
}
TEXT_TYPES = ("char", "text", "html")


class Base(models.AbstractModel):
    """The BSN guard: the practice never records a citizen service number (UAVG
    art. 46; processing register §1).

    It covers every free-text field of every model of the addon and of contacts,
    found in the registry (a new field is covered without anyone remembering), the
    chatter posted on them and the names of files attached to them. On the ORM's
    own create and write, so no form, import or RPC call goes around it.
    """

    _inherit = "base"

    @api.model
    @tools.ormcache("model_name")
    def _avg_bsn_fields_of(self, model_name):
        """The free-text fields of ``model_name`` that the guard checks: every
        text field a user can write (stored, or encrypted with an inverse); the
        ciphertext columns (``*_enc``) hold no text."""
        model = self.env[model_name]
        if not (
            model_name == "res.partner"
            or (
                model_name.startswith(("avg.", "coaching."))
                and model_name not in UNGUARDED
            )
        ):
            return ()
        return tuple(
            sorted(
                name
                for name, field in model._fields.items()
                if field.type in TEXT_TYPES
                and (field.store or field.inverse)
                and (not field.compute or field.inverse)
                and not name.endswith("_enc")
                and name not in models.MAGIC_COLUMNS
            )
        )

    @api.model
    def _avg_bsn_guarded(self, model_name):
        return model_name == "res.partner" or bool(self._avg_bsn_fields_of(model_name))

    @api.model
    def _avg_check_bsn(self, vals, fnames=None):
        for fname in (
            fnames if fnames is not None else self._avg_bsn_fields_of(self._name)
        ):
            if fname in vals and find_bsn(vals[fname]):
                raise ValidationError(
                    _(
                        "The field '%(field)s' contains a number that looks like a "
                        "citizen service number (BSN). The practice does not record "
                        "BSNs: remove the number and save again.",
                        field=self._fields[fname]._description_string(self.env),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        if self._avg_bsn_fields_of(self._name):
            for vals in vals_list:
                self._avg_check_bsn(vals)
        return super().create(vals_list)

    def write(self, vals):
        if self._avg_bsn_fields_of(self._name):
            self._avg_check_bsn(vals)
        return super().write(vals)


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.model_create_multi
    def create(self, vals_list):
        # The names of files attached to the addon's records and to contacts.
        for vals in vals_list:
            if vals.get("res_model") and self._avg_bsn_guarded(vals["res_model"]):
                self._avg_check_bsn(vals, ("name",))
        return super().create(vals_list)

    def write(self, vals):
        if "name" in vals and any(
            self._avg_bsn_guarded(model)
            for model in set(self.sudo().mapped("res_model"))
            if model
        ):
            self._avg_check_bsn(vals, ("name",))
        return super().write(vals)
