"""18.0.1.1.0: the contact retention policy counts from the stored last-contact
date (the shown one is computed per user); invoices find their dossier through
their sessions. A disclosure to an insurer keeps the number of sessions it
covered (it outlives them once the client is erased)."""

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
    cr.execute(
        "UPDATE coaching_insurer_disclosure d SET session_count = ("
        " SELECT count(*) FROM coaching_insurer_disclosure_coaching_session_rel r"
        " WHERE r.coaching_insurer_disclosure_id = d.id)"
        " WHERE COALESCE(d.session_count, 0) = 0"
    )
