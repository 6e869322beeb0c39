# Seed of the portal benchmark (bench/portal runs it inside odoo-bin shell: `env`).
# Every client is heavy (the honest worst case: each of the 20 concurrent sessions asks
# for a client with the full load): AVG_BENCH_CLIENTS portal users bench_portal_NN
# (password bench-portal-NN), each with one dossier of AVG_BENCH_SESSIONS sessions
# (notes, observations and report encrypted through the ORM, as the coach writes them),
# AVG_BENCH_INVOICES posted customer invoices of four session lines, and two consents.
# Idempotent: what exists is counted and only the missing part is made.
import os
import random
from datetime import date, timedelta

from odoo import Command

CLIENTS = int(os.environ.get("AVG_BENCH_CLIENTS", "20"))
SESSIONS = int(os.environ.get("AVG_BENCH_SESSIONS", "200"))
INVOICES = int(os.environ.get("AVG_BENCH_INVOICES", "50"))
START = date(2021, 1, 4)

env = env(context=dict(env.context, tracking_disable=True))  # noqa: F821
rng = random.Random(6)

SENTENCES = [
    "De cliënt vertelde dat de werkdruk deze week weer hoog was.",
    "We hebben geoefend met grenzen aangeven in het teamoverleg.",
    "Zij merkt dat ze 's avonds moeilijk loskomt van haar werk.",
    "Het gesprek met de leidinggevende is voorbereid met een rollenspel.",
    "Huiswerk: drie keer per dag een korte ademhalingsoefening doen.",
    "De slaap is verbeterd sinds zij haar telefoon uit de slaapkamer houdt.",
    "Terugval besproken: wat waren de signalen en wat hielp toen wel?",
    "Hij wil vóór de zomer een besluit nemen over een andere functie.",
    "Waardenkaart ingevuld: autonomie en verbinding staan bovenaan.",
    "De cliënt gaf aan dat de vorige sessie veel inzicht heeft gegeven.",
    "Reflectie op het verzuim: geleidelijke opbouw naar vier dagen per week.",
    "Afgesproken om de voortgang over drie sessies samen te evalueren.",
]


def text(sentences):
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


company = env.company
if not company.chart_template:
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
product = env.ref("avg_coaching.product_coaching_session")
coach = env["res.users"].search([("login", "=", "bench_coach")])
if not coach:
    coach = env["res.users"].create(
        {
            "name": "Benchcoach Fictief",
            "login": "bench_coach",
            "password": "bench_coach",
            "groups_id": [
                Command.set(
                    [
                        env.ref("base.group_user").id,
                        env.ref("avg_coaching.group_avg_coach").id,
                    ]
                )
            ],
        }
    )
portal_group = env.ref("base.group_portal")
made = {"users": 0, "sessions": 0, "invoices": 0}
for number in range(1, CLIENTS + 1):
    login = f"bench_portal_{number:02d}"
    user = env["res.users"].search([("login", "=", login)])
    if not user:
        user = env["res.users"].create(
            {
                "name": f"Benchcliënt {number:02d} Fictief",
                "login": login,
                "password": f"bench-portal-{number:02d}",
                "groups_id": [Command.set([portal_group.id])],
            }
        )
        made["users"] += 1
    client = user.partner_id
    client.write(
        {
            "is_coaching_client": True,
            "email": f"{login}@client.test",
            "city": "Utrecht",
            "coaching_birthdate": date(1970 + number, 3, number),
        }
    )
    consents = env["avg.consent"].search([("partner_id", "=", client.id)])
    for purpose in {"dossier", "special_health"} - set(consents.mapped("purpose")):
        env["avg.consent"].create(
            {
                "partner_id": client.id,
                "purpose": purpose,
                # A special-category consent is its own act (art. 7(2)).
                "method": "signed_agreement" if purpose == "dossier" else "signed_form",
                "text_version": "Overeenkomst v3",
                "date_given": START,
            }
        )
    dossier = env["coaching.dossier"].search([("client_id", "=", client.id)], limit=1)
    if not dossier:
        dossier = env["coaching.dossier"].create(
            {
                "client_id": client.id,
                "coach_id": coach.id,
                "date_start": START,
                "agreement_date": START,
                "help_question": text(4),
                "coaching_goals": text(3),
                "personal_notes": text(2),
            }
        )
    have = len(dossier.session_ids)
    if have < SESSIONS:
        env["coaching.session"].create(
            [
                {
                    "dossier_id": dossier.id,
                    "date": START + timedelta(days=7 * index),
                    "duration": rng.choice((1.0, 1.0, 1.5)),
                    "notes": text(10),  # ~600 characters
                    "observations": text(4),
                    "report": text(6),
                }
                for index in range(have, SESSIONS)
            ]
        )
        made["sessions"] += SESSIONS - have
    invoices = env["account.move"].search_count(
        [
            ("partner_id", "=", client.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
        ]
    )
    if invoices < INVOICES:
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": client.id,
                    "invoice_date": START + timedelta(days=28 * index + 27),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": f"Coachingtraject {dossier.name} – sessie",
                                "quantity": 1,
                                "price_unit": 95,
                            }
                        )
                        for _line in range(4)
                    ],
                }
                for index in range(invoices, INVOICES)
            ]
        )
        moves.action_post()
        made["invoices"] += len(moves)
    env.cr.commit()
print(
    f"seed: {CLIENTS} portal clients x {SESSIONS} sessions, {INVOICES} posted invoices;"
    f" made now: {made['users']} users, {made['sessions']} sessions,"
    f" {made['invoices']} invoices"
)
