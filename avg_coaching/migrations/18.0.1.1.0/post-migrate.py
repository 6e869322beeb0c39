"""18.0.1.1.0: invoices find their dossier through their sessions; the retention
policies are the one source of every term (issue 14), the engine runs the
dossier reminders itself (issue 16), and a disclosure to an insurer keeps the
number of sessions it covered (it outlives them once the client is erased), and
every data key gets a shard in the key store (outside the database), so that a
purge leaves earlier backups unable to read what it purged."""

import json
import logging
import os
from datetime import date

import polib
from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # The invoice no longer stores its dossier (found through its sessions).
    cr.execute("ALTER TABLE account_move DROP COLUMN IF EXISTS coaching_dossier_id")
    cr.execute(
        "UPDATE coaching_insurer_disclosure d SET session_count = ("
        " SELECT count(*) FROM coaching_insurer_disclosure_coaching_session_rel r"
        " WHERE r.coaching_insurer_disclosure_id = d.id)"
        " WHERE COALESCE(d.session_count, 0) = 0"
    )
    # Consents now keep the text agreed to (art. 7(1)). Those recorded before kept
    # only a version label: say so in the text, and leave the fingerprint empty
    # (there is no text whose fingerprint would prove anything).
    cr.execute(
        "UPDATE avg_consent SET consent_text = "
        "'[Recorded before the consent text was kept; version: ' || text_version "
        "|| '. See the signed document for the text.]' WHERE consent_text IS NULL"
    )
    # The dossier term lived in a system parameter (the policy said "0 days"):
    # the dossier policy holds it now, and Settings writes the policy.
    policy = env.ref("avg_coaching.retention_policy_dossier", raise_if_not_found=False)
    if policy:
        years = env["ir.config_parameter"].get_param(
            "avg_coaching.dossier_retention_years", "7"
        )
        policy.write(
            {"period": 5 if str(years).strip() == "5" else 7, "period_unit": "years"}
        )
        env["ir.config_parameter"].search(
            [("key", "=", "avg_coaching.dossier_retention_years")]
        ).unlink()
    # One mail template per step of a request replaces the generic one that
    # Python filled with its text (issue 16).
    generic = env.ref(
        "avg_coaching.mail_template_avg_request_message", raise_if_not_found=False
    )
    if generic:
        generic.unlink()
    # One cron for retention: the reminders run at the end of the purge.
    cron = env.ref("avg_coaching.ir_cron_retention_reminders", raise_if_not_found=False)
    if cron:
        cron.unlink()
    # Contacts made with a date of birth or an employer lost their last-contact
    # date (the private fields' inverse wrote it empty), so the contact term
    # never reached them: take the latest of their record and their messages.
    cr.execute(
        """
        UPDATE res_partner p
           SET avg_last_contact_stored = GREATEST(
                   p.create_date, p.write_date,
                   (SELECT max(m.date) FROM mail_message m
                     WHERE m.author_id = p.id
                        OR (m.model = 'res.partner' AND m.res_id = p.id))
               )::date
         WHERE p.avg_last_contact_stored IS NULL AND p.avg_erased_date IS NULL
        """
    )
    _refresh_shipped_texts(env)
    # Coaches land in Coaching after login (issue 17): existing coaches too.
    env["res.users"].with_context(active_test=False).search([])._avg_set_coach_home()
    # The set-up checklist of the privacy manager (noupdate data, made once).
    env["avg.setup"]._avg_get()
    _shard_data_keys(env)
    _deletion_log_term(env)


def _shard_data_keys(env):
    """Data keys made before the key store are wrapped by the master key alone:
    re-wrap them under the master key and a new shard each (the rotation's own
    code, which skips keys that have one). Without the master key or the key
    store the upgrade goes on: they keep working as they are, and the next
    rotation (Settings > Re-wrap data keys) gives them their shard."""
    legacy = [("state", "=", "active"), ("shard_id", "=", False)]
    if not env["avg.data.key"].search_count(legacy):
        return
    try:
        with env.cr.savepoint():
            count = env["avg.data.key"]._avg_rewrap_all(commit=False)
    except UserError as exc:
        _logger.info("Data keys not given a shard yet (run Re-wrap data keys): %s", exc)
        return
    _logger.info("%s data keys given a shard in the key store", count)


def _deletion_log_term(env):
    """The deletion log's new policy (8 years) is never shorter than the longest
    term the practice keeps: a year more than it where one is longer."""
    log = env.ref(
        "avg_coaching.retention_policy_deletion_log", raise_if_not_found=False
    )
    if not log:
        return
    origin = date(2000, 1, 1)
    others = env["avg.retention.policy"].search([("id", "!=", log.id)])
    longest = max(others, key=lambda p: origin + p._avg_delta(), default=None)
    if longest and origin + log._avg_delta() < origin + longest._avg_delta():
        end = origin + longest._avg_delta() + relativedelta(years=1)
        log.write({"period": (end - origin).days, "period_unit": "days"})


# Texts shipped before (noupdate) and their new versions: replaced only where the
# practice has not changed them, in English and in Dutch where the value is still the
# shipped translation ([{xmlid, field, old, new}], in English).
SHIPPED_TEXTS = os.path.join(os.path.dirname(__file__), "shipped_texts.json")


def _refresh_shipped_texts(env):
    po = _nl_terms()
    langs = [code for code, _name in env["res.lang"].get_installed()]
    with open(SHIPPED_TEXTS, encoding="utf-8") as handle:
        shipped = json.load(handle)
    for text in shipped:
        xmlid, fname, old, new = (text[k] for k in ("xmlid", "field", "old", "new"))
        record = env.ref(f"avg_coaching.{xmlid}", raise_if_not_found=False)
        if not record:
            continue
        values = {}
        for lang in langs:
            current = record.with_context(lang=lang)[fname]
            if lang == "en_US" and current == old:
                values[lang] = new
            elif lang.startswith("nl") and current in (old, po.get(old)):
                values[lang] = po.get(new, new)
        if "en_US" in values:
            record.with_context(lang="en_US").write({fname: values.pop("en_US")})
        if values:
            record.update_field_translations(fname, values)


def _nl_terms():
    """{English: Dutch} of nl.po, the texts shipped before included (Odoo's own
    reader leaves out what the template no longer has)."""
    path = os.path.normpath(
        os.path.join(os.path.dirname(__file__), "..", "..", "i18n", "nl.po")
    )
    return {entry.msgid: entry.msgstr for entry in polib.pofile(path) if entry.msgstr}
