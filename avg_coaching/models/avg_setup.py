from odoo import _, api, fields, models
from odoo.tools import config

from ..services import crypto, notify
from .avg_data_key import MASTER_KEY_PARAM
from .res_config_settings import DOSSIER_RETENTION_YEARS, MINOR_POLICIES

# Odoo's names for a company nobody has set up yet.
DEFAULT_COMPANY_NAMES = ("YourCompany", "My Company")


class AvgSetup(models.Model):
    """The privacy manager's set-up checklist: one record, each item computed from
    the real state of the practice where it can be, with a button that opens the
    place to fix it. Only what cannot be seen (a backup of the master key, a
    review, a choice) is a confirmation the privacy manager records here."""

    _name = "avg.setup"
    _description = "Set-up checklist"

    name = fields.Char(default=lambda self: _("Set-up checklist"), required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    done_count = fields.Integer(string="Done", compute="_compute_items")
    item_count = fields.Integer(string="Items", compute="_compute_items")

    practice_ok = fields.Boolean(compute="_compute_items")
    practice_missing = fields.Char(string="Still missing", compute="_compute_items")

    key_present = fields.Boolean(compute="_compute_items")
    key_backup_date = fields.Date(string="Master key backed up on", readonly=True)
    key_backup_user_id = fields.Many2one(
        "res.users", string="Confirmed by", readonly=True
    )
    key_ok = fields.Boolean(compute="_compute_items")

    two_factor_required = fields.Boolean(compute="_compute_items")
    two_factor_own = fields.Boolean(compute="_compute_items")
    two_factor_ok = fields.Boolean(compute="_compute_items")

    register_reviewed_date = fields.Date(string="Register reviewed on", readonly=True)
    register_reviewed_hash = fields.Char(readonly=True)
    register_ok = fields.Boolean(compute="_compute_items")

    processors_ok = fields.Boolean(compute="_compute_items")
    processors_missing = fields.Char(
        string="Processors without a valid agreement", compute="_compute_items"
    )

    dossier_retention_years = fields.Selection(
        DOSSIER_RETENTION_YEARS,
        string="Dossier retention",
        compute="_compute_choices",
        inverse="_inverse_dossier_retention_years",
    )
    minor_policy = fields.Selection(
        MINOR_POLICIES,
        string="Young clients",
        compute="_compute_choices",
        inverse="_inverse_minor_policy",
    )
    retention_confirmed_date = fields.Date(string="Choices confirmed on", readonly=True)
    retention_ok = fields.Boolean(compute="_compute_items")
    can_edit = fields.Boolean(compute="_compute_can_edit")

    def _compute_display_name(self):
        # The reader's language (the record's name is stored once, in English).
        for setup in self:
            setup.display_name = _("Set-up checklist")

    @api.depends(
        "company_id",
        "key_backup_date",
        "register_reviewed_hash",
        "retention_confirmed_date",
    )
    @api.depends_context("uid")
    def _compute_items(self):
        gate = self.env["avg.access.gate"]
        required = gate._avg_two_factor_required()
        own = gate._avg_has_two_factor(self.env.user)
        key_present = self._avg_key_present()
        register_hash = self.env["avg.processing.activity"]._avg_register_fingerprint(
            self.env.company
        )[0]
        missing_processors = self._avg_processors_missing()
        for setup in self:
            missing = setup._avg_practice_missing()
            setup.practice_ok = not missing
            setup.practice_missing = ", ".join(missing) or False
            setup.key_present = key_present
            setup.key_ok = key_present and bool(setup.key_backup_date)
            setup.two_factor_required = required
            setup.two_factor_own = own
            setup.two_factor_ok = required and own
            setup.register_ok = setup.register_reviewed_hash == register_hash
            setup.processors_ok = not missing_processors
            setup.processors_missing = ", ".join(missing_processors) or False
            setup.retention_ok = bool(setup.retention_confirmed_date)
            items = [
                setup.practice_ok,
                setup.key_ok,
                setup.two_factor_ok,
                setup.register_ok,
                setup.processors_ok,
                setup.retention_ok,
            ]
            setup.item_count = len(items)
            setup.done_count = sum(items)

    @api.depends_context("uid")
    def _compute_can_edit(self):
        can_edit = self.env.user.has_group("avg_coaching.group_avg_privacy_manager")
        for setup in self:
            setup.can_edit = can_edit

    def _compute_choices(self):
        years = self.env["coaching.dossier"]._avg_default_retention_years()
        policy = self.env["coaching.dossier"]._avg_minor_policy()
        for setup in self:
            setup.dossier_retention_years = "5" if years == 5 else "7"
            setup.minor_policy = policy

    def _inverse_dossier_retention_years(self):
        # The dossier policy holds the term (its write recomputes the due dates);
        # the privacy manager may edit policies.
        policy = self.env.ref(
            "avg_coaching.retention_policy_dossier", raise_if_not_found=False
        )
        for setup in self.filtered("dossier_retention_years"):
            years = int(setup.dossier_retention_years)
            if policy and (policy.period, policy.period_unit) != (years, "years"):
                policy.write({"period": years, "period_unit": "years"})

    def _inverse_minor_policy(self):
        # Only who may write this record (the privacy manager) gets here.
        params = self.env["ir.config_parameter"].sudo()
        for setup in self.filtered("minor_policy"):
            params.set_param("avg_coaching.minor_policy", setup.minor_policy)

    # ------------------------------------------------------------------ checks
    def _avg_practice_missing(self):
        """What the practice's details still lack (translated labels)."""
        self.ensure_one()
        company = self.company_id
        checks = [
            (
                company.name and company.name not in DEFAULT_COMPANY_NAMES,
                _("the practice's name"),
            ),
            (company.street and company.zip and company.city, _("the address")),
            (company.country_id, _("the country")),
            (company.company_registry, _("the KvK number")),
            (company.email, _("the e-mail address")),
            (company.currency_id.name == "EUR", _("euro as currency")),
            (company.paperformat_id.format == "A4", _("A4 paper")),
            (
                company.country_id.code != "NL" or company.chart_template == "nl",
                _("Odoo's Dutch localisation (l10n_nl: chart of accounts, BTW)"),
            ),
            (
                self.env["res.lang"]._lang_get("nl_NL"),
                _(
                    "Dutch installed (the administrator adds it in Settings, under "
                    "Languages)"
                ),
            ),
        ]
        return [label for ok, label in checks if not ok]

    @api.model
    def _avg_key_present(self):
        """A master key is configured and it is the one of this database."""
        current, previous = crypto.load_master_keys(config)
        if not current:
            return False
        recorded = (
            self.env["ir.config_parameter"].sudo().get_param(MASTER_KEY_PARAM) or ""
        )
        return not recorded or recorded in {
            crypto.key_id(key) for key in (current, previous) if key
        }

    @api.model
    def _avg_processors_missing(self):
        """Names of the register's processors without a valid agreement."""
        recipients = (
            self.env["avg.processing.recipient"]
            .sudo()
            .search(
                [
                    ("recipient_type", "=", "processor"),
                    ("activity_id.active", "=", True),
                ]
            )
        )
        missing = recipients.filtered(lambda r: r.agreement_status == "missing")
        return sorted(set(missing.mapped("display_name")))

    # ------------------------------------------------------------------ actions
    def _avg_notify(self, message):
        return notify.notification(message, reload=True)

    def action_open_company(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Practice details"),
            "res_model": "res.company",
            "res_id": self.company_id.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_confirm_key_backup(self):
        self.ensure_one()
        self.write(
            {
                "key_backup_date": fields.Date.context_today(self),
                "key_backup_user_id": self.env.uid,
            }
        )
        return self._avg_notify(_("Recorded: the master key is backed up."))

    def action_open_two_factor(self):
        """The user's own preferences, where she turns on two-factor login."""
        return self.env["res.users"].browse(self.env.uid).action_get()

    def action_open_settings(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.res_config_settings_action"
        )

    def action_open_register(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.avg_processing_activity_action"
        )

    def action_confirm_register_review(self):
        self.ensure_one()
        register_hash = self.env["avg.processing.activity"]._avg_register_fingerprint(
            self.company_id
        )[0]
        self.write(
            {
                "register_reviewed_date": fields.Date.context_today(self),
                "register_reviewed_hash": register_hash,
            }
        )
        return self._avg_notify(_("Recorded: the processing register is reviewed."))

    def action_open_processor_agreements(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.avg_processor_agreement_action"
        )

    def action_confirm_retention(self):
        self.ensure_one()
        self.write({"retention_confirmed_date": fields.Date.context_today(self)})
        return self._avg_notify(_("Recorded: the retention choices are made."))

    @api.model
    def _avg_get(self):
        """The checklist (one record); made again if it was deleted."""
        setup = self.env.ref("avg_coaching.avg_setup_main", raise_if_not_found=False)
        return setup or self.sudo().create({})
