from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .avg_encrypted_mixin import EncryptedText

# What a client may change in her own moments (portal or RPC alike).
CLIENT_FIELDS = {"text", "sequence", "date"}


class CoachingMoment(models.Model):
    """A ZKM 'persoonlijk moment': formulated by the client herself, part of the
    dossier for the whole trajectory (seed 004 §1), sent without anything that
    identifies her to the ZKM Computer Service (seed 004 §6)."""

    _name = "coaching.moment"
    _description = "ZKM personal moment"
    _inherit = ["coaching.dossier.part", "avg.encrypted.mixin"]
    _avg_access_kind = "moment"
    _order = "dossier_id, sequence, id"

    dossier_state = fields.Selection(
        related="dossier_id.state", string="Trajectory status", store=True, index=True
    )
    trajectory_end = fields.Date(
        related="dossier_id.date_end",
        string="Trajectory ended on",
        store=True,
        index=True,
    )
    sequence = fields.Integer(
        string="Order", default=1, help="The order of the moments in the dossier."
    )
    date = fields.Date(
        string="Formulated on",
        required=True,
        default=fields.Date.context_today,
        help="The day the moment was formulated.",
    )
    author = fields.Selection(
        [("client", "The client"), ("coach", "The coach")],
        string="Written by",
        required=True,
        default="coach",
    )
    text = EncryptedText(string="Moment")
    text_enc = fields.Text(copy=False, groups="base.group_system")
    transfer_ids = fields.Many2many(
        "coaching.moment.transfer",
        "coaching_moment_transfer_rel",
        "moment_id",
        "transfer_id",
        string="ZKM transfers",
        readonly=True,
        copy=False,
        groups="avg_coaching.group_avg_coach",
    )

    def _compute_display_name(self):
        for moment in self:
            moment.display_name = _(
                "Moment %(order)s of %(dossier)s",
                order=moment.sequence,
                dossier=moment.sudo().dossier_id.name or "",
            )

    @api.model_create_multi
    def create(self, vals_list):
        client = self.env.user.share
        last = dict(
            self.sudo()._read_group(
                [("dossier_id", "in", [v.get("dossier_id") for v in vals_list])],
                ["dossier_id"],
                ["sequence:max"],
            )
        )
        last = {dossier.id: sequence for dossier, sequence in last.items()}
        for vals in vals_list:
            self._avg_check_text(vals, required=True)
            if client:
                # A client writes her own moments: she is their author.
                vals["author"] = "client"
            if "sequence" not in vals and vals.get("dossier_id"):
                # A new moment comes after the dossier's last one.
                dossier_id = vals["dossier_id"]
                last[dossier_id] = last.get(dossier_id, 0) + 1
                vals["sequence"] = last[dossier_id]
        moments = super().create(vals_list)
        moments._avg_check_dossier_open()
        return moments

    def write(self, vals):
        # Access first: the checks below must not tell anyone about moments (or
        # dossiers) that are not theirs.
        self.check_access("write")
        if "dossier_id" in vals and any(
            m.dossier_id.id != vals["dossier_id"] for m in self
        ):
            raise UserError(
                _(
                    "A moment stays in the dossier it was written in: it is "
                    "encrypted under that client's key. Write it again in the other "
                    "dossier instead."
                )
            )
        if self.env.user.share and set(vals) - CLIENT_FIELDS:
            raise UserError(
                _("You can change the text, order and date of your moments only.")
            )
        self._avg_check_text(vals)
        self._avg_check_dossier_open()
        return super().write(vals)

    def unlink(self):
        if not self.env.su:
            self.check_access("unlink")
            self._avg_check_dossier_open()
        return super().unlink()

    @api.model
    def _avg_check_text(self, vals, required=False):
        if (required or "text" in vals) and not (vals.get("text") or "").strip():
            raise ValidationError(
                _("Write the moment: a personal moment cannot be empty.")
            )

    def _avg_check_dossier_open(self):
        for moment in self:
            if moment.sudo().dossier_id.state == "closed":
                raise UserError(
                    _(
                        "The trajectory of dossier %(name)s has closed: its personal "
                        "moments can no longer be added or changed.",
                        name=moment.sudo().dossier_id.name,
                    )
                )

    # ------------------------------------------------------------------ retention
    @api.model
    def _avg_due_moment(self, policy, today, limit=None):
        """Moments of trajectories that ended more than the policy's term ago
        (only when the practice chose to delete moments before the dossier)."""
        return self.search(
            [
                ("dossier_state", "=", "closed"),
                ("trajectory_end", "<=", policy._avg_cutoff(today)),
                *self.env["res.partner"]._avg_block_domain("client_id"),
            ],
            limit=limit,
        )

    def _avg_purge_moment(self, policy):
        self.env["avg.deletion.log"]._avg_record_purge(self, policy=policy)
        clients = self.client_id
        self.unlink()
        self.env["avg.data.key"]._avg_rekey(clients)
