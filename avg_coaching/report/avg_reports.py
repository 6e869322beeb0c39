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

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

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


class ReportAvgAccessExport(models.AbstractModel):
    """Everything held about a person (art. 15), for the person herself, her
    coach, or the privacy manager carrying out her access request: the gate
    decides, whatever the caller's sudo()."""

    _name = "report.avg_coaching.avg_access_export_report"
    _inherit = "avg.gated.report"
    _description = "Access export report"

    @api.model
    def _get_report_values(self, docids, data=None):
        # Her own export reaches her only protected (the portal's download).
        self._avg_check_not_portal()
        partners = self.env["res.partner"].sudo().browse(docids).exists()
        collector = self.env["avg.subject.data"].with_context(avg_access_action="print")
        collected = {}
        for partner in partners:
            self.env["avg.access.gate"]._avg_authorize_subject(partner, "print")
            collected[partner.id] = collector._avg_collect(partner)
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "collected": collected,
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
            activities = activities_model.search([("company_id", "=", company.id)])
            # In the client's language; with the shorter term agreed with her.
            stored = doc.sudo()
            dossier = doc._name == "coaching.dossier"
            lang = (stored.client_id if dossier else stored.partner_id).lang
            agreed = stored.retention_years
            registers[doc.id] = {
                "activities": activities,
                "fingerprint": activities_model._avg_register_fingerprint(company)[0],
                "retention": {
                    activity.id: activity.with_context(
                        lang=lang or self.env.lang
                    )._avg_retention_text(agreed)
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
