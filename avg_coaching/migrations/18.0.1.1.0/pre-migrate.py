"""18.0.1.1.0: the contact data only a client's coach sees are kept in fields of
their own (``*_stored``) and shown through fields computed per user; keep the
values by renaming the columns before the module is loaded. The ZKM export copy's
field is renamed (its old name shadowed the ORM's export_data())."""

from odoo.tools import SQL

RENAMED = {
    "coaching_birthdate": "coaching_birthdate_stored",
    "coaching_employer": "coaching_employer_stored",
    "avg_last_contact": "avg_last_contact_stored",
}


def migrate(cr, version):
    # The ZKM export copy: field export_data shadowed the ORM's export_data().
    cr.execute(
        "UPDATE ir_attachment SET res_field = 'export_content_enc' "
        "WHERE res_model = 'coaching.moment.transfer' AND res_field = 'export_data_enc'"
    )
    for old, new in RENAMED.items():
        cr.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'res_partner' AND column_name = %s",
            [old],
        )
        if cr.fetchone():
            cr.execute(
                SQL(
                    "ALTER TABLE res_partner RENAME COLUMN %s TO %s",
                    SQL.identifier(old),
                    SQL.identifier(new),
                )
            )
