import logging
from datetime import timedelta

from werkzeug.urls import url_encode

from odoo import _, fields, http, tools
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import content_disposition, request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.avg_request import PUBLIC_TYPES
from ..services import settings, tokens
from . import request_forms, routes

_logger = logging.getLogger(__name__)

# Public form: submissions per hour from one network address / for one e-mail
# (system parameters avg_coaching.public_request_limit_ip / _email).
PUBLIC_LIMIT_IP = 5
PUBLIC_LIMIT_EMAIL = 3


def _limit(name, default):
    return settings.get_int(
        request.env, f"avg_coaching.public_request_limit_{name}", default, minimum=1
    )


def _selection(model, fname, keep=None):
    """The choices of a selection field as (value, label) in the reader's
    language (the template never prints the Python constants), kept to the
    values in ``keep`` when given."""
    env = request.env
    return [
        (value, label)
        for value, label in env[model]._fields[fname]._description_selection(env)
        if keep is None or value in keep
    ]


class AvgPrivacyPortal(CustomerPortal):
    """/my/privacy: what the practice holds about the client, and her rights.

    The data shown is the logged-in user's own: the collector is called for
    ``request.env.user.partner_id`` only. Consents are read through the portal
    record rule (own consents only) before anything is done with sudo().
    """

    _avg_messages = ("withdrawn", "already_withdrawn", "request_filed", "no_password")

    def _avg_subject(self):
        partner = request.env.user.partner_id
        if request.env.user._is_public():
            raise AccessError(_("Log in to see your privacy overview."))
        return partner

    @http.route("/my/privacy", **routes.USER_PAGE)
    def avg_privacy_overview(self, log_from=None, log_to=None, **kw):
        partner = self._avg_subject()
        message = kw.get("message") if kw.get("message") in self._avg_messages else None
        return self._avg_render_overview(
            partner, message=message, log_from=log_from, log_to=log_to
        )

    @staticmethod
    def _avg_parse_day(value):
        """A day from the period filter (YYYY-MM-DD), or None when absent or bad."""
        try:
            return fields.Date.to_date(value) if value else None
        except (TypeError, ValueError):
            return None

    def _avg_access_log(self, partner, log_from, log_to):
        """Her own access log entries in the period, oldest first (sudo() after
        the subject check: they are hers)."""
        domain = [("subject_id", "=", partner.id)]
        day_from, day_to = self._avg_parse_day(log_from), self._avg_parse_day(log_to)
        if day_from:
            domain.append(("date", ">=", day_from))
        if day_to:
            domain.append(("date", "<", day_to + timedelta(days=1)))
        entries = request.env["avg.access.log"].sudo().search(domain, order="date, id")
        return entries, day_from, day_to

    def _avg_render_overview(
        self, partner, message=None, error=None, post=None, log_from=None, log_to=None
    ):
        access_log, day_from, day_to = self._avg_access_log(partner, log_from, log_to)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "avg_privacy",
                # The page shows how many sessions there are, not their notes.
                "data": request.env["avg.subject.data"]._avg_collect(
                    partner, brief=True
                ),
                "consents": request.env["avg.consent"].search(
                    [("partner_id", "=", partner.id)]
                ),
                # The portal rule shows her own requests only.
                "avg_requests": request.env["avg.request"].search([]),
                # In her language: the labels of the fields' selections.
                "request_types": _selection("avg.request", "request_type"),
                "restriction_grounds": _selection("avg.request", "restriction_ground"),
                "message": message,
                "error": error,
                "post": post or {},
                "access_log": access_log,
                "log_from": day_from and fields.Date.to_string(day_from),
                "log_to": day_to and fields.Date.to_string(day_to),
                "has_document_password": request.env[
                    "avg.subject.data"
                ]._avg_has_document_password(partner),
            }
        )
        return request.render(
            "avg_coaching.portal_my_privacy", values, status=400 if error else 200
        )

    @http.route("/my/privacy/request", **routes.USER_POST)
    def avg_privacy_file_request(self, **post):
        partner = self._avg_subject()
        try:
            vals = request_forms.portal_request_values(request.env, partner, post)
            request.env["avg.request"]._avg_portal_create(vals)
        except (UserError, ValidationError) as exc:
            return self._avg_render_overview(partner, error=exc.args[0], post=post)
        return request.redirect("/my/privacy?message=request_filed")

    @http.route("/my/privacy/requests/<int:request_id>", **routes.PUBLIC_PAGE)
    def avg_privacy_request(self, request_id, access_token=None, **kw):
        try:
            record = self._document_check_access(
                "avg.request", request_id, access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._prepare_portal_layout_values()
        values.update({"page_name": "avg_request", "avg_request": record})
        return request.render("avg_coaching.portal_my_privacy_request", values)

    def _avg_protected_download(self, fmt):
        """Her data as a download protected with the password agreed with her
        coach (seed 004 §2); without one, the overview says how to agree one."""
        partner = self._avg_subject()
        collector = request.env["avg.subject.data"]
        if not collector._avg_has_document_password(partner):
            return request.redirect("/my/privacy?message=no_password")
        try:
            body, filename, mimetype = collector._avg_protected_export(partner, fmt)
        except UserError as exc:
            return self._avg_render_overview(partner, error=exc.args[0])
        return request.make_response(
            body,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Length", len(body)),
                ("Content-Disposition", content_disposition(filename)),
                ("Cache-Control", "no-store"),
            ],
        )

    @http.route("/my/privacy/export.csv", **routes.USER_PAGE)
    def avg_privacy_export_csv(self, **kw):
        return self._avg_protected_download("csv")

    @http.route("/my/privacy/export.json", **routes.USER_PAGE)
    def avg_privacy_export_json(self, **kw):
        return self._avg_protected_download("json")

    @http.route("/my/privacy/export.pdf", **routes.USER_PAGE)
    def avg_privacy_export_pdf(self, **kw):
        return self._avg_protected_download("pdf")

    def _avg_own_consent(self, consent_id):
        """Her own consent (the portal rule lets a client read only hers), or
        AccessError/MissingError."""
        self._avg_subject()
        consent = request.env["avg.consent"].browse(consent_id)
        consent.check_access("read")
        if not consent.exists():
            raise MissingError(_("This consent does not exist."))
        return consent

    @http.route("/my/privacy/consent/<int:consent_id>", **routes.USER_GET)
    def avg_privacy_withdraw_confirm(self, consent_id, **kw):
        """The confirmation step before a withdrawal: what it changes."""
        try:
            consent = self._avg_own_consent(consent_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        if consent.state != "given":
            return request.redirect("/my/privacy?message=already_withdrawn")
        policy = (
            request.env["avg.retention.policy"]
            .sudo()
            .search([("code", "=", "special_withdrawn")], limit=1)
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "avg_withdraw",
                "consent": consent,
                "special_term": policy.term_display if policy.active else False,
                "has_dossier": bool(
                    request.env["coaching.dossier"]
                    .sudo()
                    .search_count([("client_id", "=", consent.partner_id.id)], limit=1)
                ),
            }
        )
        return request.render("avg_coaching.portal_my_privacy_withdraw", values)

    @http.route("/my/privacy/consent/<int:consent_id>/withdraw", **routes.USER_POST)
    def avg_privacy_withdraw_consent(self, consent_id, confirm=None, **kw):
        try:
            consent = self._avg_own_consent(consent_id)
            if confirm != "1":
                # Not through the confirmation step: show it first.
                return request.redirect(f"/my/privacy/consent/{consent.id}")
            consent.sudo()._avg_withdraw_by_client()
        except (AccessError, MissingError):
            return request.redirect("/my")
        except UserError:
            return request.redirect("/my/privacy?message=already_withdrawn")
        return request.redirect("/my/privacy?message=withdrawn")


class AvgPublicRequest(http.Controller):
    """The request form for people without a portal account.

    Nothing is stored when the form is sent: the request travels, encrypted, in
    the confirmation link mailed to the address given, and is created only when
    that link is used. Every answer is the same whether or not the address is
    known to the practice.
    """

    def _avg_public_render(self, template, **values):
        values.setdefault(
            "request_types", _selection("avg.request", "request_type", PUBLIC_TYPES)
        )
        return request.render(template, values, status=values.pop("status", 200))

    def _avg_invalid_link(self):
        return self._avg_public_render(
            "avg_coaching.avg_public_request_invalid", status=404
        )

    @http.route("/privacy/request", **routes.PUBLIC_PAGE)
    def avg_public_form(self, **kw):
        return self._avg_public_render("avg_coaching.avg_public_request_form", post={})

    @http.route("/privacy/request/send", **routes.PUBLIC_POST)
    def avg_public_send(self, **post):
        Throttle = request.env["avg.request.throttle"].sudo()
        if not Throttle._avg_hit(
            "ip", request.httprequest.remote_addr, _limit("ip", PUBLIC_LIMIT_IP)
        ):
            return self._avg_public_render(
                "avg_coaching.avg_public_request_form",
                post=post,
                error=_(
                    "Too many requests were sent from your connection. Try again "
                    "in an hour, or write to us."
                ),
                status=429,
            )
        try:
            token, payload = request_forms.seal_public_request(
                request.env, request_forms.public_request_payload(post)
            )
        except (UserError, ValidationError) as exc:
            return self._avg_public_render(
                "avg_coaching.avg_public_request_form",
                post=post,
                error=exc.args[0],
                status=400,
            )
        # The same answer whatever happens next: it never tells whether the
        # address belongs to a client, nor that it was rate-limited.
        if Throttle._avg_hit(
            "email", payload["email"], _limit("email", PUBLIC_LIMIT_EMAIL)
        ):
            base = request.env["ir.config_parameter"].sudo().get_param("web.base.url")
            link = f"{base}/privacy/request/confirm?{url_encode({'token': token})}"
            template = request.env.ref("avg_coaching.mail_template_avg_request_confirm")
            template.sudo().with_context(
                avg_email=payload["email"], avg_link=link
            ).send_mail(
                request.env.company.id, force_send=False, email_layout_xmlid=False
            )
        return self._avg_public_render("avg_coaching.avg_public_request_sent")

    @http.route("/privacy/request/confirm", **routes.PUBLIC_PAGE)
    def avg_public_confirm_page(self, token=None, **kw):
        # A page with a button, not an action on GET: mail scanners open links.
        payload = request_forms.open_public_request(request.env, token)
        if not payload:
            return self._avg_invalid_link()
        return self._avg_public_render(
            "avg_coaching.avg_public_request_confirm", token=token
        )

    @http.route("/privacy/request/confirm", **routes.PUBLIC_POST)
    def avg_public_confirm(self, token=None, **kw):
        payload = request_forms.open_public_request(request.env, token)
        if not payload:
            return self._avg_invalid_link()
        record = (
            request.env["avg.request"]
            .sudo()
            ._avg_public_create(payload, tokens.fingerprint(token))
        )
        return self._avg_public_render(
            "avg_coaching.avg_public_request_received",
            reference=record.name,
            date_due=tools.format_date(request.env, record.date_due),
        )
