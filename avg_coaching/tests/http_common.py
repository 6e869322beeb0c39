"""What the HTTP tests of the read gate share: logging in as a user who has
two-factor login on, and JSON-RPC calls as the web client makes them."""

import json

from odoo import http
from odoo.service import security
from odoo.tests import HttpCase


class AvgHttpCase(HttpCase):
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
