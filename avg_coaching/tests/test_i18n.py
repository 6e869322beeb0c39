import os
import re

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
        # Source terms only: no language needs to be installed on the test database.
        reader = TranslationModuleReader(self.env.cr, ["avg_coaching"])
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

    def test_dutch_says_je(self):
        """The practice's own documents address the client as "je"; the addon
        does too, everywhere (a page mixing "u" and "je" reads as two authors).
        "u" as the abbreviation of hours ("%(hours)s u") is not the pronoun."""
        po = polib.pofile(
            os.path.join(os.path.dirname(addon.__file__), "i18n", "nl.po")
        )
        formal = re.compile(r"(?<!%\(hours\)s )\b(?:[Uu]|[Uu]w|[Uu]zelf)\b")
        found = sorted(entry.msgstr for entry in po if formal.search(entry.msgstr))
        self.assertFalse(found, f"{len(found)} Dutch texts say 'u': {found[:3]}")

    def test_pot_names_every_record_of_a_term(self):
        """Odoo reads which view or record a translation belongs to from the
        template (avg_coaching.pot), not from nl.po: a term moved to another
        view, or used in a new one, stays English there until the template is
        made again (issue 17: the access export printed its headings in English).
        Make it with ``odoo-bin --i18n-export=avg_coaching/i18n/avg_coaching.pot
        --modules=avg_coaching``."""
        pot = polib.pofile(
            os.path.join(os.path.dirname(addon.__file__), "i18n", "avg_coaching.pot")
        )
        named = {
            (entry.msgid, occurrence)
            for entry in pot
            for occurrence, _line in entry.occurrences
        }
        reader = TranslationModuleReader(self.env.cr, ["avg_coaching"])
        unnamed = sorted(
            f"{res_id}: {src}"
            for _module, type_, name, res_id, src, _t, _c in reader
            if src
            and type_ != "code"
            and (src, f"{type_}:{name}:{res_id}") not in named
        )
        self.assertFalse(unnamed, f"{len(unnamed)} terms not in avg_coaching.pot")
