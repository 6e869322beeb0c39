import json

from odoo import _, api, fields, models


class AvgSubjectData(models.AbstractModel):
    """The one collector of everything the practice holds about a person.

    Used by the portal overview, the access export (art. 15) and the portability
    export (art. 20). It reads with sudo(): callers check first that the person
    asking is the data subject (or the coach / privacy manager).
    """

    _name = "avg.subject.data"
    _description = "Everything held about a data subject"

    @api.model
    def _avg_collect(self, partner, session_content=True):
        """Everything held about ``partner``. With ``session_content=False`` (the
        portal overview, which shows only how many sessions there are) sessions
        are listed with their date and duration only: their notes, observations
        and reports are neither fetched nor decrypted."""
        partner = partner.sudo().with_context(active_test=False)
        dossiers = (
            self.env["coaching.dossier"].sudo().search([("client_id", "=", partner.id)])
        )
        consents = (
            self.env["avg.consent"].sudo().search([("partner_id", "=", partner.id)])
        )
        invoices = (
            self.env["account.move"]
            .sudo()
            .search_fetch(
                [
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "=", "posted"),
                ],
                # Only the columns exported, not all 100-odd of account.move.
                [
                    "name",
                    "invoice_date",
                    "amount_total",
                    "currency_id",
                    "payment_state",
                ],
            )
        )
        return {
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
            "controller": self._avg_controller(),
            "contact": {
                "name": partner.name,
                "email": partner.email or None,
                "phone": partner.phone or None,
                "mobile": partner.mobile or None,
                "street": partner.street or None,
                "street2": partner.street2 or None,
                "zip": partner.zip or None,
                "city": partner.city or None,
                "country": partner.country_id.name or None,
                "date_of_birth": fields.Date.to_string(partner.coaching_birthdate)
                or None,
                "employer": partner.coaching_employer or None,
                "legal_hold": partner.avg_legal_hold,
                "processing_restricted": partner.avg_restricted,
            },
            "dossiers": [
                self._avg_dossier(dossier, session_content) for dossier in dossiers
            ],
            "consents": [
                {
                    "purpose": dict(
                        consent._fields["purpose"]._description_selection(self.env)
                    )[consent.purpose],
                    "given_on": fields.Date.to_string(consent.date_given),
                    "how": dict(
                        consent._fields["method"]._description_selection(self.env)
                    )[consent.method],
                    "text_version": consent.text_version,
                    "withdrawn_on": fields.Datetime.to_string(consent.withdrawn_date)
                    or None,
                }
                for consent in consents
            ],
            "invoices": [
                {
                    "number": move.name,
                    "date": fields.Date.to_string(move.invoice_date),
                    "amount": move.amount_total,
                    "currency": move.currency_id.name,
                    "paid": move.payment_state in ("paid", "in_payment"),
                }
                for move in invoices
            ],
            "insurer_disclosures": [
                {
                    "insurer": disclosure.insurer_id.name,
                    "shared_on": fields.Date.to_string(disclosure.date),
                    "what": dict(
                        disclosure._fields["shared"]._description_selection(self.env)
                    )[disclosure.shared]
                    if disclosure.shared
                    else None,
                    "details": disclosure.details or None,
                    "sessions": len(disclosure.session_ids),
                }
                for disclosure in self.env["coaching.insurer.disclosure"]
                .sudo()
                .search([("client_id", "=", partner.id)])
            ],
            "information": self._avg_information(),
        }

    @api.model
    def _avg_dossier(self, dossier, session_content=True):
        def text(value):
            return value or None

        if session_content:
            sessions = [
                {
                    "date": fields.Date.to_string(session.date),
                    "duration_hours": session.duration,
                    "notes": text(session.notes),
                    "observations": text(session.observations),
                    "report": text(session.report),
                }
                for session in dossier.session_ids.sorted("date")
            ]
        else:
            sessions = [
                {
                    "date": fields.Date.to_string(session.date),
                    "duration_hours": session.duration,
                }
                for session in self.env["coaching.session"]
                .sudo()
                .search_fetch(
                    [("dossier_id", "=", dossier.id)],
                    ["date", "duration"],
                    order="date, id desc",
                )
            ]

        return {
            "reference": dossier.name,
            "state": dict(dossier._fields["state"]._description_selection(self.env))[
                dossier.state
            ],
            "start": fields.Date.to_string(dossier.date_start) or None,
            "end": fields.Date.to_string(dossier.date_end) or None,
            "commissioner": dossier.commissioner_id.name or None,
            "coach": dossier.coach_id.name,
            "agreement_signed_on": fields.Date.to_string(dossier.agreement_date)
            or None,
            "content_kept_until": fields.Date.to_string(dossier.retention_due_date)
            or None,
            "help_question": text(dossier.help_question),
            "coaching_goals": text(dossier.coaching_goals),
            "prior_help": dossier.prior_help,
            "prior_help_aim": text(dossier.prior_help_aim),
            "prior_help_result": text(dossier.prior_help_result),
            "medical_treatment": text(dossier.medical_treatment),
            "coach_personal_notes": text(dossier.personal_notes),
            "sessions": sessions,
            "special_categories": [
                {
                    "category": dict(
                        line._fields["category"]._description_selection(self.env)
                    )[line.category],
                    "relation_to_question": text(line.relation_note),
                    "details": text(line.details),
                    "consent_withdrawn": line.state == "withdrawn",
                }
                for line in dossier.special_data_ids
            ],
            "documents": [
                {"name": doc.name, "date": fields.Date.to_string(doc.date) or None}
                for doc in dossier.document_ids
            ],
        }

    @api.model
    def _avg_controller(self):
        company = self.env.company.sudo()
        return {
            "name": company.name,
            "address": company.partner_id._display_address(without_company=True)
            or None,
            "email": company.email or None,
            "phone": company.phone or None,
        }

    @api.model
    def _avg_information(self):
        """Art. 15(1)(a)-(h): purposes, categories, recipients, retention, rights."""
        policies = self.env["avg.retention.policy"].sudo().search([])
        return {
            "purposes_and_retention": [
                {
                    "purpose": policy.name,
                    "retention": _(
                        "%(period)s %(unit)s",
                        period=policy.period,
                        unit=dict(
                            policy._fields["period_unit"]._description_selection(
                                self.env
                            )
                        )[policy.period_unit],
                    ),
                    "legal_basis": policy.legal_basis or None,
                }
                for policy in policies
            ],
            "categories": _(
                "Name, address, date of birth, phone numbers and e-mail addresses; "
                "employer; the coaching dossier (help question, goals, prior help, "
                "medical treatment related to the coaching, session notes and "
                "reports); special categories only with your explicit consent; "
                "invoices."
            ),
            "recipients": _(
                "The bookkeeper (invoices only), the tax authority (invoices, as the "
                "law requires), your health insurer when it reimburses sessions, the "
                "organisation that commissions your coaching (invoices only), and the "
                "ZKM Computer Service for your personal moments, without your name."
            ),
            "source": _("You, or the organisation that commissioned your coaching."),
            "automated_decisions": _(
                "None: no automated decision-making or profiling."
            ),
            "transfers_outside_eu": _("None."),
            "rights": _(
                "Access, rectification, erasure, restriction, objection, portability "
                "and withdrawal of consent, through this portal. You may complain to "
                "the Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)."
            ),
        }

    @api.model
    def _avg_collect_json(self, partner):
        return json.dumps(
            self._avg_collect(partner), ensure_ascii=False, indent=2
        ).encode()
