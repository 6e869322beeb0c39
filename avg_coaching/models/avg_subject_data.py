import csv
import io
import json
import zipfile

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import escape_psql

from ..report.avg_reports import PROTECTED_EXPORT

# Records that refer to a person but are not data about her to show: security
# material and Odoo's own bookkeeping of who follows or was notified of what
# (privacy_lookup leaves the latter out too).
REFERENCE_SKIP = {
    "avg.data.key",
    "avg.request.throttle",
    "avg.deletion.log",
    "mail.followers",
    "mail.notification",
    "discuss.channel.member",
    "res.partner",
}
EMAIL_FIELDS = ("email_normalized", "email", "email_from", "company_email")


class AvgSubjectData(models.AbstractModel):
    """The one collector of everything the practice holds about a person.

    Used by the portal overview, the access export (art. 15) and the portability
    export (art. 20). It reads with sudo(), after the one read gate said that the
    real user may read everything about this person (she herself, her coach, or
    the privacy manager carrying out her access request), and the gate logs it.
    """

    _name = "avg.subject.data"
    _description = "Everything held about a data subject"

    @api.model
    def _avg_collect(self, partner, brief=False):
        """Everything held about ``partner``. ``brief=True`` is for the portal
        overview, which shows how many sessions there are, not their notes:
        sessions come with their date and duration only (their notes are neither
        fetched nor decrypted) and the list of every Odoo record that refers to
        her is left out. The exports use the whole."""
        action = self.env.context.get("avg_access_action") or (
            "read" if brief else "export"
        )
        self.env["avg.access.gate"]._avg_authorize_subject(partner, action)
        return self.with_context(avg_access_action=action)._avg_collect_allowed(
            partner, brief
        )

    @api.model
    def _avg_collect_allowed(self, partner, brief):
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
                self._avg_dossier(dossier, session_content=not brief)
                for dossier in dossiers
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
            "requests": [
                {
                    "reference": req.name,
                    "request": dict(
                        req._fields["request_type"]._description_selection(self.env)
                    )[req.request_type],
                    "received_on": fields.Date.to_string(req.date_received),
                    "answer_due": fields.Date.to_string(req.date_due),
                    "status": dict(
                        req._fields["state"]._description_selection(self.env)
                    )[req.state],
                    "what_was_done": req.resolution or None,
                    "refusal_reason": req.refusal_reason or None,
                }
                for req in self.env["avg.request"]
                .sudo()
                .search([("partner_id", "=", partner.id)])
            ],
            "records": [] if brief else self._avg_references(partner),
            "access_log": [] if brief else self._avg_access_log(partner),
            "information": self._avg_information(partner),
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
            "personal_moments": [
                {
                    "order": moment.sequence,
                    "formulated_on": fields.Date.to_string(moment.date),
                    "written_by": dict(
                        moment._fields["author"]._description_selection(self.env)
                    )[moment.author],
                    "text": text(moment.text),
                }
                for moment in dossier.moment_ids
            ],
            "zkm_transfers": [
                {
                    "client_code": transfer.client_code,
                    "moments": transfer.moment_count,
                    "exported_on": fields.Datetime.to_string(transfer.export_date),
                    "processed_on": fields.Date.to_string(transfer.date_processed)
                    or None,
                    "local_copy_deleted_on": fields.Date.to_string(
                        transfer.copy_purged_date
                    )
                    or None,
                    "deleted_at_zkm_on": fields.Date.to_string(
                        transfer.deletion_confirmed_date
                    )
                    or None,
                }
                for transfer in dossier.moment_transfer_ids.filtered("export_date")
            ],
        }

    @api.model
    def _avg_access_log(self, partner, date_from=None, date_to=None):
        """Who read, printed, exported or downloaded her dossier content, and
        when (NEN 7513), oldest first. Only to be shown to her or on her behalf."""
        domain = [("subject_id", "=", partner.id)]
        if date_from:
            domain.append(("date", ">=", date_from))
        if date_to:
            domain.append(("date", "<", date_to))
        entries = self.env["avg.access.log"].sudo().search(domain, order="date, id")
        labels = {
            name: dict(
                self.env["avg.access.log"]
                ._fields[name]
                ._description_selection(self.env)
            )
            for name in ("kind", "action", "purpose")
        }
        return [
            {
                "date": fields.Datetime.to_string(entry.date),
                "who": entry.user_id.name,
                "what": labels["kind"][entry.kind],
                "records": entry.record_count,
                "action": labels["action"][entry.action],
                "purpose": labels["purpose"][entry.purpose],
                "reference": entry.purpose_ref or None,
            }
            for entry in entries
        ]

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
    def _avg_information(self, partner=None):
        """Art. 15(1)(a)-(h): purposes, categories, recipients, retention, rights.

        The terms are those the retention engine applies (its policies), with
        the shorter term agreed with ``partner`` where one reaches a policy."""
        policies = self.env["avg.retention.policy"].sudo().search([])
        agreed = partner.sudo().avg_agreed_years if partner else None
        return {
            "purposes_and_retention": [
                {
                    "purpose": policy.name,
                    "retention": policy._avg_term_text(agreed),
                    "legal_basis": policy.legal_basis or None,
                }
                for policy in policies
            ],
            "categories": _(
                "Name, address, date of birth, phone numbers and e-mail addresses; "
                "employer; the coaching dossier (help question, goals, prior help, "
                "medical treatment related to the coaching, session notes and "
                "reports, your ZKM personal moments); special categories only with "
                "your explicit consent; invoices; your data-subject requests."
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

    # ------------------------------------------------------------ references
    # Built from Odoo's privacy_lookup query (privacy.lookup.wizard._get_query),
    # the privacy manager's own review of everything that names a person, and
    # narrowed to what is provably hers. That query takes every contact with her
    # name as hers (a namesake's records would enter her export:
    # test_export_leaves_out_a_namesake), so a record it finds stays only when
    # it links to her contact or holds her e-mail address. It also leaves out
    # links that are deleted with the contact (her bank accounts, her document
    # password) and cannot run without an e-mail address (its ILIKE '%%' would
    # match every record with one): her contact's links come from
    # _avg_link_columns, every one of them. test_export_finds_all_that_
    # privacy_lookup_finds keeps the two in step.
    @api.model
    @tools.ormcache()
    def _avg_link_columns(self):
        """((model, table, columns), ...): the stored many2one columns to
        res.partner of every stored model, those privacy_lookup leaves out
        because they cascade included."""
        result = []
        for model_name in sorted(self.env.registry):
            model = self.env[model_name]
            if model_name in REFERENCE_SKIP or model._transient or not model._auto:
                continue
            columns = tuple(
                name
                for name, field in model._fields.items()
                if field.type == "many2one"
                and field.comodel_name == "res.partner"
                and field.store
                and field.column_type
            )
            if columns:
                result.append((model_name, model._table, columns))
        return tuple(result)

    @api.model
    def _avg_lookup_ids(self, name, email):
        """{model: {ids}} that Odoo's privacy_lookup finds for ``name`` and
        ``email`` (its own query, run as the privacy manager's lookup runs it;
        the name taken literally, not as a pattern)."""
        wizard = (
            self.env["privacy.lookup.wizard"]
            .sudo()
            .new({"name": escape_psql(name), "email": email})
        )
        query = wizard._get_query()
        self.env.flush_all()
        self.env.cr.execute(query)
        rows = self.env.cr.fetchall()
        models = dict(
            self.env["ir.model"]
            .sudo()
            .browse(list({row[0] for row in rows}))
            .mapped(lambda m: (m.id, m.model))
        )
        found = {}
        for model_id, record_id, _active in rows:
            if models.get(model_id) in self.env:
                found.setdefault(models[model_id], set()).add(record_id)
        return found

    @api.model
    def _avg_holding_address(self, model_name, record_ids, email):
        """The ids among ``record_ids`` whose e-mail fields hold ``email``
        itself (not an address that merely contains it)."""
        model = self.env[model_name]
        columns = [
            name
            for name in (*EMAIL_FIELDS, "login")
            if name in model._fields
            and model._fields[name].store
            and model._fields[name].column_type
        ]
        if not columns:
            return set()
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM %s WHERE id IN %s",
                SQL(", ").join(SQL.identifier(col) for col in columns),
                SQL.identifier(model._table),
                tuple(record_ids),
            )
        )
        return {
            row[0]
            for row in self.env.cr.fetchall()
            if any(
                email in tools.email_normalize_all(value or "")
                for value in row[1:]
                if isinstance(value, str)
            )
        }

    @api.model
    def _avg_reference_ids(self, partner):
        """{model: [ids]} of every record that refers to ``partner``: a link to
        her contact (or a contact with her e-mail address), or her e-mail
        address in a record privacy_lookup finds."""
        partner = partner.sudo()
        email = tools.email_normalize(partner.email or "")
        subjects = partner
        if email:
            subjects |= (
                self.env["res.partner"]
                .sudo()
                .with_context(active_test=False)
                .search([("email_normalized", "=", email)])
            )
        ids = tuple(subjects.ids)
        found = {"res.partner": set(ids)}
        parts = [
            SQL(
                "SELECT %s AS model, id FROM %s WHERE %s",
                model,
                SQL.identifier(table),
                SQL(" OR ").join(
                    SQL("%s IN %s", SQL.identifier(col), ids) for col in columns
                ),
            )
            for model, table, columns in self._avg_link_columns()
        ]
        self.env.flush_all()
        self.env.cr.execute(SQL(" UNION ALL ").join(parts))
        for model, record_id in self.env.cr.fetchall():
            found.setdefault(model, set()).add(record_id)
        if email and partner.name:
            for model, record_ids in self._avg_lookup_ids(partner.name, email).items():
                unlinked = record_ids - found.get(model, set())
                if unlinked:
                    found.setdefault(model, set()).update(
                        self._avg_holding_address(model, unlinked, email)
                    )
        return {
            model: sorted(record_ids)
            for model, record_ids in found.items()
            if record_ids
        }

    @api.model
    def _avg_references(self, partner):
        """The records of :meth:`_avg_reference_ids`, described for the person."""
        model_names = dict(
            self.env["ir.model"]
            .sudo()
            .search_fetch([], ["model", "name"])
            .mapped(lambda m: (m.model, m.name))
        )
        rows = []
        for model, record_ids in sorted(self._avg_reference_ids(partner).items()):
            records = (
                self.env[model]
                .sudo()
                .with_context(active_test=False)
                .browse(record_ids)
            )
            for record in records:
                rows.append(
                    {
                        "kind": model_names.get(model, model),
                        "model": model,
                        "id": record.id,
                        "name": record.display_name or None,
                    }
                )
        return rows

    # ------------------------------------------------------------ formats
    @api.model
    def _avg_collect_csv_files(self, partner):
        """The collected data as CSV tables (art. 20: machine-readable):
        {file name: bytes}."""
        tables = {}

        def add(name, row):
            tables.setdefault(name, []).append(row)

        def flatten(name, item, parent=None):
            row = {} if parent is None else {"belongs_to": parent}
            ref = item.get("reference") if isinstance(item, dict) else None
            for key, value in item.items():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    for sub in value:
                        flatten(f"{name}_{key}", sub, parent=ref)
                elif isinstance(value, dict):
                    flatten(f"{name}_{key}", value, parent=ref)
                elif isinstance(value, list):
                    row[key] = "; ".join(str(v) for v in value)
                else:
                    row[key] = value
            if row:
                add(name, row)

        for key, value in self._avg_collect(partner).items():
            if isinstance(value, list):
                for item in value:
                    flatten(key, item)
            elif isinstance(value, dict):
                flatten(key, value)
            else:
                add("export", {"field": key, "value": value})
        files = {}
        for name, rows in tables.items():
            columns = list(dict.fromkeys(col for row in rows for col in row))
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
            files[f"{name}.csv"] = text.getvalue().encode("utf-8-sig")
        return files

    @api.model
    def _avg_collect_csv_zip(self, partner):
        """The CSV tables in a plain zip (for code that encrypts it itself)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self._avg_collect_csv_files(partner).items():
                archive.writestr(name, content)
        return buffer.getvalue()

    @api.model
    def _avg_collect_json(self, partner):
        return json.dumps(
            self._avg_collect(partner), ensure_ascii=False, indent=2
        ).encode()

    # ------------------------------------------------------------ protected
    @api.model
    def _avg_has_document_password(self, partner):
        """Whether a document password has been agreed with ``partner`` (the
        portal's downloads are protected with it, seed 004 §2)."""
        return bool(
            self.env["coaching.client.secret"]
            .sudo()
            .search_count([("partner_id", "=", partner.id)], limit=1)
        )

    @api.model
    def _avg_protected_export(self, partner, fmt):
        """Everything held about ``partner`` as the portal hands it to her:
        (content, file name, mime type). The PDF is encrypted with AES-256 under
        the password agreed with her, the JSON and the CSV tables travel in a zip
        encrypted with AES-256 under the same password. The unprotected content
        is never stored. Raises UserError when no usable password is agreed."""
        Secret = self.env["coaching.client.secret"].sudo()
        # Read (and check) the password first: nothing is collected without it.
        Secret._avg_get(partner)
        if fmt == "pdf":
            # A real PDF even in test mode: only a PDF can be encrypted.
            pdf, report_type = (
                self.env["ir.actions.report"]
                .sudo()
                .with_context(
                    force_report_rendering=True,
                    avg_protected_export=PROTECTED_EXPORT,
                )
                ._render_qweb_pdf(
                    "avg_coaching.avg_access_export_report_action", [partner.id]
                )
            )
            if report_type != "pdf":
                raise UserError(
                    _(
                        "Your data could not be made into a PDF just now. Try the "
                        "JSON or CSV download, or ask your coach."
                    )
                )
            return (
                Secret._avg_protect_pdf(partner, pdf),
                "my-data.pdf",
                ("application/pdf"),
            )
        if fmt == "json":
            files = {"my-data.json": self._avg_collect_json(partner)}
        else:
            files = self._avg_collect_csv_files(partner)
        return (
            Secret._avg_protect_zip(partner, files),
            f"my-data-{fmt}.zip",
            "application/zip",
        )
