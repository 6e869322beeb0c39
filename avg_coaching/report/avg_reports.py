"""Report models of every PDF the addon prints.

Odoo's generic route ``/report/<converter>/<report>/<ids>`` renders any report for
any ids it is given; the groups on a report action only hide its menu entry. So
every report of the addon has a model here that checks, before anything is
rendered, that the user may read the records (access rights and record rules),
and every report that shows dossier content asks the one read gate, which logs
the print. A portal user gets no report through that route at all: what is
shared with a client goes in documents protected with her password (seed 004
§2), which the portal's protected download renders with ``PROTECTED_EXPORT``.
"""

from odoo import _, _lt, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools.misc import format_date, format_datetime, formatLang

# The context value (key ``avg_protected_export``) with which the portal's
# protected download renders her access export before encrypting it. An object,
# not a flag: the generic route's ``context`` parameter (JSON) cannot forge it.
PROTECTED_EXPORT = object()


class AvgGatedReport(models.AbstractModel):
    """What every report of the addon does first: read its records as the user."""

    _name = "avg.gated.report"
    _description = "Report whose records are checked before rendering"

    _doc_model = None
    # True for a report that prints dossier content: the read gate decides and
    # logs the print.
    _avg_prints_content = False

    @api.model
    def _avg_check_not_portal(self):
        """A portal (or public) user is refused unless the rendering is the
        portal's protected download: through ``/report/<converter>/...`` the
        PDF, HTML or text would reach her unprotected."""
        if (
            self.env.user.share
            and self.env.context.get("avg_protected_export") is not PROTECTED_EXPORT
        ):
            raise AccessError(
                _(
                    "Your data are handed to you only in a document protected with "
                    "the password agreed with your coach: download them on the "
                    "privacy page of your portal account (/my/privacy)."
                )
            )

    @api.model
    def _avg_docs(self, docids):
        self._avg_check_not_portal()
        docs = self.env[self._doc_model].browse(docids).exists()
        # As the real user, even when rendering was started with sudo(): the
        # rules of the records decide, not the caller.
        docs.sudo(False).check_access("read")
        if self._avg_prints_content:
            docs = docs.with_context(avg_access_action="print")
            for content in self._avg_content(docs):
                self.env["avg.access.gate"]._avg_authorize(content, "print")
        return docs

    @api.model
    def _avg_content(self, docs):
        """The records of dossier content the report prints."""
        return [docs]

    @api.model
    def _get_report_values(self, docids, data=None):
        docs = self._avg_docs(docids)
        return {"doc_ids": docs.ids, "doc_model": self._doc_model, "docs": docs}


class ReportCoachingDossier(models.AbstractModel):
    _name = "report.avg_coaching.coaching_dossier_report"
    _inherit = "avg.gated.report"
    _description = "Dossier report"

    _doc_model = "coaching.dossier"
    _avg_prints_content = True

    @api.model
    def _avg_content(self, docs):
        return [docs, docs.session_ids.with_context(avg_access_action="print")]


class ReportCoachingSession(models.AbstractModel):
    _name = "report.avg_coaching.coaching_session_report"
    _inherit = "avg.gated.report"
    _description = "Session report"

    _doc_model = "coaching.session"
    _avg_prints_content = True


# The collector's keys (avg.subject.data) and the field each one is read from:
# the access export labels them with the field's string, in the reader's
# language, and formats their values by the field's type. A key missing here is
# printed as it is, and test_report_pdfs fails until someone adds it.
EXPORT_FIELDS = {
    "contact": (
        "res.partner",
        {
            "name": "name",
            "email": "email",
            "phone": "phone",
            "mobile": "mobile",
            "street": "street",
            "street2": "street2",
            "zip": "zip",
            "city": "city",
            "country": "country_id",
            "date_of_birth": "coaching_birthdate",
            "employer": "coaching_employer",
            "legal_hold": "avg_legal_hold",
            "processing_restricted": "avg_restricted",
        },
    ),
    "dossiers": (
        "coaching.dossier",
        {
            "reference": "name",
            "state": "state",
            "start": "date_start",
            "end": "date_end",
            "commissioner": "commissioner_id",
            "coach": "coach_id",
            "agreement_signed_on": "agreement_date",
            "content_kept_until": "retention_due_date",
            "help_question": "help_question",
            "coaching_goals": "coaching_goals",
            "prior_help": "prior_help",
            "prior_help_aim": "prior_help_aim",
            "prior_help_result": "prior_help_result",
            "medical_treatment": "medical_treatment",
            "coach_personal_notes": "personal_notes",
        },
    ),
    "sessions": (
        "coaching.session",
        {
            "date": "date",
            "duration_hours": "duration",
            "notes": "notes",
            "observations": "observations",
            "report": "report",
        },
    ),
    "special_categories": (
        "coaching.special.data",
        {
            "category": "category",
            "relation_to_question": "relation_note",
            "details": "details",
            "consent_withdrawn": None,
        },
    ),
    "documents": ("coaching.document", {"name": "name", "date": "date"}),
    "personal_moments": (
        "coaching.moment",
        {
            "order": "sequence",
            "formulated_on": "date",
            "written_by": "author",
            "text": "text",
        },
    ),
    "zkm_transfers": (
        "coaching.moment.transfer",
        {
            "client_code": "client_code",
            "moments": "moment_count",
            "exported_on": "export_date",
            "processed_on": "date_processed",
            "local_copy_deleted_on": "copy_purged_date",
            "deleted_at_zkm_on": "deletion_confirmed_date",
        },
    ),
    "consents": (
        "avg.consent",
        {
            "purpose": "purpose",
            "given_on": "date_given",
            "how": "method",
            "text_version": "text_version",
            "withdrawn_on": "withdrawn_date",
        },
    ),
    "invoices": (
        "account.move",
        {
            "number": "name",
            "date": "invoice_date",
            "amount": "amount_total",
            "currency": "currency_id",
            "paid": None,
        },
    ),
    "insurer_disclosures": (
        "coaching.insurer.disclosure",
        {
            "insurer": "insurer_id",
            "shared_on": "date",
            "what": "shared",
            "details": "details",
            "sessions": "session_ids",
        },
    ),
    "requests": (
        "avg.request",
        {
            "reference": "name",
            "request": "request_type",
            "received_on": "date_received",
            "answer_due": "date_due",
            "status": "state",
            "what_was_done": "resolution",
            "refusal_reason": "refusal_reason",
        },
    ),
    "access_log": (
        "avg.access.log",
        {
            "date": "date",
            "who": "user_id",
            "what": "kind",
            "records": "record_count",
            "action": "action",
            "purpose": "purpose",
            "reference": "purpose_ref",
        },
    ),
}
# Keys shown without a field of their own: label in the reader's language.
EXPORT_LABELS = {
    "consent_withdrawn": _lt("Consent withdrawn"),
    "paid": _lt("Paid"),
}
# Lists inside a dossier, printed as tables of their own.
DOSSIER_TABLES = (
    "sessions",
    "special_categories",
    "personal_moments",
    "zkm_transfers",
    "documents",
)


class ReportAvgAccessExport(models.AbstractModel):
    """Everything held about a person (art. 15), for the person herself, her
    coach, or the privacy manager carrying out her access request: the gate
    decides, whatever the caller's sudo(). In her language: the collector's keys
    become the labels of their fields, values are formatted for her."""

    _name = "report.avg_coaching.avg_access_export_report"
    _inherit = "avg.gated.report"
    _description = "Access export report"

    @api.model
    def _get_report_values(self, docids, data=None):
        # Her own export reaches her only protected (the portal's download).
        self._avg_check_not_portal()
        partners = self.env["res.partner"].sudo().browse(docids).exists()
        collected = {}
        export = {}
        for partner in partners:
            self.env["avg.access.gate"]._avg_authorize_subject(partner, "print")
            reader = self.with_context(lang=partner.lang or self.env.lang)
            collected[partner.id] = (
                reader.env["avg.subject.data"]
                .with_context(avg_access_action="print")
                ._avg_collect(partner)
            )
            export[partner.id] = reader._avg_export_layout(
                partner, collected[partner.id]
            )
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "collected": collected,
            "export": export,
        }

    @api.model
    def _avg_label(self, section, key):
        """The label of a collector key: its field's string (translated), or
        the key itself when nobody has said which field it comes from."""
        model, names = EXPORT_FIELDS.get(section, (None, {}))
        name = names.get(key)
        if model and name and name in self.env[model]._fields:
            return self.env[model]._fields[name]._description_string(self.env)
        if key in EXPORT_LABELS:
            return str(EXPORT_LABELS[key])
        return key

    @api.model
    def _avg_value(self, section, key, value, tz):
        """A collected value as the reader reads it."""
        if value is None or value == "":
            return "-"
        if isinstance(value, bool):
            return self.env._("Yes") if value else self.env._("No")
        model, names = EXPORT_FIELDS.get(section, (None, {}))
        name = names.get(key)
        field = self.env[model]._fields.get(name) if model and name else None
        if field is not None and field.type == "date":
            return format_date(self.env, value)
        if field is not None and field.type == "datetime":
            return format_datetime(self.env, value, tz=tz)
        if isinstance(value, float):
            return formatLang(self.env, value, digits=2)
        return str(value)

    @api.model
    def _avg_rows(self, section, item, tz, skip=()):
        return [
            (self._avg_label(section, key), self._avg_value(section, key, value, tz))
            for key, value in item.items()
            if key not in skip
        ]

    @api.model
    def _avg_table(self, section, items, tz):
        if not items:
            return None
        keys = list(items[0])
        return {
            "headers": [self._avg_label(section, key) for key in keys],
            "rows": [
                [self._avg_value(section, key, item.get(key), tz) for key in keys]
                for item in items
            ],
        }

    @api.model
    def _avg_export_layout(self, partner, data):
        """What the PDF prints of ``data``, labelled and formatted for the reader."""
        tz = partner.tz or self.env.user.tz or "Europe/Amsterdam"
        return {
            "generated_at": format_datetime(self.env, data["generated_at"], tz=tz),
            "contact": self._avg_rows("contact", data["contact"], tz),
            "dossiers": [
                {
                    "reference": dossier["reference"],
                    "rows": self._avg_rows(
                        "dossiers", dossier, tz, skip=("reference", *DOSSIER_TABLES)
                    ),
                    **{
                        name: self._avg_table(name, dossier[name], tz)
                        for name in DOSSIER_TABLES
                    },
                }
                for dossier in data["dossiers"]
            ],
            **{
                name: self._avg_table(name, data[name], tz)
                for name in (
                    "consents",
                    "invoices",
                    "insurer_disclosures",
                    "requests",
                    "access_log",
                )
            },
        }


class ReportAvgClientInformation(models.AbstractModel):
    """Shared values of the art. 13 information: the register as it is now."""

    _name = "report.avg_coaching.report_avg_information_notice"
    _inherit = "avg.gated.report"
    _description = "Privacy information report"

    _doc_model = "avg.information.notice"

    @api.model
    def _get_report_values(self, docids, data=None):
        values = super()._get_report_values(docids, data=data)
        activities_model = self.env["avg.processing.activity"]
        registers = {}
        for doc in values["docs"]:
            company = doc.company_id
            # In the client's language, the register's own texts too (read in
            # the printing user's language they mixed with the template's);
            # with the shorter term agreed with her.
            stored = doc.sudo()
            dossier = doc._name == "coaching.dossier"
            lang = (stored.client_id if dossier else stored.partner_id).lang
            activities = activities_model.with_context(
                lang=lang or self.env.lang
            ).search([("company_id", "=", company.id)])
            agreed = stored.retention_years
            registers[doc.id] = {
                "activities": activities,
                "fingerprint": activities_model._avg_register_fingerprint(company)[0],
                "retention": {
                    activity.id: activity._avg_retention_text(agreed)
                    for activity in activities
                },
            }
        values.update(registers=registers, fingerprint=False)
        return values


class ReportCoachingDossierClientInformation(models.AbstractModel):
    _name = "report.avg_coaching.report_coaching_dossier_client_information"
    _inherit = "report.avg_coaching.report_avg_information_notice"
    _description = "Privacy information report (dossier)"

    _doc_model = "coaching.dossier"


class ReportAvgRegister(models.AbstractModel):
    _name = "report.avg_coaching.report_avg_register"
    _inherit = "avg.gated.report"
    _description = "Processing register report"

    _doc_model = "avg.processing.activity"

    @api.model
    def _get_report_values(self, docids, data=None):
        values = super()._get_report_values(docids, data=data)
        docs = values["docs"]
        company = docs[:1].company_id or self.env.company
        domain = [("company_id", "=", company.id)]
        values.update(
            agreements=self.env["avg.processor.agreement"].search(domain),
            breaches=self.env["avg.breach"].search(domain),
            fingerprint=docs._avg_register_fingerprint(company)[0],
            today=fields.Date.to_string(fields.Date.context_today(self)),
        )
        return values


class ReportAvgBreach(models.AbstractModel):
    _name = "report.avg_coaching.report_avg_breach"
    _inherit = "avg.gated.report"
    _description = "Data breach report"

    _doc_model = "avg.breach"
