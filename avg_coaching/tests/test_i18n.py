import os

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

import odoo.addons.avg_coaching as addon


@tagged("post_install", "-at_install")
class TestDutch(TransactionCase):
    def test_nl_po_translates_every_term(self):
        """Every term Odoo would export for the addon has a Dutch translation."""
        po = polib.pofile(
            os.path.join(os.path.dirname(addon.__file__), "i18n", "nl.po")
        )
        translated = {
            entry.msgid for entry in po if entry.msgstr and not entry.obsolete
        }
        # The export reads translatable records in Dutch: the language must exist.
        self.env["res.lang"]._activate_lang("nl_NL")
        reader = TranslationModuleReader(self.env.cr, ["avg_coaching"], lang="nl_NL")
        terms = {src for _module, _type, _name, _res_id, src, _t, _c in reader if src}
        missing = sorted(terms - translated)
        self.assertFalse(missing, f"{len(missing)} terms lack a Dutch translation")

    def test_placeholders_kept(self):
        po = polib.pofile(
            os.path.join(os.path.dirname(addon.__file__), "i18n", "nl.po")
        )
        for entry in po:
            for placeholder in ("%(", "%s"):
                self.assertEqual(
                    entry.msgid.count(placeholder),
                    entry.msgstr.count(placeholder),
                    entry.msgid,
                )
