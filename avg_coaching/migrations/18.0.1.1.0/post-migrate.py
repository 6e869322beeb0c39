"""18.0.1.1.0: the contact retention policy counts from the stored last-contact
date (the shown one is computed per user); invoices find their dossier through
their sessions."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    policy = env.ref("avg_coaching.retention_policy_contact", raise_if_not_found=False)
    field = env.ref(
        "avg_coaching.field_res_partner__avg_last_contact_stored",
        raise_if_not_found=False,
    )
    if policy and field:
        policy.date_field_id = field
    # The invoice no longer stores its dossier (found through its sessions).
    cr.execute("ALTER TABLE account_move DROP COLUMN IF EXISTS coaching_dossier_id")
    # Consents now keep the text agreed to (art. 7(1)). Those recorded before kept
    # only a version label: say so in the text, and leave the fingerprint empty
    # (there is no text whose fingerprint would prove anything).
    cr.execute(
        "UPDATE avg_consent SET consent_text = "
        "'[Recorded before the consent text was kept; version: ' || text_version "
        "|| '. See the signed document for the text.]' WHERE consent_text IS NULL"
    )
