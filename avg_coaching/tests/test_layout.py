"""The addon's own view of the checks Odoo's and OCA's tooling make on it."""

import ast
import os
import re

from odoo.tests import TransactionCase, tagged

# The pattern of base's TestInvisibleField (odoo/addons/base/tests/test_views.py):
# a field tag that is always invisible must be followed by a comment saying why.
UNCOMMENTED_INVISIBLE = re.compile(
    r"""(<field [^>]*invisible=['"](True|1)['"][^>]*>)[\s\t\n ]*(.*)"""
)


@tagged("post_install", "-at_install")
class TestLayout(TransactionCase):
    def test_always_invisible_fields_say_why(self):
        """What base's TestInvisibleField logs as an ERROR, for this addon only."""
        views = (
            self.env["ir.ui.view"]
            .search([("type", "in", ("list", "form"))])
            .filtered(lambda v: v.model_data_id.module == "avg_coaching")
        )
        self.assertTrue(views)
        uncommented = [
            f"{view.model_data_id.name}: {field}"
            for view in views
            for field, _value, comment in UNCOMMENTED_INVISIBLE.findall(view.arch_db)
            if not comment.startswith("<!--")
        ]
        self.assertFalse(uncommented, "always invisible fields without a comment")

    def test_every_test_module_is_imported(self):
        """Odoo's runner only runs the test modules tests/__init__.py imports."""
        tests_dir = os.path.dirname(__file__)
        with open(os.path.join(tests_dir, "__init__.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1
            for alias in node.names
        }
        modules = {
            name[:-3]
            for name in os.listdir(tests_dir)
            if name.startswith("test_") and name.endswith(".py")
        }
        self.assertFalse(sorted(modules - imported), "test modules not imported")
