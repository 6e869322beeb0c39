import logging

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.account.models.mail_message import bypass_token as audit_bypass_token

from ..services.erasure import erasure_allowed, erasure_env
from .avg_request import OPEN_STATES as AVG_OPEN_REQUEST_STATES

_logger = logging.getLogger(__name__)

COACH_GROUPS = "avg_coaching.group_avg_coach,avg_coaching.group_avg_privacy_manager"
# What an anonymised contact keeps while her invoices' fiscal term runs.
FISCAL_MINIMUM = ("name", "street", "street2", "zip", "city")
# A group nobody is in: fields restricted to it are read by the system only.
NOBODY = "avg_coaching.group_avg_nobody"
# Art. 21: what the addon stops for a person while her upheld objection to a
# processing activity of the register (by its code) is in force. Processing of
# other activities happens outside Odoo; the request records what was stopped.
#   messages: no message or e-mail to her from her contact (chatter, composer,
#   mass mailing), unless a trajectory of hers is active (the agreement's basis)
OBJECTION_STOPS = {"contact": "messages", "crm": "messages"}
# Shown per client to her coach only: field -> stored as f"{field}_stored".
AVG_PRIVATE_FIELDS = ("coaching_birthdate", "coaching_employer", "avg_last_contact")
# Retention (privacy statement §4.3-4.4): what the client-data term removes from a
# client's contact (the address too, unless posted invoices still need it), and
# what the CRM term removes while the agreement's longer term keeps the name.
CLIENT_DATA_FIELDS = (
    "coaching_birthdate_stored",
    "coaching_employer_stored",
    "mobile",
    "website",
    "function",
    "comment",
    "title",
    "image_1920",
)
ADDRESS_FIELDS = ("street", "street2", "zip", "city", "state_id", "country_id")
CRM_FIELDS = ("email", "phone", "mobile")


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_coaching_client = fields.Boolean(
        string="Coaching client",
        help="A coachee: a person who follows, or followed, a coaching trajectory.",
    )
    is_coaching_commissioner = fields.Boolean(
        help="An organisation or person that commissions and pays for the coaching "
        "of a client (opdrachtgever).",
    )
    # Contact data only the client's coach sees (and the privacy manager, and
    # the client herself): kept in fields nobody reads but the system, shown
    # through fields computed per user (see _compute_avg_private).
    coaching_birthdate = fields.Date(
        string="Date of birth",
        compute="_compute_avg_private",
        inverse="_inverse_coaching_birthdate",
        search="_search_coaching_birthdate",
        groups=COACH_GROUPS,
    )
    coaching_employer = fields.Char(
        string="Employer",
        compute="_compute_avg_private",
        inverse="_inverse_coaching_employer",
        search="_search_coaching_employer",
        groups=COACH_GROUPS,
    )
    coaching_birthdate_stored = fields.Date(
        string="Date of birth (stored)", groups=NOBODY
    )
    coaching_employer_stored = fields.Char(string="Employer (stored)", groups=NOBODY)
    coaching_dossier_ids = fields.One2many(
        "coaching.dossier",
        "client_id",
        string="Coaching dossiers",
        groups="avg_coaching.group_avg_coach",
    )
    coaching_dossier_count = fields.Integer(
        compute="_compute_coaching_dossier_count",
        string="Dossiers",
        groups="avg_coaching.group_avg_coach",
    )

    avg_legal_hold = fields.Boolean(
        string="Legal hold",
        groups=COACH_GROUPS,
        index=True,
        help="Keep all data of this person, for a legal procedure (privacy statement "
        "§4.4): no retention purge and no erasure while set.",
    )
    avg_legal_hold_reason = fields.Text(
        string="Reason for the legal hold", groups=COACH_GROUPS
    )
    avg_restricted = fields.Boolean(
        string="Processing restricted",
        groups=COACH_GROUPS,
        index=True,
        help="Restriction of processing (art. 18): the data is kept but not used, and "
        "not purged, until the restriction is lifted.",
    )
    avg_objection_info = fields.Text(
        string="Objections in force",
        compute="_compute_avg_objection_info",
        groups=COACH_GROUPS,
        help="Art. 21: her upheld objections, each stopping what it names until it "
        "is lifted on its request.",
    )
    avg_last_contact = fields.Date(
        string="Last contact",
        compute="_compute_avg_private",
        inverse="_inverse_avg_last_contact",
        search="_search_avg_last_contact",
        groups=COACH_GROUPS,
        help="For contacts that did not lead to a service: the retention term counts "
        "from this date.",
    )
    avg_last_contact_stored = fields.Date(
        string="Last contact (stored)",
        default=fields.Date.context_today,
        index=True,
        groups=NOBODY,
    )
    avg_relation_end = fields.Date(
        string="Client relationship ended",
        compute="_compute_avg_relation_end",
        store=True,
        index=True,
        groups=COACH_GROUPS,
    )
    avg_agreed_years = fields.Integer(
        string="Agreed retention (years)",
        compute="_compute_avg_relation_end",
        store=True,
        groups=COACH_GROUPS,
        help="The shorter retention term agreed on every dossier of this client "
        "(the longest of them); 0 when the practice's terms apply.",
    )
    avg_client_data_purged_date = fields.Date(
        string="Client data purged on", readonly=True, copy=False, groups=COACH_GROUPS
    )
    avg_crm_purged_date = fields.Date(
        string="Relationship data purged on",
        readonly=True,
        copy=False,
        groups=COACH_GROUPS,
    )
    coaching_commissioned_ids = fields.One2many(
        "coaching.dossier",
        "commissioner_id",
        string="Commissioned dossiers",
        groups=COACH_GROUPS,
    )
    avg_commission_end = fields.Date(
        string="Last commissioned trajectory ended",
        compute="_compute_avg_commission_end",
        store=True,
        index=True,
        groups=COACH_GROUPS,
        help="For a commissioner: the end of the last trajectory it commissioned, "
        "once all have ended. Its contact persons are kept for the CRM term after it.",
    )
    avg_request_ids = fields.One2many(
        "avg.request",
        "partner_id",
        string="Data-subject requests",
        groups=COACH_GROUPS,
    )
    avg_erased_date = fields.Datetime(string="Erased on", readonly=True, copy=False)
    avg_fiscal_hold_until = fields.Date(
        string="Invoice data kept until",
        readonly=True,
        copy=False,
        index=True,
        help="Erased, except what the invoices need until the fiscal retention term "
        "ends (7 years from the invoice date, art. 52 AWR).",
    )

    @api.depends("coaching_dossier_ids")
    def _compute_coaching_dossier_count(self):
        groups = self.env["coaching.dossier"]._read_group(
            [("client_id", "in", self.ids)], ["client_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.coaching_dossier_count = counts.get(partner.id, 0)

    @api.depends(*(f"{name}_stored" for name in AVG_PRIVATE_FIELDS))
    @api.depends_context("uid")
    def _compute_avg_private(self):
        """Per record, per user: the stored value for whom may see it, else
        nothing. Field groups already keep out everyone but coaches and the
        privacy manager; among coaches only the client's own coach sees them (or
        any coach while the contact has no dossier yet). The system reads them
        with sudo()."""
        user = self.env.user
        self._avg_check_private_access()
        see_all = self.env.su or user.has_group(
            "avg_coaching.group_avg_privacy_manager"
        )
        gate = self.env["avg.access.gate"]
        for partner in self:
            stored = partner.sudo()
            coaches = gate._avg_coaches_of(partner) if partner.id else set()
            visible = (
                see_all
                or user.partner_id == partner
                or not coaches
                or self.env.uid in coaches
            )
            for name in AVG_PRIVATE_FIELDS:
                partner[name] = stored[f"{name}_stored"] if visible else False

    def _avg_check_private_access(self):
        # Paths that skip a field's groups (export_data computes it) meet this.
        if not self.env.su and not self.env.user.has_groups(COACH_GROUPS):
            raise AccessError(
                _(
                    "Only the client's coach and the privacy manager see a client's "
                    "date of birth, employer and last contact."
                )
            )

    def _search_coaching_birthdate(self, operator, value):
        return self._avg_search_private("coaching_birthdate", operator, value)

    def _search_coaching_employer(self, operator, value):
        return self._avg_search_private("coaching_employer", operator, value)

    def _search_avg_last_contact(self, operator, value):
        return self._avg_search_private("avg_last_contact", operator, value)

    def _avg_search_private(self, name, operator, value):
        """Search on what the user may see: all for the privacy manager; for a
        coach, her own clients and contacts that are nobody's client yet."""
        self._avg_check_private_access()
        domain = [(f"{name}_stored", operator, value)]
        if not (
            self.env.su
            or self.env.user.has_group("avg_coaching.group_avg_privacy_manager")
        ):
            domain += [
                "|",
                ("coaching_dossier_ids", "=", False),
                ("coaching_dossier_ids.coach_id", "=", self.env.uid),
            ]
        found = self.sudo().with_context(active_test=False)._search(domain)
        return [("id", "in", found)]

    # One inverse per field: a shared one is called for whichever was set and
    # wrote all three, wiping the last-contact date when a birth date was given
    # (and, for a coach who does not see them, the other two).
    def _inverse_coaching_birthdate(self):
        self._avg_inverse_private("coaching_birthdate")

    def _inverse_coaching_employer(self):
        self._avg_inverse_private("coaching_employer")

    def _inverse_avg_last_contact(self):
        self._avg_inverse_private("avg_last_contact")

    def _avg_inverse_private(self, name):
        for partner in self:
            partner.sudo().write({f"{name}_stored": partner[name]})

    @api.constrains("coaching_birthdate_stored")
    def _check_coaching_birthdate(self):
        today = fields.Date.context_today(self)
        for partner in self:
            birthdate = partner.sudo().coaching_birthdate_stored
            if birthdate and not (
                today - relativedelta(years=120) <= birthdate <= today
            ):
                raise ValidationError(
                    _(
                        "The date of birth of %(name)s is not plausible: enter a date "
                        "in the past, less than 120 years ago.",
                        name=partner.display_name,
                    )
                )
        # A date of birth changed (or removed) after a dossier exists: the
        # practice's rule for young clients still holds for every dossier.
        dossiers = (
            self.env["coaching.dossier"].sudo().search([("client_id", "in", self.ids)])
        )
        dossiers._avg_check_minor()

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        # Being recorded is contact. The inverse of the private fields writes
        # all of them, and so wiped the default when a birth date was given.
        self._avg_touch_last_contact(
            [
                partner.id
                for partner, vals in zip(partners, vals_list, strict=True)
                if not ({"avg_last_contact", "avg_last_contact_stored"} & set(vals))
            ]
        )
        return partners

    def unlink(self):
        # A client is removed only by the erasure path (deletion log, journal,
        # holds respected); the contacts, Merge and privacy_lookup's sudo() alike.
        if not erasure_allowed(self.env):
            subject = self._avg_coaching_subjects()[:1]
            if subject:
                raise UserError(
                    _(
                        "%(name)s is a coaching client: this contact and its data are "
                        "removed only through the erasure path, which respects legal "
                        "holds, restrictions, open requests and the fiscal term, and "
                        "writes the deletion log. Record an erasure request under "
                        "Coaching > Privacy > Requests and consents > Data-subject "
                        "requests.",
                        name=subject.sudo().display_name,
                    )
                )
        return super().unlink()

    def _avg_coaching_subjects(self):
        """Those of these contacts that are coaching clients (or were, and are kept
        anonymised), or that the addon keeps data about."""
        partners = self.sudo().with_context(active_test=False)
        flagged = partners.filtered(lambda p: p.is_coaching_client or p.avg_erased_date)
        return self.browse(
            sorted(set(flagged.ids) | set(self._avg_coaching_data_holders().ids))
        )

    def _avg_coaching_data_holders(self):
        """Those of these contacts with a dossier, consent, data key, request or
        another record in the erasure path's reach."""
        found = set()
        for model, fname in (
            ("coaching.dossier", "client_id"),
            ("avg.consent", "partner_id"),
            ("avg.data.key", "partner_id"),
            ("avg.request", "partner_id"),
            ("coaching.client.secret", "partner_id"),
            ("coaching.insurer.disclosure", "client_id"),
            ("avg.information.notice", "partner_id"),
            ("avg.breach.notification", "partner_id"),
        ):
            rest = [pid for pid in self.ids if pid not in found]
            if not rest:
                break
            groups = (
                self.env[model]
                .sudo()
                .with_context(active_test=False)
                ._read_group([(fname, "in", rest)], [fname])
            )
            found.update(partner.id for (partner,) in groups)
        return self.browse([pid for pid in self.ids if pid in found])

    def _avg_age_on(self, day):
        """Age in whole years on ``day``, or None when the birth date is unknown."""
        self.ensure_one()
        birthdate = self.sudo().coaching_birthdate_stored
        if not birthdate or not day:
            return None
        return relativedelta(day, birthdate).years

    def action_view_coaching_dossiers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.coaching_dossier_action"
        )
        action["domain"] = [("client_id", "=", self.id)]
        action["context"] = {"default_client_id": self.id}
        return action

    @api.depends(
        "coaching_dossier_ids.state",
        "coaching_dossier_ids.date_end",
        "coaching_dossier_ids.retention_years",
    )
    def _compute_avg_relation_end(self):
        """When the client relationship ended (all trajectories closed), and the
        shorter term agreed on every one of them (the longest, else 0). Both
        stay once the dossiers are gone: the CRM and client-data terms run on."""
        # The values kept for a contact without dossiers are read alone: through
        # the field, it would fetch every column (a thousand contacts at a time
        # when the sweep deletes their dossiers).
        self.filtered("id").fetch(["avg_relation_end", "avg_agreed_years"])
        for partner in self:
            dossiers = partner.sudo().coaching_dossier_ids
            if not dossiers:
                partner.avg_relation_end = partner.avg_relation_end
                partner.avg_agreed_years = partner.avg_agreed_years
                continue
            agreed = dossiers.mapped("retention_years")
            partner.avg_agreed_years = max(agreed) if all(agreed) else 0
            if all(d.state == "closed" for d in dossiers):
                partner.avg_relation_end = max(
                    d.date_end or d.date_start or False for d in dossiers
                )
            else:
                partner.avg_relation_end = False

    @api.depends(
        "coaching_commissioned_ids.state", "coaching_commissioned_ids.date_end"
    )
    def _compute_avg_commission_end(self):
        self.filtered("id").fetch(["avg_commission_end"])
        for partner in self:
            dossiers = partner.sudo().coaching_commissioned_ids
            if not dossiers:
                partner.avg_commission_end = partner.avg_commission_end
            elif all(d.state == "closed" for d in dossiers):
                partner.avg_commission_end = max(
                    d.date_end or d.date_start or False for d in dossiers
                )
            else:
                partner.avg_commission_end = False

    # ------------------------------------------------------------ last contact
    @api.model
    def _avg_touch_last_contact(self, partner_ids, day=None):
        """Real contact with these persons on ``day`` (default today): a message
        from or to them, a session, an invoice. Their last-contact date moves on,
        never back; erased persons are left alone. In SQL: it runs on every
        message, and must not write the contact (tracking, write_date)."""
        ids = tuple({pid for pid in partner_ids if pid})
        if not ids:
            return
        day = min(
            fields.Date.to_date(day or fields.Date.context_today(self)),
            fields.Date.context_today(self),
        )
        self.flush_model(["avg_last_contact_stored", "avg_erased_date"])
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner SET avg_last_contact_stored = %(day)s
                    WHERE id IN %(ids)s AND avg_erased_date IS NULL
                      AND (avg_last_contact_stored IS NULL
                           OR avg_last_contact_stored < %(day)s)""",
                day=day,
                ids=ids,
            )
        )
        self.browse(ids).invalidate_recordset(
            ["avg_last_contact_stored", "avg_last_contact"]
        )

    # ------------------------------------------------------------ objection
    def _avg_objections_in_force(self):
        """The upheld objections (art. 21) of these persons that are in force."""
        return (
            self.env["avg.request"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", self.ids),
                    ("request_type", "=", "objection"),
                    ("objection_active", "=", True),
                ],
                order="date_closed, id",
            )
        )

    @api.depends_context("lang")
    def _compute_avg_objection_info(self):
        objections = self._avg_objections_in_force()
        for partner in self:
            partner.avg_objection_info = (
                "\n".join(
                    _(
                        "%(what)s: stopped since %(date)s (request %(ref)s), until "
                        "the objection is lifted.",
                        what=request.objection_stopped,
                        date=fields.Date.to_string(request.date_closed),
                        ref=request.name,
                    )
                    for request in objections
                    if request.partner_id == partner
                )
                or False
            )

    def _avg_objections_stopping(self, stop):
        """The upheld objections in force (art. 21) of these persons that stop
        processing ``stop`` (a value of OBJECTION_STOPS) now."""
        codes = [code for code, what in OBJECTION_STOPS.items() if what == stop]
        objections = self._avg_objections_in_force().filtered(
            lambda r: (
                r.objection_scope == "activity"
                and r.objection_activity_id.code in codes
            )
        )
        if stop == "messages" and objections:
            # While a trajectory runs, messages serve the coaching agreement.
            running = (
                self.env["coaching.dossier"]
                .sudo()
                .search(
                    [
                        ("client_id", "in", objections.partner_id.ids),
                        ("state", "=", "active"),
                    ]
                )
                .client_id
            )
            objections = objections.filtered(lambda r: r.partner_id not in running)
        return objections

    def _avg_check_objection(self, stop):
        """Refuse processing ``stop`` (a value of OBJECTION_STOPS) of these
        persons while an upheld objection to it is in force (art. 21)."""
        objections = self._avg_objections_stopping(stop)
        if objections:
            request = objections[0]
            raise UserError(
                _(
                    "%(person)s objected to the processing '%(activity)s' and the "
                    "objection was upheld (request %(ref)s): no messages or e-mails "
                    "are sent to her from her contact until it is lifted. Write "
                    "about her invoices or her requests from those records.",
                    person=request.partner_id.display_name,
                    activity=request.objection_activity_id.name,
                    ref=request.name,
                )
            )

    # ------------------------------------------------------------------ blockers
    @api.model
    def _avg_block_domain(self, path=""):
        """Domain excluding subjects whose data must not be purged now.

        The few blocked persons are looked up first and excluded by id. Joined
        into the due searches instead, PostgreSQL may scan the contacts once per
        due record when its statistics lag behind (after a bulk import or a large
        purge; seen in the sweep benchmark)."""
        return [(path or "id", "not in", self._avg_blocked_ids())]

    @api.model
    def _avg_blocked_ids(self):
        """Ids of the persons under a legal hold, a restriction or an open request."""
        held = (
            self.sudo()
            .with_context(active_test=False)
            .search(["|", ("avg_legal_hold", "=", True), ("avg_restricted", "=", True)])
        )
        requests = (
            self.env["avg.request"]
            .sudo()
            .search_fetch(
                [("state", "in", AVG_OPEN_REQUEST_STATES), ("partner_id", "!=", False)],
                ["partner_id"],
            )
        )
        return sorted(set(held.ids) | set(requests.partner_id.ids))

    def _avg_retention_blockers(self, request=None):
        """Reasons (translated) why this person's data cannot be erased now.
        ``request``: the erasure request being carried out, not a blocker itself."""
        self.ensure_one()
        partner = self.sudo()
        reasons = []
        if partner.avg_legal_hold:
            reasons.append(_("a legal hold stands"))
        if partner.avg_restricted:
            reasons.append(_("processing is restricted"))
        open_requests = partner.avg_request_ids.filtered(
            lambda r: r.state in AVG_OPEN_REQUEST_STATES and r != request
        )
        if open_requests:
            reasons.append(
                _(
                    "a data-subject request is open (%(refs)s)",
                    refs=", ".join(open_requests.mapped("name")),
                )
            )
        return reasons

    # ------------------------------------------------------------------ fiscal term
    def _avg_fiscal_hold_until(self):
        """Until when this person's posted invoices must be kept: the latest invoice
        date plus the fiscal term (invoice retention policy, 7 years), or False."""
        self.ensure_one()
        return self._avg_fiscal_hold_dates().get(self.id, False)

    # ------------------------------------------------------------ retention handlers
    # Declared, with the policy each serves, in avg_retention_policy.RULES.
    @api.model
    def _avg_due_contact(self, policy, today, limit=None):
        """Contact policy: persons who never had a trajectory, whose last contact
        is older than the contact term."""
        return self.search(
            [
                ("is_coaching_client", "=", True),
                ("avg_erased_date", "=", False),
                ("avg_last_contact_stored", "<=", policy._avg_cutoff(today)),
                ("coaching_dossier_ids", "=", False),
                ("avg_relation_end", "=", False),
                ("user_ids", "not any", [("share", "=", False)]),
                *self._avg_block_domain(),
            ],
            limit=limit,
        )

    def _avg_purge_contact(self, policy):
        self._avg_erase(policy=policy)

    @api.model
    def _avg_due_invoice(self, policy, today, limit=None):
        """Invoice policy: erased persons whose invoices have passed the fiscal
        term. Posted entries are never deleted (they are hashed); what is purged
        is what the anonymised contact still kept for them."""
        return self.with_context(active_test=False).search(
            [
                ("avg_fiscal_hold_until", "!=", False),
                ("avg_fiscal_hold_until", "<=", today),
                *self._avg_block_domain(),
            ],
            limit=limit,
        )

    def _avg_purge_invoice(self, policy):
        """The fiscal term has ended: remove what was kept for the invoices."""
        for partner in self:
            counts = partner._avg_remove_messages()[partner.id]
            counts.update(partner._avg_anonymise(keep_invoice_data=False))
            self.env["avg.deletion.log"]._avg_record(
                "anonymise", partner, counts, policy=policy
            )

    @api.model
    def _avg_client_domain(self, policy, today):
        """Clients whose relationship ended longer ago than ``policy``'s term (or
        the shorter term agreed with them)."""
        return [
            ("avg_relation_end", "!=", False),
            *policy._avg_agreed_domain("avg_relation_end", "avg_agreed_years", today),
            ("avg_erased_date", "=", False),
            *self._avg_block_domain(),
        ]

    @api.model
    def _avg_due_client_data(self, policy, today, limit=None):
        """Client-data policy: the client data on the contact, 3 years after the
        agreement ended (privacy statement §4.3)."""
        return self.with_context(active_test=False).search(
            [
                *self._avg_client_domain(policy, today),
                ("avg_client_data_purged_date", "=", False),
            ],
            limit=limit,
        )

    def _avg_purge_client_data(self, policy):
        """Keep of the contact only what a term that still runs needs: the name,
        e-mail and phone for the CRM term, the address while posted invoices
        are kept (fiscal term); the rest of the client data goes."""
        partners = self.sudo().with_context(tracking_disable=True, active_test=False)
        holds = partners._avg_fiscal_holds()
        fnames = [*CLIENT_DATA_FIELDS]
        for held in (True, False):
            group = partners.filtered(lambda p, h=held: bool(holds.get(p.id)) == h)
            if not group:
                continue
            cleared = fnames if held else fnames + list(ADDRESS_FIELDS)
            group._avg_write_emptied(
                {name: False for name in cleared}
                | {
                    "category_id": [(5, 0, 0)],
                    "avg_client_data_purged_date": fields.Date.context_today(self),
                }
            )
            group._avg_drop_tracking(cleared)
        self.env["avg.deletion.log"]._avg_record_many(
            "purge",
            [
                (ref, {"res.partner (client data)": 1})
                for ref in self.env["avg.deletion.log"]
                ._avg_subject_refs(partners)
                .values()
            ],
            policy=policy,
        )

    @api.model
    def _avg_due_crm(self, policy, today, limit=None):
        """CRM policy: clients whose relationship ended longer ago than the CRM
        term, whether or not the agreement's longer term still keeps a dossier."""
        return self.with_context(active_test=False).search(
            [
                *self._avg_client_domain(policy, today),
                "|",
                ("coaching_dossier_ids", "=", False),
                ("avg_crm_purged_date", "=", False),
            ],
            limit=limit,
        )

    def _avg_purge_crm(self, policy):
        """Erase the contact when nothing else keeps it; while a dossier is kept
        for the agreement term, keep only the name (the agreement's) and the
        address of posted invoices, and remove the relationship's data."""
        partners = self.sudo().with_context(tracking_disable=True, active_test=False)
        kept = partners.filtered("coaching_dossier_ids")
        (partners - kept)._avg_erase(policy=policy)
        if not kept:
            return
        holds = kept._avg_fiscal_holds()
        counts = kept._avg_remove_messages(holds)
        kept._avg_write_emptied(
            dict.fromkeys(CRM_FIELDS, False)
            | {"avg_crm_purged_date": fields.Date.context_today(self)}
        )
        kept._avg_drop_tracking(CRM_FIELDS)
        for user in kept.user_ids:
            user.write({"active": False, "login": f"erased-{user.id}"})
        refs = self.env["avg.deletion.log"]._avg_subject_refs(kept)
        self.env["avg.deletion.log"]._avg_record_many(
            "purge",
            [
                (refs[pid], counts[pid] | {"res.partner (relationship data)": 1})
                for pid in kept.ids
            ],
            policy=policy,
        )

    @api.model
    def _avg_due_commissioner(self, policy, today, limit=None):
        """CRM policy: the contact persons of a commissioner (and a commissioner
        who is a person), the CRM term after the last trajectory it commissioned
        ended. Organisations themselves are not personal data and stay."""
        cutoff = policy._avg_cutoff(today)
        return self.with_context(active_test=False).search(
            [
                ("is_company", "=", False),
                ("is_coaching_client", "=", False),
                ("avg_erased_date", "=", False),
                ("user_ids", "not any", [("share", "=", False)]),
                "|",
                ("avg_commission_end", "<=", cutoff),
                ("parent_id.avg_commission_end", "<=", cutoff),
                *self._avg_block_domain(),
            ],
            limit=limit,
        )

    def _avg_purge_commissioner(self, policy):
        self._avg_erase(policy=policy)

    def _avg_write_emptied(self, vals):
        """Write ``vals`` to these contacts, where an emptying value (False, or
        the command that clears a many2many) only to the contacts whose field
        holds something. Emptying what is empty already changes nothing, yet
        costs the recomputation of what depends on it (the four smaller images
        of a picture, an attachment search each; the sanitised phone, the
        e-invoicing address...): most of a sweep's time over thousands of
        contacts that never had them."""
        emptying = {
            name for name, value in vals.items() if not value or value == [(5, 0, 0)]
        }
        pictured = self._avg_with_picture() if "image_1920" in emptying else set()
        # Which contacts hold something in each field: a search per field (the
        # database answers; reading a thousand contacts field by field costs more).
        filled_ids = {}
        for name in emptying - {"image_1920"}:
            if self._fields[name].store:
                filled_ids[name] = set(
                    self.with_context(active_test=False)
                    .search([("id", "in", self.ids), (name, "!=", False)])
                    .ids
                )

        def holds(partner, name):
            if name == "image_1920":
                return partner.id in pictured
            # Not stored (an inverse): written as asked.
            return name not in filled_ids or partner.id in filled_ids[name]

        groups = {}
        for partner in self:
            filled = frozenset(name for name in emptying if holds(partner, name))
            groups.setdefault(filled, []).append(partner.id)
        for filled, ids in groups.items():
            values = {
                name: value for name, value in vals.items() if name not in emptying
            } | {name: vals[name] for name in filled}
            if values:
                self.browse(ids).write(values)

    def _avg_with_picture(self):
        """Ids of those of these contacts that have a picture."""
        if not self.ids:
            return set()
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search_fetch(
                [
                    ("res_model", "=", self._name),
                    ("res_field", "=", "image_1920"),
                    ("res_id", "in", self.ids),
                ],
                ["res_id"],
            )
        )
        return set(attachments.mapped("res_id"))

    def _avg_drop_tracking(self, fnames):
        """Delete the tracking values that hold old values of these fields."""
        self.env["mail.tracking.value"].sudo().search(
            [
                ("mail_message_id.model", "=", "res.partner"),
                ("mail_message_id.res_id", "in", self.ids),
                ("field_id.name", "in", list(fnames)),
            ]
        ).unlink()

    # ------------------------------------------------------------ the erasure path
    def _avg_erase(self, policy=None, reason=None, request=None):
        """Erase everything of these persons that the law does not require to keep.

        Deletes dossiers, sessions, notes, documents, ZKM moments and transfers,
        consents and special-category data, destroys the data key
        (crypto-shredding), removes their chatter messages and tracking values,
        deactivates their portal user, and deletes the contact, or anonymises it
        in place (same id) when invoices still need it.
        Used by the retention crons and by erasure requests. Refused while a legal
        hold or restriction stands. Works on many persons at once.
        """
        partners = self.exists().sudo()
        # Who may be blocked, for all at once; the reasons only for those.
        open_requests = (
            self.env["avg.request"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("state", "in", AVG_OPEN_REQUEST_STATES),
                    ("id", "!=", request.id if request else False),
                ]
            )
        )
        # (Only the two flags read: a thousand whole contacts otherwise.)
        partners.fetch(["avg_legal_hold", "avg_restricted", "avg_erased_date"])
        suspects = partners & (
            partners.filtered(lambda p: p.avg_legal_hold or p.avg_restricted)
            | open_requests.partner_id
        )
        for partner in suspects:
            blockers = partner._avg_retention_blockers(request=request)
            if blockers:
                raise UserError(
                    _(
                        "%(name)s cannot be erased now: %(reasons)s. Lift it first.",
                        name=partner.display_name,
                        reasons=", ".join(blockers),
                    )
                )
        todo = partners.filtered(lambda p: not p.avg_erased_date)
        if todo:
            todo._avg_erase_batch(policy, reason)
        return True

    def _avg_erase_batch(self, policy, reason):
        env = erasure_env(
            self.env(
                context=dict(self.env.context, tracking_disable=True, active_test=False)
            )
        )
        partners = self.with_env(env).sudo()
        ids = partners.ids
        log_model = env["avg.deletion.log"]
        refs = log_model._avg_subject_refs(partners)
        erasure = env["avg.erasure"]
        # Everything of this addon that is about the person, found through the
        # registry by the one erasure service: counted, then deleted or kept as
        # evidence without what identifies her.
        counts = erasure._avg_erase_owned(partners)
        breaches = env["avg.breach"].sudo().search([("subject_partner_ids", "in", ids)])
        breaches.write({"subject_partner_ids": [(3, pid) for pid in ids]})
        env["avg.data.key"]._avg_destroy_for(partners)

        holds = partners._avg_fiscal_holds()
        invoiced = partners._avg_partners_with_moves()
        for pid, removed in erasure._avg_erase_traces(partners, holds).items():
            counts[pid].update(removed)
        deleted = partners.filtered(lambda p: p.id not in invoiced)._avg_try_unlink()
        kept = partners.filtered(lambda p: p.id not in deleted)
        for keep_invoice_data in (True, False):
            group = kept.filtered(
                lambda p, k=keep_invoice_data: bool(holds.get(p.id)) == k
            )
            if group:
                group._avg_anonymise(keep_invoice_data=keep_invoice_data)
        now = fields.Datetime.now()
        for partner in kept:
            partner.write(
                {"avg_erased_date": now, "avg_fiscal_hold_until": holds.get(partner.id)}
            )
        for pid in ids:
            counts[pid][
                "res.partner" if pid in deleted else "res.partner (anonymised)"
            ] = 1
        log_model._avg_record_many(
            "erase",
            [
                (refs[pid], erasure._avg_log_counts(counts[pid], pid not in deleted))
                for pid in ids
            ],
            policy=policy,
            reason=reason,
        )

    def _avg_fiscal_holds(self):
        """{partner id: date its posted invoices must be kept until}, future only."""
        today = fields.Date.context_today(self)
        return {
            pid: day
            for pid, day in self._avg_fiscal_hold_dates().items()
            if day > today
        }

    def _avg_fiscal_hold_dates(self):
        """{partner id: latest posted invoice date + the fiscal term}."""
        self.fetch(["commercial_partner_id"])
        commercial = {p.id: p.commercial_partner_id.id for p in self}
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", list(set(commercial.values()))),
                    ("state", "=", "posted"),
                    (
                        "move_type",
                        "in",
                        ("out_invoice", "out_refund", "in_invoice", "in_refund"),
                    ),
                ],
                ["commercial_partner_id"],
                ["invoice_date:max"],
            )
        )
        latest = {partner.id: day for partner, day in groups if day}
        policy = self.env.ref(
            "avg_coaching.retention_policy_invoice", raise_if_not_found=False
        )
        delta = policy._avg_delta() if policy else relativedelta(years=7)
        return {
            pid: latest[cid] + delta for pid, cid in commercial.items() if cid in latest
        }

    def _avg_partners_with_moves(self, audit_trail_only=False):
        self.fetch(["commercial_partner_id"])
        commercial = {p.id: p.commercial_partner_id.id for p in self}
        domain = [("commercial_partner_id", "in", list(set(commercial.values())))]
        if audit_trail_only:
            domain.append(("company_id.check_account_audit_trail", "=", True))
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(domain, ["commercial_partner_id"], ["__count"])
        )
        with_moves = {partner.id for partner, _count in groups}
        return {pid for pid, cid in commercial.items() if cid in with_moves}

    def _avg_try_unlink(self):
        """Delete these contacts (and their users); those still referenced elsewhere
        are left for anonymisation. Returns the set of deleted ids."""
        if not self:
            return set()
        try:
            with self.env.cr.savepoint():
                ids = set(self.ids)
                self.with_context(active_test=False).user_ids.unlink()
                self.unlink()
                return ids
        except Exception:  # noqa: BLE001 - some are referenced: try one by one
            if len(self) == 1:
                _logger.info("Partner %s is referenced elsewhere: anonymised", self.id)
                return set()
        deleted = set()
        for partner in self:
            deleted |= partner._avg_try_unlink()
        return deleted

    def _avg_remove_messages(self, holds=None):
        """Delete the chatter of these persons and what they wrote, with the tracking
        values that hold their old name, e-mail, phone or address. Messages that the
        accounting audit trail protects are kept while the fiscal term runs.
        Returns {partner id: counts}."""
        holds = holds or {}
        messages = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    "|",
                    "&",
                    ("model", "=", "res.partner"),
                    ("res_id", "in", self.ids),
                    ("author_id", "in", self.ids),
                ]
            )
        )
        audited = self._avg_partners_with_moves(audit_trail_only=True)
        counts = {
            pid: {"mail.message": 0, "mail.message (kept, audit trail)": 0}
            for pid in self.ids
        }
        keep, bypass, delete = (messages.browse() for _i in range(3))
        for message in messages:
            pid = (
                message.res_id
                if message.model == "res.partner" and message.res_id in counts
                else message.author_id.id
            )
            protected = pid in audited and message.account_audit_log_activated
            if protected and holds.get(pid):
                keep |= message
                counts[pid]["mail.message (kept, audit trail)"] += 1
                continue
            counts[pid]["mail.message"] += 1
            if protected:
                bypass |= message
            else:
                delete |= message
        delete.unlink()
        # The fiscal term has ended: the audit trail no longer needs these.
        bypass.with_context(bypass_audit=audit_bypass_token).unlink()
        self.env["mail.followers"].sudo().search(
            [("partner_id", "in", self.ids)]
        ).unlink()
        self.env["mail.notification"].sudo().search(
            [("res_partner_id", "in", self.ids)]
        ).unlink()
        return counts

    @api.model
    def _avg_free_text_fields(self):
        """Every text field of a contact a user can fill in (from the registry):
        the anonymisation empties them all but the fiscal minimum."""
        return [
            name
            for name, field in self._fields.items()
            if field.type in ("char", "text", "html")
            and field.store
            and (not field.compute or not field.readonly)
            and not field.related
            and name not in models.MAGIC_COLUMNS
            and name not in FISCAL_MINIMUM
        ]

    def _avg_anonymise(self, keep_invoice_data):
        """Anonymise in place (same id: posted, hashed entries keep pointing here).

        While the fiscal term runs only the name and the address stay (what an
        invoice legally needs); afterwards those go too."""
        partners = self.sudo().with_context(tracking_disable=True, active_test=False)
        vals = dict.fromkeys(self._avg_free_text_fields(), False)
        vals |= {
            "email": False,
            "phone": False,
            "mobile": False,
            "website": False,
            "function": False,
            "comment": False,
            "coaching_birthdate_stored": False,
            "coaching_employer_stored": False,
            "company_name": False,
            "ref": False,
            "avg_legal_hold_reason": False,
            "image_1920": False,
            "title": False,
            "category_id": [(5, 0, 0)],
            "is_coaching_client": False,
            "avg_last_contact_stored": False,
            "active": False,
        }
        if not keep_invoice_data:
            vals.update(
                dict.fromkeys(
                    ("street", "street2", "zip", "city", "state_id", "vat", "ref"),
                    False,
                )
                | {"avg_fiscal_hold_until": False}
            )
        users = partners.user_ids
        if users:
            # In SQL: through the ORM, Odoo would mail "Login changed" to the
            # address being erased.
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "UPDATE res_users SET active = false, login = 'erased-' || id, "
                    "signature = NULL WHERE id IN %s",
                    tuple(users.ids),
                )
            )
            users.invalidate_recordset(["active", "login", "signature"])
        # active_test: Odoo refuses to archive a contact of a user it still sees.
        partners.with_context(active_test=True)._avg_write_emptied(vals)
        for partner in partners:
            label = _("Anonymised client %(id)s", id=partner.id)
            if not keep_invoice_data:
                partner.name = label
            partner.child_ids.filtered(lambda c: not c.user_ids).write(
                {
                    "active": False,
                    "email": False,
                    "phone": False,
                    "mobile": False,
                    "name": label,
                }
            )
        # The name on her invoices follows the anonymised contact: the fiscal
        # minimum while the term runs (without a company name), nothing after.
        moves = (
            self.env["account.move"].sudo().search([("partner_id", "in", partners.ids)])
        )
        if moves:
            self.env.add_to_compute(
                moves._fields["invoice_partner_display_name"], moves
            )
            moves.flush_recordset(["invoice_partner_display_name"])
        for bank in partners.bank_ids:
            try:
                with self.env.cr.savepoint():
                    bank.unlink()
            except Exception:  # noqa: BLE001 - referenced by a payment: kept
                _logger.info("Bank account %s is in use by a payment: kept", bank.id)
        return {"res.partner (anonymised)": 1}

    def action_avg_new_dossier(self):
        """Step 1 of the first-client flow done: a new dossier for this client,
        which shows the next steps in their lawful order."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("New dossier"),
            "res_model": "coaching.dossier",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {"default_client_id": self.id},
        }

    def action_avg_send_client_information(self):
        """Send the privacy information (art. 13) to this client; the retention
        term agreed on her most recent dossier is included when there is one."""
        self.ensure_one()
        dossier = self.env["coaching.dossier"]
        if self.env.user.has_group("avg_coaching.group_avg_coach"):
            dossier = dossier.search([("client_id", "=", self.id)], limit=1)
        self.env["avg.information.notice"]._avg_send(self, dossier or None)
        return self.env["avg.information.notice"]._avg_sent_notification(self)
