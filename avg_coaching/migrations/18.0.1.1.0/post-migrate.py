"""18.0.1.1.0: invoices find their dossier through their sessions; the retention
policies are the one source of every term (issue 14), and the engine runs the
dossier reminders itself (issue 16)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # The invoice no longer stores its dossier (found through its sessions).
    cr.execute("ALTER TABLE account_move DROP COLUMN IF EXISTS coaching_dossier_id")
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
    # One cron for retention: the reminders run at the end of the purge.
    cron = env.ref("avg_coaching.ir_cron_retention_reminders", raise_if_not_found=False)
    if cron:
        cron.unlink()
