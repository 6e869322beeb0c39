"""Parsing of the two request forms, as Odoo's own portal controllers check
their input (``account/controllers/portal.py``): the portal form of a logged-in
client and the public form. Each turns what was posted into checked values, or
raises UserError with a message for the person who sent it. The workflow (what
happens to a request once filed) stays in ``avg.request``; the sealed link of
the public form is ``services/tokens.py``.
"""

from odoo import _, tools
from odoo.exceptions import UserError

from ..models.avg_request import (
    PUBLIC_TOKEN_HOURS,
    PUBLIC_TYPES,
    RECTIFIABLE,
    REQUEST_TYPES,
    RESTRICTION_GROUNDS,
    TEXT_LIMIT,
)
from ..services import tokens


def clean_text(value):
    """A posted text, stripped, or False; UserError when it is too long."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    if len(value) > TEXT_LIMIT:
        raise UserError(
            _(
                "Your text is too long: keep it under %(limit)s characters.",
                limit=TEXT_LIMIT,
            )
        )
    return value or False


def portal_request_values(env, partner, post):
    """Checked values of a request the logged-in client files about herself
    (``partner``), for ``avg.request._avg_portal_create``."""
    kind = post.get("request_type")
    if kind not in dict(REQUEST_TYPES):
        raise UserError(_("Choose what you want to ask for."))
    vals = {
        "partner_id": partner.id,
        "request_type": kind,
        "description": clean_text(post.get("description")),
    }
    if kind == "restriction":
        ground = post.get("restriction_ground")
        if ground not in dict(RESTRICTION_GROUNDS):
            raise UserError(
                _("Choose on which of the four grounds you ask for restriction.")
            )
        vals["restriction_ground"] = ground
    elif kind == "rectification":
        field = post.get("rectification_field") or "other"
        if field not in dict(RECTIFIABLE):
            field = "other"
        wrong = clean_text(post.get("rectification_wrong"))
        correct = clean_text(post.get("rectification_correct"))
        if not (wrong and correct):
            raise UserError(_("Say what is wrong and what it should be."))
        vals.update(
            rectification_field=field,
            rectification_wrong=wrong,
            rectification_correct=correct,
        )
    elif kind == "withdrawal":
        try:
            consent_id = int(post.get("consent_id") or 0)
        except (TypeError, ValueError):
            consent_id = 0
        # sudo() to find it, then checked to be hers.
        consent = env["avg.consent"].sudo().browse(consent_id).exists()
        if not consent or consent.partner_id != partner:
            raise UserError(_("Choose one of your own consents to withdraw."))
        vals["consent_id"] = consent.id
    return vals


def public_request_payload(post):
    """The checked request of the public form: what its link will carry."""
    name = clean_text(post.get("name"))
    email = tools.email_normalize(post.get("email") or "")
    kind = post.get("request_type")
    if not name or not email:
        raise UserError(_("Fill in your name and a valid e-mail address."))
    if kind not in PUBLIC_TYPES:
        raise UserError(_("Choose what you want to ask for."))
    payload = {
        "name": name,
        "email": email,
        "type": kind,
        "description": clean_text(post.get("description")),
    }
    if kind == "rectification" and not payload["description"]:
        raise UserError(_("Say what is wrong and what it should be."))
    return payload


def seal_public_request(env, payload):
    """The confirmation token carrying the request itself, encrypted: nothing is
    stored until the person confirms through the link sent to the address.
    Returns ``(token, payload)``."""
    master = env["avg.data.key"]._avg_current_master()
    return tokens.seal(master, payload, PUBLIC_TOKEN_HOURS)


def open_public_request(env, token):
    """The request a valid, unexpired confirmation token carries, or None."""
    try:
        master = env["avg.data.key"]._avg_current_master()
    except UserError:
        return None
    return tokens.unseal(master, token)
