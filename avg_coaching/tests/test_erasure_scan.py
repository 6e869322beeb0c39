"""Issue 14: after an erasure, a scan of the real database and filestore.

In a scratch database (real processes, real commits) two clients get the whole
practice: a portal user invited through Odoo's portal wizard (its invitation
mail) who changed her password (Odoo's security mail), a dossier with sessions,
special-category data with consent, ZKM moments and a document, an erasure
request she filed in the portal, chatter on her contact and on her request, an
activity and an attachment on her contact, mails to her (one sent, one failed),
and, for client A only, a posted invoice. A public request never linked to a
contact is the scanner's positive control.

Markers are generated from the registry, not listed by hand: every stored
char/text/html field (not computed, not related, or computed with an inverse;
the encrypted fields too) of ``res.partner``, of her ``res.users`` and of every
model of this addon with a Many2one to ``res.partner`` that holds a record of
hers gets its own marker (``mka017z``: client A, ``mkb...``: client B, ``mkp...``:
the control), and so do the contents of her chatter, mails, activity and
attachment. Fields that cannot take one are listed in SKIPPED with the reason;
a field that refuses its marker and is not listed there fails the test.

Both clients are erased through the one path (their erasure request carried out
calls ``res.partner._avg_erase``), then a ``pg_dump --format=plain`` and the
filestore (and the journal and the HTTP session store) are scanned:

* client B: no marker anywhere;
* client A: only the fiscal minimum (her name and address on the contact) and only
  in ``res_partner``, ``account_move`` and ``account_move_line``. The invoice is
  posted without being sent, so no invoice PDF exists; a PDF would be scanned
  (its streams inflated) and would be a finding.

Then seven years and a day after the invoice date (frozen time) what seven years
of daily crons would have done is run: the mail queue (with a mail server that
accepts everything), the retention cron and Odoo's autovacuum (the wizards' rows
are aged first: PostgreSQL's clock is not frozen). Nothing of either client may
remain.

Before the erasure the scanner checks itself: every marker planted in plain text
must be found, and no marker written to an encrypted field may be (only its
ciphertext is stored).

Every failure message lists, per marker, where it was found (table.column and
row id, or file), so the report is the to-do list of the erasure path.
"""

import json
import os
import re
import time
import zlib

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import config

from .common import AvgCoachingCase
from .scratch import ScratchDatabase, pg_tool

# Fields that take no marker, and why. Keys are "model.field".
SKIPPED = {
    "res.partner.image_1920": "an image: Odoo re-encodes it, a text marker cannot "
    "survive (image_* are resized copies of it)",
    "res.partner.signup_type": "Odoo's sign-up state ('signup'/'reset'), set by the "
    "portal invitation itself; no personal data",
    "res.partner.invoice_edi_format_store": "technical e-invoicing format code",
    "res.users.password": "stored hashed only",
    "res.users.new_password": "not stored",
    "avg.request.name": "reference from a sequence, kept as the evidence of the "
    "request by design (README: reference, kind, dates, outcome)",
    "avg.request.access_token": "random portal token made by Odoo; no personal data",
    "avg.request.public_token_hash": "hash of a public confirmation link; no "
    "personal data",
    "coaching.dossier.name": "reference from a sequence; it is the invoice's "
    "origin, which the fiscal term keeps unchanged",
    "avg.data.key.*": "key material: a marker would break the encryption",
    "avg.consent.text_hash": "the SHA-256 of the consent text, computed when the "
    "consent is recorded; no free text",
    "avg.access.log.*": "append-only, written by the system only (the ORM and a "
    "trigger refuse every create/write); what leaks into it is found by the scan",
}
# The fiscal minimum: what an invoice legally needs of its customer.
FISCAL_FIELDS = ("name", "street", "street2", "zip", "city")
FISCAL_TABLES = {"res_partner", "account_move", "account_move_line"}
MARKER_RE = re.compile(rb"mk[abp]\d{3}z", re.IGNORECASE)

SETUP = r"""
import base64, json
from dateutil.relativedelta import relativedelta
from odoo import fields, models
from odoo.addons.avg_coaching.controllers import request_forms
from odoo.addons.avg_coaching.models.avg_encrypted_mixin import _EncryptedMixin
from odoo.addons.avg_coaching.services import tokens

env = env(context=dict(env.context, avg_access_system="maintenance"))
SKIPPED = %(skipped)r
markers = {}      # marker -> label
failed = {}       # "model.field" -> error, a field that refused its marker
encrypted = []    # markers written to encrypted fields (only ciphertext stored)
marked = set()    # (model, id) of the records that have their markers
counter = {}


def new_marker(prefix, label):
    counter[prefix] = counter.get(prefix, 0) + 1
    marker = "%%s%%03dz" %% (prefix, counter[prefix])
    markers[marker] = label
    return marker


def value_for(field, marker):
    if field.type == "binary":
        return base64.b64encode(("file content " + marker).encode())
    if "email" in field.name or field.name == "login":
        return marker + "@example.test"
    if field.type == "html":
        return "<p>" + marker + "</p>"
    return marker


def markable(model):
    # Generated from the registry: stored text fields one can write.
    for name, field in model._fields.items():
        if field.type not in ("char", "text", "html", "binary"):
            continue
        key = "%%s.%%s" %% (model._name, name)
        if key in SKIPPED or "%%s.*" %% model._name in SKIPPED:
            continue
        if isinstance(field, _EncryptedMixin):
            yield name, field, True
            continue
        if name.endswith("_enc") and isinstance(
            model._fields.get(name[:-4]), _EncryptedMixin
        ):
            continue  # its ciphertext: the encrypted field takes the marker
        if not field.store or field.related or name in models.MAGIC_COLUMNS:
            continue
        if field.compute and not field.inverse and field.readonly:
            continue
        yield name, field, False


def create_marked(model_name, vals_list, prefix, who):
    # For records that refuse any change once made (a consent is evidence): the
    # markers go in with the creation.
    model = env[model_name]
    records = model.browse()
    for vals in vals_list:
        pending = {}
        for name, field, is_enc in markable(model):
            pending[name] = (new_marker(prefix, "pending"), is_enc)
            vals = dict(vals, **{name: value_for(field, pending[name][0])})
        record = model.create(vals)
        for name, (marker, is_enc) in pending.items():
            markers[marker] = "%%s %%s(%%s).%%s" %% (who, model_name, record.id, name)
            if is_enc:
                encrypted.append(marker)
        marked.add((model_name, record.id))
        records |= record
    return records


def plant(record, prefix, who):
    if (record._name, record.id) in marked:
        return
    marked.add((record._name, record.id))
    model = record.env[record._name]
    for name, field, is_enc in markable(model):
        label = "%%s %%s(%%s).%%s" %% (who, record._name, record.id, name)
        marker = new_marker(prefix, label)
        try:
            with env.cr.savepoint():
                record.write({name: value_for(field, marker)})
                env.flush_all()
        except Exception as exc:
            del markers[marker]
            failed["%%s.%%s" %% (record._name, name)] = repr(exc)[:300]
            continue
        if is_enc:
            encrypted.append(marker)


def subject_models():
    # Every model of this addon with a stored Many2one to res.partner.
    found = []
    for name in sorted(env.registry):
        model = env[name]
        if model._abstract or model._transient:
            continue
        if getattr(type(model), "_original_module", None) != "avg_coaching":
            continue
        fnames = [
            f.name for f in model._fields.values()
            if f.type == "many2one" and f.comodel_name == "res.partner" and f.store
        ]
        if fnames:
            found.append((name, fnames))
    return found


coach = env["res.users"].create({
    "name": "Scan Coach", "login": "scan_coach", "email": "scan.coach@practice.test",
    "groups_id": [(6, 0, [env.ref("base.group_user").id,
                          env.ref("avg_coaching.group_avg_coach").id])],
})
today = fields.Date.context_today(env["res.partner"])
nl = env.ref("base.nl")
out = {"clients": {}}

for prefix, who, invoiced in (("mka", "A", True), ("mkb", "B", False)):
    def mk(what, prefix=prefix, who=who):
        return new_marker(prefix, "%%s %%s" %% (who, what))

    Partner = env["res.partner"]
    partner = Partner.create({
        "name": mk("res.partner.name@create"),
        "is_coaching_client": True, "country_id": nl.id,
        "coaching_birthdate": "1980-01-01",
    })
    plant(partner, prefix, who)
    # The portal user, through Odoo's own wizard: its invitation mail. (There is
    # no mail server here: the invitation, sent at once, fails and Odoo keeps it
    # as a failed mail, as it would for a bounced address.)
    wizard = env["portal.wizard"].with_context(active_ids=[partner.id]).create({})
    wizard.user_ids.filtered(lambda w: w.partner_id == partner).action_grant_access()
    user = partner.with_context(active_test=False).user_ids[:1]
    plant(user, prefix, who)  # login and signature (a login change: security mail)
    user.write({"password": "Scan-%%s-password-1" %% who})  # security mail
    # The consents first: nothing goes into a dossier before them.
    create_marked("avg.consent", [{
        "partner_id": partner.id, "purpose": purpose, "method": "signed_form",
        "date_given": today - relativedelta(days=59),
    } for purpose in ("dossier", "special_health")], prefix, who)
    # The dossier and everything in it.
    dossier = env["coaching.dossier"].create({
        "client_id": partner.id, "coach_id": coach.id, "state": "active",
        "date_start": today - relativedelta(days=60),
        "help_question": mk("coaching.dossier.help_question@create"),
    })
    encrypted.append(list(markers)[-1])
    sessions = env["coaching.session"].create([
        {"dossier_id": dossier.id, "date": today - relativedelta(days=days),
         "duration": 1.0}
        for days in (40, 20)
    ])
    special = env["coaching.special.data"].create({
        "dossier_id": dossier.id, "category": "health",
        "relation_note": mk("coaching.special.data.relation_note@create"),
    })
    encrypted.append(list(markers)[-1])
    env["coaching.moment"].create([{
        "dossier_id": dossier.id, "author": "coach", "date": today,
        "text": mk("coaching.moment.text@create"),
    } for _i in range(2)])
    encrypted.extend(list(markers)[-2:])
    env["coaching.document"].create({
        "dossier_id": dossier.id, "name": "Document", "filename": "document.txt",
        "file": base64.b64encode(
            b"file content " + mk("coaching.document.file@create").encode()
        ),
    })
    encrypted.append(list(markers)[-1])
    # Her erasure request, filed in the portal.
    request = env["avg.request"].with_user(user)._avg_portal_create(
        request_forms.portal_request_values(env, partner, {
            "request_type": "erasure",
            "description": mk("avg.request.description@create"),
        })
    )
    request = env["avg.request"].browse(request.id)
    # Every record of this addon that names her: generated markers.
    for model_name, fnames in subject_models():
        domain = ["|"] * (len(fnames) - 1) + [(f, "=", partner.id) for f in fnames]
        for record in env[model_name].with_context(active_test=False).search(domain):
            plant(record, prefix, who)
    # Chatter on her contact (with an attachment) and on her request.
    attachment = env["ir.attachment"].create({
        "name": mk("ir.attachment.name (contact)") + ".txt",
        "description": mk("ir.attachment.description (contact)"),
        "res_model": "res.partner", "res_id": partner.id,
        "raw": ("content " + mk("ir.attachment content (contact)")).encode(),
    })
    partner.message_post(
        body=mk("mail.message.body (coach's note on contact)"),
        author_id=coach.partner_id.id, message_type="comment",
        subtype_xmlid="mail.mt_note", attachment_ids=[attachment.id],
    )
    partner.message_post(
        body=mk("mail.message.body (message to her from contact)"),
        subject=mk("mail.message.subject (message to her)"),
        author_id=coach.partner_id.id, message_type="comment",
        subtype_xmlid="mail.mt_comment", partner_ids=[partner.id],
    )
    request.message_post(
        body=mk("mail.message.body (her message on request)"),
        author_id=partner.id, message_type="comment", subtype_xmlid="mail.mt_comment",
    )
    request.message_post(
        body=mk("mail.message.body (coach's answer on request)"),
        author_id=coach.partner_id.id, message_type="comment",
        subtype_xmlid="mail.mt_comment", partner_ids=[partner.id],
    )
    partner.activity_schedule(
        "mail.mail_activity_data_todo", user_id=coach.id,
        summary=mk("mail.activity.summary (contact)"),
        note=mk("mail.activity.note (contact)"),
    )
    # Mails to her: one sent and kept, one failed.
    for state in ("sent", "exception"):
        env["mail.mail"].create({
            "subject": mk("mail.mail.subject (%%s)" %% state),
            "body_html": "<p>%%s</p>" %% mk("mail.mail.body_html (%%s)" %% state),
            "email_to": partner.email, "recipient_ids": [(4, partner.id)],
            "model": "res.partner", "res_id": partner.id,
            "state": state, "auto_delete": False,
            "failure_reason": mk("mail.mail.failure_reason") if state == "exception"
            else False,
        })
    invoice = env["account.move"]
    if invoiced:
        wizard = env["coaching.invoice.wizard"].create({
            "dossier_id": dossier.id, "bill_to": "client", "invoice_date": today,
        })
        invoice = wizard._avg_create_invoice()
        invoice.action_post()
    out["clients"][who] = {
        "partner": partner.id, "user": user.id, "request": request.id,
        "invoice": invoice.id, "invoice_date": str(invoice.invoice_date or ""),
    }

# The positive control: a public request never linked to a contact.
Request = env["avg.request"]
token, _payload = request_forms.seal_public_request(
    env, request_forms.public_request_payload({
    "name": new_marker("mkp", "control avg.request.requester_name"),
    "email": new_marker("mkp", "control avg.request.requester_email") + "@example.test",
    "request_type": "access",
    "description": new_marker("mkp", "control avg.request.description"),
    })
)
control = Request._avg_public_create(
    request_forms.open_public_request(env, token), tokens.fingerprint(token)
)
assert control and not control.partner_id
env.cr.commit()
out.update(markers=markers, failed=failed, encrypted=encrypted)
print("OUT=" + json.dumps(out))
"""

ERASE = """
import json
from unittest.mock import patch
from odoo.addons.base.models.ir_mail_server import IrMailServer

env = env(context=dict(env.context, avg_access_system="maintenance"))


class Smtp:
    def quit(self):
        pass


for request_id in %(requests)r:
    # Her erasure request carried out: the one path, res.partner._avg_erase.
    env["avg.request"].browse(request_id).action_carry_out()
env.cr.commit()
# The answer to her erasure request is the one mail that still goes to her; the
# mail queue (a cron, every minute) sends it, and it is removed once sent.
with patch.object(IrMailServer, "connect", lambda *a, **k: Smtp()), patch.object(
    IrMailServer, "send_email", lambda self, message, *a, **k: message["Message-Id"]
):
    env["mail.mail"].process_email_queue()
env.cr.commit()
print("OUT=" + json.dumps({"done": True}))
"""

AFTER_TERM = """
import json
from unittest.mock import patch
from freezegun import freeze_time
from odoo.tools import SQL
from odoo.addons.base.models.ir_mail_server import IrMailServer

env = env(context=dict(env.context, avg_access_system="maintenance"))


class Smtp:
    # A mail server that accepts everything: seven years of a working mail queue.
    def quit(self):
        pass


def accepted(self, message, *args, **kwargs):
    return message["Message-Id"]


# PostgreSQL's clock is not frozen: the wizards' rows age as they would have.
for model in env.values():
    if model._transient and model._log_access:
        env.cr.execute(SQL(
            "UPDATE %%s SET create_date = create_date - interval '8 years', "
            "write_date = write_date - interval '8 years'",
            SQL.identifier(model._table),
        ))
env.cr.commit()
with freeze_time(%(day)r), patch.object(
    IrMailServer, "connect", lambda *a, **k: Smtp()
), patch.object(IrMailServer, "send_email", accepted):
    # Seven years of daily crons: the mail queue, the retention engine and
    # Odoo's autovacuum (files of deleted attachments, old wizards, the bus...).
    env["mail.mail"].process_email_queue()
    env.cr.commit()
    env["avg.retention.policy"]._cron_purge()
    env.cr.commit()
    env["mail.mail"].process_email_queue()
    env.cr.commit()
    env["ir.autovacuum"]._run_vacuum_cleaner()
    env.cr.commit()
print("OUT=" + json.dumps({"done": True}))
"""


def _out(done):
    line = next(x for x in done.stdout.splitlines() if x.startswith("OUT="))
    return json.loads(line[4:])


PLANTED_RE = re.compile(r"^[AB] ([\w.]+)\(\d+\)\.(\w+)$")


def _planted_key(label):
    """ "A res.partner(12).name" -> "res.partner.name"; None for other labels."""
    match = PLANTED_RE.match(label)
    return match and f"{match.group(1)}.{match.group(2)}"


def _inflate_pdf(data):
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            yield zlib.decompress(stream.group(1))
        except zlib.error:
            continue


def _hex_markers(data):
    """Markers stored as bytea (pg_dump writes \\x<hex>)."""
    for match in re.finditer(rb"6d6b(?:61|62|70)(?:3[0-9]){3}7a", data):
        yield bytes.fromhex(match.group(0).decode())


@tagged("post_install", "-at_install")
class TestErasureScan(AvgCoachingCase):
    """Plant, erase, dump, scan (issue 14)."""

    # ------------------------------------------------------------------ scanner
    def _scan_dump(self, scratch):
        """{marker: [where]} over a plain pg_dump of the scratch database."""
        path = os.path.join(scratch.workdir, f"scan-{time.monotonic_ns()}.sql")
        pg_tool("pg_dump", "--format=plain", "--no-owner", "-f", path, scratch.dbname)
        found = {}
        table, columns = None, []
        copy_re = re.compile(rb"^COPY (?:public\.)?(\S+) \((.*)\) FROM stdin;$")
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                line = line.rstrip(b"\n")
                if table is None:
                    head = copy_re.match(line)
                    if head:
                        table = head.group(1).decode().strip('"')
                        columns = [c.strip().strip('"') for c in
                                   head.group(2).decode().split(",")]  # fmt: skip
                        continue
                elif line == b"\\.":
                    table = None
                    continue
                if b"mk" not in line.lower() and b"6d6b" not in line:
                    continue
                hits = [(m.group(0), m.start()) for m in MARKER_RE.finditer(line)]
                hits += [(m, None) for m in _hex_markers(line)]
                if not hits:
                    continue
                if table is None:
                    for marker, _pos in hits:
                        self._add(found, marker, f"pg_dump line {number} (not a row)")
                    continue
                values = line.split(b"\t")
                row_id = values[0].decode() if columns and columns[0] == "id" else "?"
                for column, value in zip(columns, values, strict=False):
                    markers = {m.group(0) for m in MARKER_RE.finditer(value)}
                    markers |= set(_hex_markers(value))
                    for marker in markers:
                        self._add(found, marker, (table, column, row_id), table)
        os.remove(path)
        return found

    def _scan_files(self, scratch):
        """{marker: [where]} over the filestore, the journal and the sessions."""
        stored = {}
        for row in scratch.sql(
            "SELECT store_fname, id, res_model, res_id, name FROM ir_attachment "
            "WHERE store_fname IS NOT NULL"
        ):
            fname, att_id, res_model, res_id = row[:4]
            stored[fname] = (
                f"ir_attachment {att_id} {'|'.join(row[4:])!r} on {res_model},{res_id}"
            )
        found = {}
        roots = [
            ("filestore", config.filestore(scratch.dbname)),
            ("sessions", config.session_dir),
        ]
        files = [("journal", scratch.journal())]
        for kind, root in roots:
            for folder, _dirs, names in os.walk(root):
                files += [(kind, os.path.join(folder, name)) for name in names]
        for kind, path in files:
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            views = [data]
            if data.startswith(b"%PDF"):
                views += list(_inflate_pdf(data))
            markers = set()
            for view in views:
                markers |= {m.group(0) for m in MARKER_RE.finditer(view)}
            if not markers:
                continue
            where = f"{kind} file {path}"
            if kind == "filestore":
                rel = os.path.relpath(path, config.filestore(scratch.dbname))
                where = f"filestore {rel}: " + stored.get(
                    rel, "no attachment refers to it (deleted, awaiting Odoo's file GC)"
                )
            for marker in markers:
                self._add(found, marker, where)
        return found

    @staticmethod
    def _add(found, marker, where, table=None):
        key = marker.decode().lower() if isinstance(marker, bytes) else marker
        found.setdefault(key, []).append((where, table))

    def _scan(self, scratch):
        found = self._scan_dump(scratch)
        rows = {}
        for places in found.values():
            for where, table in places:
                if isinstance(where, tuple):
                    rows.setdefault(table, set()).add(where[2])
        notes = self._row_notes(scratch, rows)
        found = {
            marker: [
                (
                    f"{w[0]}.{w[1]} (id {w[2]}{notes.get((w[0], w[2]), '')})"
                    if isinstance(w, tuple)
                    else w,
                    table,
                )
                for w, table in places
            ]
            for marker, places in found.items()
        }
        for marker, places in self._scan_files(scratch).items():
            found.setdefault(marker, []).extend(places)
        return found

    @staticmethod
    def _row_notes(scratch, rows):
        """What a row is, for the rows of Odoo's mail and bus tables."""
        queries = {
            "mail_mail": "SELECT m.id, m.state || ' mail of ' || COALESCE(g.model, '-')"
            " || ',' || COALESCE(g.res_id::text, '-') || ' '"
            " || COALESCE(LEFT(g.subject, 40), '')"
            " FROM mail_mail m JOIN mail_message g ON g.id = m.mail_message_id"
            " WHERE m.id = ANY(%s)",
            "mail_message": "SELECT id, message_type || ' on ' || COALESCE(model, '-')"
            " || ',' || COALESCE(res_id::text, '-') FROM mail_message"
            " WHERE id = ANY(%s)",
            "bus_bus": "SELECT id, 'channel ' || LEFT(channel, 60) FROM bus_bus"
            " WHERE id = ANY(%s)",
            "ir_attachment": "SELECT id, 'on ' || COALESCE(res_model, '-') || ','"
            " || COALESCE(res_id::text, '-') FROM ir_attachment WHERE id = ANY(%s)",
            "mail_tracking_value": "SELECT v.id, 'tracking on ' || m.model || ','"
            " || m.res_id FROM mail_tracking_value v"
            " JOIN mail_message m ON m.id = v.mail_message_id WHERE v.id = ANY(%s)",
        }
        notes = {}
        for table, ids in rows.items():
            ids = sorted(i for i in ids if i.isdigit())
            if table not in queries or not ids:
                continue
            query = queries[table].replace("%s", "ARRAY[" + ",".join(ids) + "]")
            for row in scratch.sql(query):
                notes[(table, row[0])] = ": " + "|".join(row[1:])
        return notes

    @staticmethod
    def _report(title, problems):
        return f"{title} ({len(problems)}):\n" + "\n".join(
            f"  {marker} [{label}] -> " + "; ".join(sorted({w for w, _t in places}))
            for marker, label, places in sorted(problems)
        )

    # ------------------------------------------------------------------ test
    def test_erasure_leaves_only_the_fiscal_minimum(self):
        started = time.monotonic()
        scratch = ScratchDatabase(self, self.env.cr.dbname, "scan").make()
        setup = _out(scratch.shell(SETUP % {"skipped": SKIPPED}, timeout=900))
        markers = setup["markers"]
        encrypted = set(setup["encrypted"])
        clients = setup["clients"]
        problems = []

        # The generator: every field that refused its marker is listed, with why.
        unlisted = {
            key: error for key, error in setup["failed"].items() if key not in SKIPPED
        }
        if unlisted:
            problems.append(
                "Fields that refused their marker and are not in SKIPPED:\n"
                + "\n".join(f"  {k}: {e}" for k, e in sorted(unlisted.items()))
            )
        planted = {_planted_key(label) for label in markers.values()} - {None}
        for model in (
            "res.partner",
            "res.users",
            "coaching.dossier",
            "coaching.session",
            "coaching.moment",
            "coaching.document",
            "coaching.special.data",
            "avg.consent",
            "avg.request",
        ):
            self.assertTrue(
                any(key.startswith(model + ".") for key in planted),
                f"the generator planted no marker on {model}",
            )

        # Before the erasure: the scanner sees every plain marker, and no
        # encrypted one (only ciphertext may be stored).
        before = self._scan(scratch)
        unseen = sorted(
            (m, markers[m], [])
            for m in markers
            if m not in encrypted and m not in before and "@create" not in markers[m]
        )
        if unseen:
            problems.append(
                self._report("Scanner self-check: planted but not found", unseen)
            )
        leaked = sorted((m, markers[m], before[m]) for m in encrypted if m in before)
        if leaked:
            problems.append(
                self._report(
                    "Encrypted content found in plain text before the erasure",
                    leaked,
                )
            )

        # The erasure, then the scan.
        scratch.shell(
            ERASE % {"requests": [c["request"] for c in clients.values()]},
            timeout=600,
        )
        after = self._scan(scratch)
        fiscal = {
            m
            for m, label in markers.items()
            if label.startswith("A res.partner(")
            and label.rsplit(".", 1)[1].split("@")[0] in FISCAL_FIELDS
        } | {m for m, label in markers.items() if label == "A res.partner.name@create"}
        found_b = sorted(
            (m, markers[m], places)
            for m, places in after.items()
            if m.startswith("mkb") and m in markers
        )
        if found_b:
            problems.append(
                self._report("Client B (no invoices) after the erasure", found_b)
            )
        found_a = []
        for m, places in after.items():
            if not m.startswith("mka") or m not in markers:
                continue
            wrong = [
                (w, t) for w, t in places if m not in fiscal or t not in FISCAL_TABLES
            ]
            if wrong:
                found_a.append((m, markers[m], wrong))
        if found_a:
            problems.append(
                self._report(
                    "Client A (posted invoice) after the erasure, beyond the fiscal "
                    "minimum (name and address in res_partner / account_move(_line))",
                    sorted(found_a),
                )
            )
        for m, label in markers.items():
            if m.startswith("mkp") and m not in after:
                problems.append(f"Control: {m} [{label}] no longer found")

        # Seven years and a day after the invoice date: nothing of A remains.
        invoice_date = fields.Date.to_date(clients["A"]["invoice_date"])
        later = f"{invoice_date + relativedelta(years=7, days=1)} 12:00:00"
        scratch.shell(AFTER_TERM % {"day": later}, timeout=900)
        final = self._scan(scratch)
        left = sorted(
            (m, markers[m], places)
            for m, places in final.items()
            if m[:3] in ("mka", "mkb") and m in markers
        )
        if left:
            problems.append(
                self._report(
                    f"After the fiscal term ({later}; mail queue, retention cron "
                    "and autovacuum run)",
                    left,
                )
            )
        elapsed = time.monotonic() - started
        if problems:
            self.fail(
                f"Erasure scan ({len(markers)} markers, {elapsed:.0f}s):\n\n"
                + "\n\n".join(problems)
            )
