from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services.erasure import erasure_allowed
from .avg_consent import SPECIAL_CATEGORIES
from .avg_encrypted_mixin import EncryptedText
from .coaching_dossier import SPECIAL_CATEGORY_FIELDS


class CoachingSpecialData(models.Model):
    """Special-category data (art. 9 GDPR) recorded in a dossier.

    Allowed only with the client's explicit consent for that category and only where
    it relates to the client's own coaching question (seed 004 §1).
    """

    _name = "coaching.special.data"
    _description = "Special-category data in a dossier"
    _inherit = ["coaching.dossier.part", "avg.encrypted.mixin"]
    _avg_access_kind = "special"
    _order = "dossier_id, category"
    _rec_name = "category"

    category = fields.Selection(SPECIAL_CATEGORIES, required=True)
    relation_note = EncryptedText(
        string="Relation to the coaching question",
        required=True,
        help="How this relates to the client's own coaching question.",
    )
    details = EncryptedText()
    relation_note_enc = fields.Text(copy=False, groups="base.group_system")
    details_enc = fields.Text(copy=False, groups="base.group_system")
    state = fields.Selection(
        [("active", "In use"), ("withdrawn", "Consent withdrawn")],
        default="active",
        required=True,
        readonly=True,
        index=True,
    )
    withdrawn_date = fields.Datetime(
        readonly=True,
        help="Consent for this category was withdrawn: the data is no longer used "
        "and is queued for deletion.",
    )

    _sql_constraints = [
        (
            "category_uniq",
            "unique(dossier_id, category)",
            "A dossier records each special category once.",
        ),
    ]

    @api.constrains("category", "dossier_id")
    def _check_consent(self):
        consent_model = self.env["avg.consent"]
        labels = dict(self._fields["category"]._description_selection(self.env))
        for line in self.filtered(lambda rec: rec.state == "active"):
            if not consent_model._avg_has_consent(
                line.client_id, f"special_{line.category}"
            ):
                raise ValidationError(
                    _(
                        "%(client)s has not given explicit consent for recording "
                        "%(category)s data. Record the consent (date, method and text "
                        "version) under Coaching > Privacy > Requests and consents > "
                        "Consents first.",
                        client=line.client_id.display_name,
                        category=labels[line.category],
                    )
                )

    def _avg_check_not_restricted(self):
        # The line that carries a withdrawal to the purge holds no content: a
        # restriction of processing must not stop the withdrawal being recorded.
        if self._avg_in_withdrawal():
            return
        super()._avg_check_not_restricted()

    @api.model
    def _avg_check_relation_note(self, vals, category):
        if not (vals.get("relation_note") or "").strip():
            labels = dict(self._fields["category"]._description_selection(self.env))
            raise ValidationError(
                _(
                    "Explain how the %(category)s data relates to the client's own "
                    "coaching question.",
                    category=labels.get(category, category),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not self._avg_in_withdrawal():
                self._avg_check_relation_note(vals, vals.get("category"))
        lines = super().create(vals_list)
        lines._avg_check_dossier_open()
        return lines

    def _avg_check_dossier_open(self):
        """A closed dossier's special-category data no longer change (as its
        sessions); recording a withdrawal and the erasure path still do."""
        if self._avg_in_withdrawal() or erasure_allowed(self.env):
            return
        closed = self.dossier_id.filtered(lambda d: d.state == "closed")
        if closed:
            raise UserError(
                _(
                    "Dossier %(name)s is closed: its special-category data can no "
                    "longer be added or changed. Reopen the dossier first if the "
                    "trajectory continues.",
                    name=closed[0].name,
                )
            )

    def write(self, vals):
        self._avg_check_dossier_open()
        if "relation_note" in vals:
            for line in self:
                self._avg_check_relation_note(vals, vals.get("category", line.category))
        if not self._avg_in_withdrawal() and any(
            line.state == "withdrawn" for line in self
        ):
            raise UserError(
                _(
                    "The client withdrew consent for this category: its data can no "
                    "longer be used or changed and is queued for deletion."
                )
            )
        return super().write(vals)

    @api.model
    def _avg_on_consent_withdrawn(self, consents):
        """Stop processing the categories of withdrawn special-category consents.

        The lines of the category are frozen (state withdrawn) and the retention
        policy *Special-category data after withdrawn consent* deletes them. The
        dossier fields of the category (prior help, medical treatment: health) go
        the same way: a dossier that holds them without a line of the category
        gets one, withdrawn and without content, that carries them to the purge."""
        dossier_model = self.env["coaching.dossier"].sudo()
        for consent in consents:
            if not consent.purpose.startswith("special_"):
                continue
            if consent._avg_has_consent(consent.partner_id, consent.purpose):
                continue  # another consent for this category still stands
            category = consent.purpose.removeprefix("special_")
            lines = self.search(
                [
                    ("client_id", "=", consent.partner_id.id),
                    ("category", "=", category),
                ]
            )
            lines.filtered(lambda rec: rec.state == "active").with_context(
                avg_consent_withdrawal=True
            ).write({"state": "withdrawn", "withdrawn_date": consent.withdrawn_date})
            fnames = [
                f for f, cat in SPECIAL_CATEGORY_FIELDS.items() if cat == category
            ]
            dossiers = dossier_model.search(
                [("client_id", "=", consent.partner_id.id)]
            ).filtered(lambda d, fs=fnames: any(d._avg_filled(f) for f in fs))
            carriers = [
                {
                    "dossier_id": dossier.id,
                    "category": category,
                    "state": "withdrawn",
                    "withdrawn_date": consent.withdrawn_date,
                }
                for dossier in dossiers - lines.dossier_id
            ]
            if carriers:
                self.with_context(avg_consent_withdrawal=True).create(carriers)

    @api.model
    def _avg_due_special_withdrawn(self, policy, today, limit=None):
        cutoff = fields.Datetime.to_datetime(policy._avg_cutoff(today)) + relativedelta(
            days=1
        )
        return self.search(
            [
                ("state", "=", "withdrawn"),
                ("withdrawn_date", "<", cutoff),
                *self.env["res.partner"]._avg_block_domain("client_id"),
            ],
            limit=limit,
        )

    def _avg_purge_special_withdrawn(self, policy):
        # Logged before the lines go: the log reads whose they were.
        self.env["avg.deletion.log"]._avg_record_purge(self, policy=policy)
        # The dossier fields of the withdrawn categories go with their lines.
        for category in set(self.mapped("category")):
            fnames = [
                f for f, cat in SPECIAL_CATEGORY_FIELDS.items() if cat == category
            ]
            dossiers = self.filtered(
                lambda rec, c=category: rec.category == c
            ).dossier_id
            dossiers.with_context(tracking_disable=True).write(
                {dossiers._avg_storage_name(f): False for f in fnames}
            )
        clients = self.client_id
        self.unlink()
        self.env["avg.data.key"]._avg_rekey(clients)
