"""A fictional client with something on every portal page of the addon: a running
ZKM trajectory with a session and a personal moment, consents (one for health
data), a request, an access-log entry and an agreed document password. Shared
by the 390-pixel test, the client's tour and the screenshots."""

from odoo.tests import new_test_user

from .common import new_portal_client

CLIENT_LOGIN = "mobile_client"
CLIENT_PASSWORD = "mobile-client-pw"
DOCUMENT_PASSWORD = "Mobiel-Wachtwoord-2026!"
HELP_QUESTION = "Na een drukke periode op het werk wil ik weer rust vinden."


def make_portal_client(env):
    """The client (a portal user) and her coach, with data on every page."""
    coach = new_test_user(
        env,
        "mobile_coach",
        groups="base.group_user,avg_coaching.group_avg_coach",
        name="Coach Fictief",
    )
    client = new_portal_client(
        env,
        CLIENT_LOGIN,
        CLIENT_PASSWORD,
        # Long words: they are what pushes a phone page sideways.
        name="Wilhelmina Voorbeeld-Testmansdochter",
        email="wilhelmina.voorbeeld-testmansdochter@client.test",
    )
    partner = client.partner_id
    consents = env["avg.consent"]
    for purpose in ("dossier", "special_health"):
        consents |= env["avg.consent"].create(
            {
                "partner_id": partner.id,
                "purpose": purpose,
                "method": "signed_form",
                "text_version": "Toestemmingsformulier-versie-2026-01",
                "date_given": "2026-01-05",
            }
        )
    dossier = env["coaching.dossier"].create(
        {
            "client_id": partner.id,
            "coach_id": coach.id,
            "name": "TRJ-2026-0001",
            "state": "active",
            "date_start": "2026-01-12",
            "help_question": HELP_QUESTION,
            "coaching_goals": "Grenzen aangeven op het werk; een vaste weekstructuur "
            "met tijd voor herstel.",
            "medical_treatment": "Slaapmedicatie via de huisarts, sinds maart.",
        }
    )
    env["coaching.session"].create(
        {"dossier_id": dossier.id, "date": "2026-02-01", "notes": "Intakegesprek."}
    )
    moment = env["coaching.moment"].create(
        {"dossier_id": dossier.id, "text": "Een moment waarop ik mijn grens aangaf."}
    )
    avg_request = (
        env["avg.request"]
        .sudo()
        ._avg_portal_create(
            {
                "partner_id": partner.id,
                "request_type": "objection",
                "description": "Geen nieuwsbrieven meer",
            }
        )
    )
    env["coaching.client.secret"].create(
        {"partner_id": partner.id, "password": DOCUMENT_PASSWORD}
    )
    # Her coach reads the dossier: an entry in her access log. (Two-factor login
    # is what a coach needs over HTTP; here she reads in the test's transaction.)
    env["ir.config_parameter"].set_param("avg_coaching.two_factor_optional", "True")
    as_coach = dossier.with_user(coach).with_context(avg_access_system=False)
    as_coach.invalidate_recordset()
    if as_coach.help_question != HELP_QUESTION:
        raise AssertionError("the fixture's dossier content was not read back")
    return {
        "coach": coach,
        "client": client,
        "consents": consents,
        "dossier": dossier,
        "moment": moment,
        "request": avg_request,
    }
