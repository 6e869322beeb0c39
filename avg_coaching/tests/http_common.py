"""What the HTTP tests share: logging in as a user who has two-factor login on,
JSON-RPC calls as the web client makes them, and (AvgPortalCase) the coach,
consents and dossiers the portal tests start from."""

import json

from odoo import http
from odoo.service import security
from odoo.tests import HttpCase, new_test_user

from .common import COACH, new_consent, new_dossier


class AvgHttpCase(HttpCase):
    # Stored content is read back as maintenance does (see common.py).
    avg_read_as_maintenance = False
    # A fresh install's rule: dossier content only after a two-factor login.
    avg_two_factor_required = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.avg_read_as_maintenance:
            cls.env = cls.env(
                context=dict(cls.env.context, avg_access_system="maintenance")
            )
        if cls.avg_two_factor_required:
            cls.env["ir.config_parameter"].set_param(
                "avg_coaching.two_factor_optional", False
            )

    @classmethod
    def avg_new_coach(cls, login, **kw):
        return new_test_user(cls.env, login, groups=f"base.group_user,{COACH}", **kw)

    def avg_login(self, user, password, two_factor=True):
        """Log ``user`` in over HTTP. With ``two_factor``: the session a two-factor
        login ends with (/web/login/totp). HttpCase.authenticate() cannot type the
        code, so it logs in without the authenticator, then puts it back and binds
        the session to it as Odoo does. Without: the user is left without her
        authenticator (as one who never set it up)."""
        secret = user.sudo().totp_secret
        user.sudo().totp_secret = False
        self.authenticate(user.login, password)
        if secret and two_factor:
            user.sudo().totp_secret = secret
            self.session.session_token = security.compute_session_token(
                self.session, self.env(user=user.id)
            )
            http.root.session_store.save(self.session)

    def avg_call_kw(self, model, method, args, kwargs=None):
        """``/web/dataset/call_kw`` over HTTP; the JSON answer as text."""
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": model,
                        "method": method,
                        "args": args,
                        "kwargs": kwargs or {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.text


class AvgPortalCase(AvgHttpCase):
    """The portal over HTTP: made in setUpClass with the helpers below."""

    # False where the test env reads as the superuser without naming a purpose.
    avg_read_as_maintenance = True

    @classmethod
    def avg_consent(cls, partner, purpose="dossier", **extra):
        """A consent given on the signed agreement."""
        extra = dict(
            {"method": "signed_agreement", "text_version": "Overeenkomst v1"}, **extra
        )
        return new_consent(cls.env, partner, purpose, **extra)

    @classmethod
    def avg_dossier(cls, client, coach, notes=None, **vals):
        """A dossier of ``client`` (a partner) with ``coach``; with ``notes``, one
        session on 2026-02-01 with these notes."""
        return new_dossier(cls.env, client, coach, notes, **vals)
