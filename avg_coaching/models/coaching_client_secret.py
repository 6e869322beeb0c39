import io
import secrets
import string

import pyzipper

# pypdf, not Odoo's PyPDF2 2.x: only pypdf encrypts with AES-256.
from pypdf import PdfReader, PdfWriter

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .avg_encrypted_mixin import EncryptedText

MIN_PASSWORD_LENGTH = 12
MIN_CHARACTER_KINDS = 3


class CoachingClientSecret(models.Model):
    """The password agreed with a client for the documents shared with her.

    Seed 004 §2 and §5: information is shared with the client only in documents
    protected by a strong password, unique per client. The password is stored only
    encrypted, under the client's data key (so erasing the client shreds it too).
    """

    _name = "coaching.client.secret"
    _description = "Document password agreed with a client"
    _avg_erasure = "delete"
    _inherit = ["avg.encrypted.mixin"]
    _avg_access_kind = "password"
    _rec_name = "partner_id"
    _avg_subject_field = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        required=True,
        index=True,
        ondelete="cascade",
        domain=[("is_coaching_client", "=", True)],
    )
    password = EncryptedText(
        string="Document password",
        required=True,
        help="Agreed with the client in person or by phone, never by e-mail. At "
        "least 12 characters mixing lower case, upper case, digits or symbols.",
    )
    password_enc = fields.Text(copy=False, groups="base.group_system")
    date_agreed = fields.Date(
        string="Agreed on", required=True, default=fields.Date.context_today
    )

    _sql_constraints = [
        (
            "partner_uniq",
            "unique(partner_id)",
            "A client has one document password: change the existing one.",
        ),
    ]

    @api.model
    def _avg_check_password(self, password):
        password = password or ""
        kinds = sum(
            any(test(char) for char in password)
            for test in (
                str.islower,
                str.isupper,
                str.isdigit,
                lambda c: c in string.punctuation or c.isspace(),
            )
        )
        if len(password) < MIN_PASSWORD_LENGTH or kinds < MIN_CHARACTER_KINDS:
            raise ValidationError(
                _(
                    "The document password is not strong enough. Agree a password "
                    "of at least %(length)s characters with the client that mixes at "
                    "least %(kinds)s of: lower case, upper case, digits, symbols.",
                    length=MIN_PASSWORD_LENGTH,
                    kinds=MIN_CHARACTER_KINDS,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._avg_check_password(vals.get("password"))
        return super().create(vals_list)

    def write(self, vals):
        if "password" in vals:
            self._avg_check_password(vals["password"])
        return super().write(vals)

    @api.model
    def _avg_get(self, partner):
        """The usable password agreed with ``partner``, or a UserError saying what to
        do."""
        secret = self.search([("partner_id", "=", partner.id)], limit=1)
        if not secret:
            raise UserError(
                _(
                    "No document password has been agreed with %(client)s. Agree one "
                    "with the client (in person or by phone) and record it under "
                    "Coaching > Privacy > Security > Document passwords first.",
                    client=partner.display_name,
                )
            )
        if secret.avg_key_state != "ok" or not secret.password:
            raise UserError(
                _(
                    "The document password of %(client)s cannot be read (the "
                    "encryption key is unavailable or erased). Nothing was sent.",
                    client=partner.display_name,
                )
            )
        return secret.password

    @api.model
    def _avg_protect_pdf(self, partner, pdf_content):
        """Encrypt a PDF with AES-256 under the password agreed with ``partner``."""
        password = self._avg_get(partner)
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_content)))
        writer.encrypt(
            user_password=password,
            owner_password=secrets.token_urlsafe(32),
            algorithm="AES-256",
        )
        stream = io.BytesIO()
        writer.write(stream)
        return stream.getvalue()

    @api.model
    def _avg_protect_zip(self, partner, files):
        """Pack ``files`` ({name: bytes}) in a zip encrypted with AES-256 (WinZip
        AE-2, which 7-Zip, WinZip, macOS's Archive Utility and Windows 11 open)
        under the password agreed with ``partner``."""
        password = self._avg_get(partner)
        stream = io.BytesIO()
        with pyzipper.AESZipFile(
            stream, "w", compression=pyzipper.ZIP_DEFLATED
        ) as archive:
            archive.setpassword(password.encode())
            archive.setencryption(pyzipper.WZ_AES, nbits=256)
            for name, content in files.items():
                archive.writestr(name, content)
        return stream.getvalue()

    @api.model
    def _avg_protected_report(self, partner, report_ref, records):
        """Render ``report_ref`` for ``records`` and return the PDF encrypted for
        ``partner``. The unencrypted PDF is never stored."""
        records.check_access("read")
        pdf, report_type = self.env["ir.actions.report"]._render_qweb_pdf(
            report_ref, records.ids
        )
        if report_type != "pdf":
            # Odoo renders HTML instead when it cannot make a PDF (test mode).
            raise UserError(
                _(
                    "The document could not be made as a PDF, so it was not shared. "
                    "Ask the administrator to check that wkhtmltopdf is installed."
                )
            )
        return self._avg_protect_pdf(partner, pdf)
