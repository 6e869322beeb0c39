from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import content_disposition, request

from odoo.addons.portal.controllers.portal import CustomerPortal


class AvgPrivacyPortal(CustomerPortal):
    """/my/privacy: what the practice holds about the client, and her rights.

    The data shown is the logged-in user's own: the collector is called for
    ``request.env.user.partner_id`` only. Consents are read through the portal
    record rule (own consents only) before anything is done with sudo().
    """

    _avg_messages = ("withdrawn", "already_withdrawn")

    def _avg_subject(self):
        partner = request.env.user.partner_id
        if request.env.user._is_public():
            raise AccessError(_("Log in to see your privacy overview."))
        return partner

    @http.route("/my/privacy", type="http", auth="user", website=True)
    def avg_privacy_overview(self, **kw):
        partner = self._avg_subject()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "avg_privacy",
                # The page shows the number of sessions, not their notes.
                "data": request.env["avg.subject.data"]._avg_collect(
                    partner, session_content=False
                ),
                "consents": request.env["avg.consent"].search(
                    [("partner_id", "=", partner.id)]
                ),
                "message": kw.get("message")
                if kw.get("message") in self._avg_messages
                else None,
            }
        )
        return request.render("avg_coaching.portal_my_privacy", values)

    @http.route("/my/privacy/export.json", type="http", auth="user", website=True)
    def avg_privacy_export_json(self, **kw):
        partner = self._avg_subject()
        body = request.env["avg.subject.data"]._avg_collect_json(partner)
        return request.make_response(
            body,
            headers=[
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Disposition", content_disposition("my-data.json")),
                ("Cache-Control", "no-store"),
            ],
        )

    @http.route("/my/privacy/export.pdf", type="http", auth="user", website=True)
    def avg_privacy_export_pdf(self, **kw):
        partner = self._avg_subject()
        # sudo() after the check above: the report is of the user's own partner.
        pdf, _report_type = (
            request.env["ir.actions.report"]
            .sudo()
            ._render_qweb_pdf(
                "avg_coaching.avg_access_export_report_action", [partner.id]
            )
        )
        return request.make_response(
            pdf,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(pdf)),
                ("Content-Disposition", content_disposition("my-data.pdf")),
                ("Cache-Control", "no-store"),
            ],
        )

    @http.route(
        "/my/privacy/consent/<int:consent_id>/withdraw",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def avg_privacy_withdraw_consent(self, consent_id, **kw):
        self._avg_subject()
        consent = request.env["avg.consent"].browse(consent_id)
        try:
            # The portal rule lets a client read only her own consents.
            consent.check_access("read")
            if not consent.exists():
                raise MissingError(_("This consent does not exist."))
            consent.sudo().action_withdraw()
        except (AccessError, MissingError):
            return request.redirect("/my")
        except UserError:
            return request.redirect("/my/privacy?message=already_withdrawn")
        return request.redirect("/my/privacy?message=withdrawn")
