import glob
import logging
import os

import psycopg2

from odoo import api, http, models, tools
from odoo.tools import SQL, config

_logger = logging.getLogger(__name__)

# What becomes of a model's records when their subject is erased (declared on the
# model as ``_avg_erasure``, next to ``_avg_subject_field``):
#   delete     the records go;
#   anonymise  the records stay as evidence, without what identifies the person
#              (the model's ``_avg_anonymise_for(partner_ids)``);
#   with_dossier  parts of a dossier: they go with it (counted, traces cleared);
#   keep       they hold no personal data once the contact is gone (a number at
#              most; the link to the contact is cut where it may be empty) and
#              have a retention term of their own.
ERASURE_ACTIONS = ("delete", "with_dossier", "anonymise", "keep")


class AvgErasure(models.AbstractModel):
    """The one erasure service, the mirror of the collector (``avg.subject.data``).

    Its reach is derived from the registry: every model of the addon that names a
    data subject (``_avg_subject_field``) declares what becomes of its records
    (``_avg_erasure``), and a test fails on a model that does not. Around them, the
    traces Odoo itself keeps of a person are cleared here, in one place: chatter
    and tracking values, followers, notifications, activities, attachments and
    their files, outgoing mails, bus messages, the portal user and its sessions,
    portal invitations. Used by the erasure path (``res.partner._avg_erase``,
    which checks holds first) and by the dossier content purge.
    """

    _name = "avg.erasure"
    _description = "Erasure service"

    # ------------------------------------------------------------------ reach
    @api.model
    @tools.ormcache()
    def _avg_subject_models(self):
        """((model, subject field, action), ...) of the addon's models that hold
        data about a person, from the registry."""
        found = []
        for name in sorted(self.env.registry):
            model = self.env[name]
            if model._abstract or model._transient or not model._auto:
                continue
            action = getattr(model, "_avg_erasure", None)
            subject = getattr(model, "_avg_subject_field", None)
            if action and subject and subject in model._fields:
                found.append((name, subject, action))
        return tuple(found)

    # ------------------------------------------------------------------ persons
    @api.model
    def _avg_erase_owned(self, partners):
        """Count, then delete or anonymise, every record of the addon about
        ``partners``. Returns {partner id: {model: count}}."""
        ids = partners.ids
        counts = {pid: {} for pid in ids}
        # Dossier parts are counted before their dossiers go (deleting a dossier
        # deletes them); the order of the registry does not matter for counting.
        reach = self._avg_subject_models()
        found = set()
        for model_name, subject, _action in reach:
            groups = (
                self.env[model_name]
                .sudo()
                .with_context(active_test=False)
                ._read_group([(subject, "in", ids)], [subject], ["__count"])
            )
            for partner, count in groups:
                counts[partner.id][model_name] = count
                found.add(model_name)
        order = {"with_dossier": 0, "delete": 1, "anonymise": 2, "keep": 3}
        for model_name, subject, action in sorted(reach, key=lambda r: order[r[2]]):
            if model_name not in found:
                continue  # none of theirs (counted above)
            Model = self.env[model_name].sudo().with_context(active_test=False)
            records = Model.search([(subject, "in", ids)])
            if action == "with_dossier":
                self._avg_clear_traces(records)
            elif action == "delete":
                # Their own files first noted (Odoo's unlink takes the
                # attachments, its garbage collection the files a day later),
                # then what Odoo leaves once they are gone.
                files = self._avg_files_of(records)
                records.exists().unlink()
                self._avg_clear_traces(records)
                self._avg_remove_files_after_commit(files)
            elif action == "anonymise":
                self._avg_clear_traces(records, keep_outgoing=True)
                Model._avg_anonymise_for(ids)
            elif not Model._fields[subject].required:
                # In SQL: such records (the access log) refuse every other change.
                self.env.flush_all()
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET %s = NULL WHERE %s IN %s",
                        SQL.identifier(Model._table),
                        SQL.identifier(subject),
                        SQL.identifier(subject),
                        tuple(ids),
                    )
                )
                Model.invalidate_model([subject])
        return counts

    @api.model
    def _avg_erase_traces(self, partners, holds=None):
        """Odoo's own traces of ``partners`` themselves: their chatter (save
        what the accounting audit trail protects while the fiscal term runs),
        mails, activities, attachments, followers, notifications, bus messages,
        portal invitations and login sessions. Returns {partner id: counts}."""
        counts = partners._avg_remove_messages(holds or {})
        # (Their chatter: above, minus what the audit trail still protects.)
        self._avg_clear_traces(partners, with_messages=False)
        self._avg_remove_mails(partners)
        self._avg_remove_bus(partners)
        if "portal.wizard.user" in self.env:
            self.env["portal.wizard.user"].sudo().search(
                [("partner_id", "in", partners.ids)]
            ).unlink()
        self._avg_end_sessions(partners.with_context(active_test=False).user_ids)
        return counts

    # ------------------------------------------------------------------ traces
    @api.model
    def _avg_clear_traces(self, records, keep_outgoing=False, with_messages=True):
        """What Odoo hangs on ``records``: activities, attachments (and their
        files, after commit), chatter with its tracking values, followers, and
        the mails about them (``keep_outgoing``: except those still to be sent,
        such as the answer to an erasure request, deleted once sent)."""
        if not records:
            return
        model, ids = records._name, records.ids
        env = self.env
        env["mail.activity"].sudo().search(
            [("res_model", "=", model), ("res_id", "in", ids)]
        ).unlink()
        self._avg_remove_attachments(
            env["ir.attachment"]
            .sudo()
            .search([("res_model", "=", model), ("res_id", "in", ids)])
        )
        mails = (
            env["mail.mail"]
            .sudo()
            .search([("model", "=", model), ("res_id", "in", ids)])
        )
        if keep_outgoing:
            mails = mails.filtered(lambda m: m.state != "outgoing")
        keep_messages = (
            env["mail.mail"]
            .sudo()
            .search(
                [
                    ("model", "=", model),
                    ("res_id", "in", ids),
                    ("state", "=", "outgoing"),
                ]
            )
            .mail_message_id
            if keep_outgoing
            else env["mail.message"]
        )
        if not with_messages:
            # Their messages are the caller's (the audit trail may protect some);
            # mails without one go here.
            mails = mails.filtered(lambda m: not m.mail_message_id)
        mails.unlink()
        if with_messages:
            messages = (
                env["mail.message"]
                .sudo()
                .search([("model", "=", model), ("res_id", "in", ids)])
            )
            (messages - keep_messages).unlink()
        env["mail.followers"].sudo().search(
            [("res_model", "=", model), ("res_id", "in", ids)]
        ).unlink()

    @api.model
    def _avg_remove_mails(self, partners):
        """Every mail to or about these persons that is not the answer to their
        own erasure request still waiting to be sent: portal invitations,
        password and security notices, failed mails, notifications."""
        partners.fetch(["email"])  # (not every column of a thousand contacts)
        emails = {tools.email_normalize(p.email) for p in partners if p.email} - {False}
        Mail = self.env["mail.mail"].sudo()
        domain = [("recipient_ids", "in", partners.ids)]
        for email in emails:
            domain = ["|", ("email_to", "ilike", email), *domain]
        mails = Mail.search(domain)
        answers = mails.filtered(
            lambda m: m.model == "avg.request" and m.state == "outgoing"
        )
        others = mails - answers
        messages = others.mail_message_id - answers.mail_message_id
        others.unlink()
        # And the messages that notified them (on their records or another's).
        messages |= (
            self.env["mail.message"]
            .sudo()
            .search(
                [("partner_ids", "in", partners.ids), ("model", "!=", "account.move")]
            )
        )
        # (What the accounting audit trail protects stays for the fiscal term.)
        (messages - answers.mail_message_id).exists().filtered(
            lambda m: not m.account_audit_log_activated
        ).unlink()

    @api.model
    def _avg_remove_bus(self, partners):
        """Empty the bus once the erasure is committed. It is Odoo's short-lived
        delivery queue (kept a day, for clients that reconnect), and its
        notifications carry message texts to other users' channels without
        naming the person: rather than guess which were about her, what was
        queued until then is dropped (connected clients already received it).
        In a transaction of its own, so that a busy bus never fails an erasure."""
        if not partners:
            return
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        until = self.env.cr.fetchone()[0]
        self.env.cr.postcommit.add(lambda: self._avg_empty_bus(until))

    @api.model
    def _avg_empty_bus(self, until):
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("DELETE FROM bus_bus WHERE create_date <= %s", [until])
        except psycopg2.Error as exc:
            _logger.warning("The bus could not be emptied after an erasure: %s", exc)

    @api.model
    def _avg_remove_attachments(self, attachments):
        """Delete attachments and, once the deletion is committed, their files
        (Odoo's own garbage collection waits for a daily run)."""
        if not attachments:
            return
        fnames = {a.store_fname for a in attachments if a.store_fname}
        attachments.unlink()
        self._avg_remove_files_after_commit(fnames)

    @api.model
    def _avg_files_of(self, records):
        """The stored files of ``records``' attachments, those of their binary
        fields included (Odoo's search leaves those out unless asked)."""
        if not records:
            return set()
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", records._name),
                    ("res_id", "in", records.ids),
                    "|",
                    ("res_field", "=", False),
                    ("res_field", "!=", False),
                ]
            )
        )
        return {a.store_fname for a in attachments if a.store_fname}

    @api.model
    def _avg_remove_files_after_commit(self, fnames):
        if fnames:
            self.env.cr.postcommit.add(
                lambda: self._avg_remove_files(self.env.cr.dbname, fnames)
            )

    @api.model
    def _avg_remove_files(self, dbname, fnames):
        """Remove the files no attachment refers to any more (the filestore
        shares one file between attachments with the same content)."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT store_fname FROM ir_attachment WHERE store_fname IN %s",
                [tuple(fnames)],
            )
            used = {row[0] for row in cr.fetchall()}
        root = config.filestore(dbname)
        for fname in fnames - used:
            path = os.path.realpath(os.path.join(root, fname))
            if not path.startswith(os.path.realpath(root) + os.sep):
                continue
            if not os.path.exists(path):
                continue
            try:
                os.remove(path)
            except OSError as exc:
                _logger.warning("Could not remove erased file %s: %s", fname, exc)

    @api.model
    def _avg_end_sessions(self, users):
        """End the login sessions of these users (after commit)."""
        if not users:
            return
        uids = set(users.ids)
        self.env.cr.postcommit.add(lambda: self._avg_delete_sessions(uids))

    @api.model
    def _avg_delete_sessions(self, uids):
        """Delete the stored login sessions of these users on this server (the
        session store scatters them over sub-directories, as its vacuum walks
        them)."""
        store = http.root.session_store
        for path in glob.iglob(os.path.join(store.path, "*", "*")):
            sid = os.path.basename(path)
            if not store.is_valid_key(sid):
                continue
            try:
                session = store.get(sid)
            except (OSError, ValueError) as exc:
                _logger.info("Session %s could not be read (%s): left alone", sid, exc)
                continue
            if session.get("uid") in uids:
                store.delete(session)

    # ------------------------------------------------------------------ log
    @api.model
    def _avg_log_counts(self, counts, kept):
        """What the deletion log says: per model for a contact that is gone; for a
        contact kept for its invoices (its reference can be followed back to it)
        only how many records went, so that the log does not tell that it held
        special-category data or was involved in a breach."""
        if not kept:
            return counts
        return {
            "records erased": sum(
                count
                for model, count in counts.items()
                if not model.startswith("res.partner")
            ),
            "res.partner (anonymised)": 1,
        }
