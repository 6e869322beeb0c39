import io
import json
import struct
from contextlib import contextmanager

import pyzipper
from freezegun import freeze_time

from odoo.tests import TransactionCase, new_test_user

COACH = "avg_coaching.group_avg_coach"
ADMINISTRATION = "avg_coaching.group_avg_administration"
PRIVACY = "avg_coaching.group_avg_privacy_manager"
# Nothing listens on port 1: wkhtmltopdf's fetches of web assets are refused at once.
REPORT_URL = "http://127.0.0.1:1"


def new_consent(env, partner, purpose="dossier", **extra):
    """A consent of ``partner`` for ``purpose``, given on a signed form."""
    vals = {
        "partner_id": partner.id,
        "purpose": purpose,
        "method": "signed_form",
        "text_version": "Toestemming v1",
        "date_given": "2026-01-05",
    }
    vals.update(extra)
    return env["avg.consent"].create(vals)


def new_dossier(env, client, coach, notes=None, **vals):
    """A dossier of ``client`` (a partner) with ``coach`` (a user); with
    ``notes``, one session on 2026-02-01 with these notes."""
    dossier = env["coaching.dossier"].create(
        dict(vals, client_id=client.id, coach_id=coach.id)
    )
    if notes:
        env["coaching.session"].create(
            {"dossier_id": dossier.id, "date": "2026-02-01", "notes": notes}
        )
    return dossier


def new_portal_client(env, login, password, **kw):
    """A portal user who is a client of the practice (her own password, to log in
    over HTTP)."""
    user = new_test_user(
        env, login, groups="base.group_portal", password=password, **kw
    )
    # An adult: the practice takes on no minors, and needs the date of birth.
    user.partner_id.write(
        {"is_coaching_client": True, "coaching_birthdate": "1980-01-01"}
    )
    return user


class AvgCoachingCase(TransactionCase):
    """Users of every group and a small fictional practice, made for each test class."""

    def setUp(self):
        super().setUp()
        self._reports_without_web_assets()

    def _reports_without_web_assets(self):
        """wkhtmltopdf fetches a report's CSS and fonts from the report URL. The tests
        read the text of the PDFs, not their looks, so the URL points nowhere (the
        fetch is refused at once), as it did under pytest-odoo, whose HTTP server has
        a port of its own. Under ``odoo-bin --test-enable`` the URL is this Odoo's own
        server: outside a HttpCase the request waits for ``Registry._lock``, which
        the runner holds while the tests run (the test hangs), and with the web fonts
        loaded Debian's wkhtmltopdf (unpatched Qt) draws the text as shapes that
        cannot be read back."""
        Report = type(self.env["ir.actions.report"])
        self.patch(Report, "_get_report_url", lambda report, layout=None: REPORT_URL)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test reads stored content back the way maintenance does in the
        # shell: as the superuser naming its purpose (the read gate allows and
        # logs it). Every refusal is tested as the user concerned (with_user).
        cls.env = cls.env(
            context=dict(
                cls.env.context, tracking_disable=False, avg_access_system="maintenance"
            )
        )
        cls.coach = new_test_user(cls.env, "t_coach", groups=f"base.group_user,{COACH}")
        cls.coach2 = new_test_user(
            cls.env, "t_coach2", groups=f"base.group_user,{COACH}"
        )
        cls.bookkeeper = new_test_user(
            cls.env,
            "t_bookkeeper",
            groups="base.group_user,base.group_partner_manager,base.group_allow_export,"
            f"{ADMINISTRATION}",
        )
        cls.privacy_manager = new_test_user(
            cls.env, "t_privacy", groups=f"base.group_user,{PRIVACY}"
        )
        Partner = cls.env["res.partner"]
        cls.client = Partner.create(
            {
                "name": "Testcliënt Anna Fictief",
                "is_coaching_client": True,
                "email": "anna@client.test",
                "phone": "+31 6 11111111",
                "coaching_birthdate": "1985-06-15",
            }
        )
        cls.client2 = Partner.create(
            {
                "name": "Testcliënt Bert Fictief",
                "is_coaching_client": True,
                "coaching_birthdate": "1990-02-01",
            }
        )
        cls.commissioner = Partner.create(
            {
                "name": "Fictief Werkgever B.V.",
                "is_company": True,
                "is_coaching_commissioner": True,
            }
        )
        # Nothing is recorded in a dossier before the client consented to it.
        cls._consent(cls.client, "dossier")
        cls._consent(cls.client2, "dossier")
        cls.dossier = cls.env["coaching.dossier"].create(
            {
                "client_id": cls.client.id,
                "commissioner_id": cls.commissioner.id,
                "coach_id": cls.coach.id,
                "help_question": "Grenzen aangeven op het werk",
            }
        )
        cls.session = cls.env["coaching.session"].create(
            {"dossier_id": cls.dossier.id, "date": "2026-01-10", "notes": "Intake"}
        )
        cls.dossier2 = cls.env["coaching.dossier"].create(
            {"client_id": cls.client2.id, "coach_id": cls.coach2.id}
        )
        # As after a commit: later writes are tracked as changes, not creations.
        cls.env.flush_all()
        cls.env.cr.precommit.run()

    @classmethod
    def _consent(cls, partner, purpose, **extra):
        return new_consent(cls.env, partner, purpose, **extra)

    @classmethod
    def _inform(cls, dossier, day="2026-01-05"):
        """Record that the dossier's client received the privacy information
        (art. 13; art. 14 with the dossier's commissioner as the source)."""
        return cls.env["avg.information.notice"]._avg_record_given(
            dossier.client_id, dossier, "in_person", day
        )

    @classmethod
    def _ensure_chart_of_accounts(cls):
        """Without demo data no chart of accounts is installed: load the generic one."""
        company = cls.env.company
        if not company.chart_template:
            cls.env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )

    @contextmanager
    def assertRaisesRegex(self, exception, regex, msg=None):
        """Like Odoo's assertRaises: rolls the refused operation back (savepoint)."""
        with self.assertRaises(exception, msg=msg) as caught:
            yield caught
        self.assertRegex(str(caught.exception), regex)

    def flush_tracking(self):
        """Run what a commit would run: tracking messages are made in precommit."""
        self.env.flush_all()
        self.env.cr.precommit.run()


class RetentionCase(AvgCoachingCase):
    """The retention tests' shared set-up: the daily run under frozen time, the
    shipped policies, posted invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.Policy = cls.env["avg.retention.policy"]
        cls.cron = cls.env.ref("avg_coaching.ir_cron_retention_purge")

    def policy(self, code):
        return self.env.ref(f"avg_coaching.retention_policy_{code}")

    def _run_cron(self, day):
        """The daily retention run on ``day``, as the scheduler starts it."""
        with freeze_time(day):
            self.cron.method_direct_trigger()
        self.env.invalidate_all()

    def _invoice(self, partner, day):
        """A posted invoice to ``partner`` dated ``day``."""
        with freeze_time(day):
            move = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "invoice_line_ids": [
                        (0, 0, {"name": "Coachingsessie", "price_unit": 100})
                    ],
                }
            )
            move.action_post()
        return move


DOCUMENT_PASSWORD = "Afgesproken-Wachtwoord-2026!"


def agree_document_password(env, partner, password=DOCUMENT_PASSWORD):
    """The document password a coach agreed with ``partner`` (the portal's
    downloads are protected with it)."""
    return env["coaching.client.secret"].create(
        {"partner_id": partner.id, "password": password}
    )


def open_protected_zip(content, password=DOCUMENT_PASSWORD):
    """{name: bytes} of a zip downloaded from the portal, opened with
    ``password``; fails when it is not AES-256 encrypted or the password is
    wrong."""
    with pyzipper.AESZipFile(io.BytesIO(content)) as archive:
        infos = archive.infolist()
        assert infos and all(info.flag_bits & 0x1 for info in infos), "not encrypted"
        for info in infos:
            # The AES extra field (0x9901): vendor "AE", strength 3 = 256 bits.
            at = info.extra.index(struct.pack("<H", 0x9901))
            assert info.extra[at + 6 : at + 9] == b"AE\x03", "not AES-256"
        archive.setpassword(password.encode())
        return {info.filename: archive.read(info.filename) for info in infos}


def protected_json(content, password=DOCUMENT_PASSWORD):
    """The data of a JSON download from the portal (an AES-256 zip)."""
    return json.loads(open_protected_zip(content, password)["my-data.json"])
