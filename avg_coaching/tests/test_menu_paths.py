"""Every message of the addon that names a menu ("Coaching > Privacy > ...",
"Settings > Coaching > ...") names one that exists, in English and in its Dutch
translation, and one its reader can open (issue 17). The paths are collected
from the addon's terms, as Odoo exports them: a new message is checked too."""

import html
import os
import re

import polib

from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.translate import TranslationModuleReader

import odoo.addons.avg_coaching as addon

from .common import COACH

# Where a menu path starts: the two apps messages send people to.
START = re.compile(r"\b(Coaching|Settings|Instellingen) > ")
SEP = " > "
# Only the administrator opens Settings: a message naming it says who does it.
ADMINISTRATOR = ("administrator", "beheerder")
# A menu the coach cannot open may be named for the privacy manager, saying so.
PRIVACY_MANAGER = ("privacy manager", "privacybeheerder", "privacyverantwoordelijke")


@tagged("post_install", "-at_install")
class TestMenuPaths(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = new_test_user(
            cls.env, "paths_coach", groups=f"base.group_user,{COACH}"
        )
        po = polib.pofile(
            os.path.join(os.path.dirname(addon.__file__), "i18n", "nl.po")
        )
        cls.dutch = {e.msgid: e.msgstr for e in po if e.msgstr and not e.obsolete}
        cls.dutch_base = cls._base_menu_names()
        reader = TranslationModuleReader(cls.env.cr, ["avg_coaching"])
        cls.terms = {src for _m, _t, _n, _r, src, _tr, _c in reader if src}

    @classmethod
    def _base_menu_names(cls):
        """Dutch names of Odoo's own menus (the test database need not have
        Odoo's Dutch installed): from base's nl.po."""
        from odoo.addons import base

        path = os.path.join(os.path.dirname(base.__file__), "i18n", "nl.po")
        names = {}
        for entry in polib.pofile(path):
            if entry.msgstr and any(
                "model:ir.ui.menu" in occurrence
                for occurrence, _line in entry.occurrences
            ):
                names[entry.msgid] = entry.msgstr
        names["Settings"] = "Instellingen"
        return names

    # ---------------------------------------------------------------- the tree
    def _name(self, record_name, dutch):
        if not dutch:
            return record_name
        return self.dutch.get(record_name) or self.dutch_base.get(
            record_name, record_name
        )

    def _children(self, node, dutch):
        """[(name, node)] below ``node``: a menu, the Coaching settings app (its
        blocks) or None (the top-level menus)."""
        Menu = self.env["ir.ui.menu"].with_context(
            lang="en_US", **{"ir.ui.menu.full_list": True}
        )
        if node is None:
            menus = Menu.search([("parent_id", "=", False)])
        elif isinstance(node, str):  # the settings app
            arch = self.env.ref("avg_coaching.res_config_settings_view_form").arch_db
            titles = re.findall(r'<block title="([^"]+)"', arch)
            return [(self._name(html.unescape(t), dutch), ("block", t)) for t in titles]
        elif isinstance(node, tuple):
            return []
        else:
            menus = Menu.search([("parent_id", "=", node.id)])
            if node == self.env.ref("base.menu_administration"):
                # Settings > Coaching is the addon's page of the settings app.
                return [(self._name("Coaching", dutch), "settings_app")] + [
                    (self._name(m.name, dutch), m) for m in menus
                ]
        return [(self._name(m.name, dutch), m) for m in menus]

    def _resolve(self, text, dutch):
        """The menu (or settings block) the path at the start of ``text`` names,
        and the path as read; None where a step names no menu."""
        node, read, rest = None, [], text
        while True:
            matches = [
                (name, child)
                for name, child in self._children(node, dutch)
                if rest.startswith(name)
            ]
            if not matches:
                return None, SEP.join(read + [rest[:40]])
            name, node = max(matches, key=lambda m: len(m[0]))
            read.append(name)
            rest = rest[len(name) :]
            if not rest.startswith(SEP):
                return node, SEP.join(read)
            rest = rest[len(SEP) :]

    def _paths(self, text):
        text = html.unescape(text)
        # A path's own later steps ("Settings > Coaching > ...") start none.
        return [
            text[m.start() :]
            for m in START.finditer(text)
            if not text[: m.start()].endswith(SEP)
        ]

    # ---------------------------------------------------------------- the test
    def test_every_named_menu_exists_and_is_reachable(self):
        visible = self.env["ir.ui.menu"].with_user(self.coach)._visible_menu_ids()
        checked, problems = 0, []
        for term in sorted(self.terms):
            for dutch, text in ((False, term), (True, self.dutch.get(term, ""))):
                for path in self._paths(text):
                    checked += 1
                    node, read = self._resolve(path, dutch)
                    lowered = text.lower()
                    if node is None:
                        problems.append(f"no such menu: {read!r} in {text!r}")
                    elif isinstance(node, str | tuple):  # a settings page or block
                        if not any(word in lowered for word in ADMINISTRATOR):
                            problems.append(
                                f"Settings named without saying the administrator "
                                f"opens it: {text!r}"
                            )
                    elif node.id not in visible and not any(
                        word in lowered for word in ADMINISTRATOR + PRIVACY_MANAGER
                    ):
                        problems.append(
                            f"a coach cannot open {read!r} named in {text!r}"
                        )
        self.assertGreater(checked, 20, "the messages that name menus were found")
        self.assertFalse(problems, "\n".join(problems))

    def test_a_wrong_path_is_found(self):
        """The check itself: an old path and a settings page for the coach fail."""
        node, _read = self._resolve("Coaching > Consents first.", False)
        self.assertIsNone(node)
        node, read = self._resolve(
            "Coaching > Privacy > Requests and consents > Consents first.", False
        )
        self.assertEqual(node, self.env.ref("avg_coaching.avg_consent_menu"))
        self.assertEqual(read, "Coaching > Privacy > Requests and consents > Consents")
        node, _read = self._resolve("Settings > Coaching > Security.", False)
        self.assertEqual(node, ("block", "Security"))
