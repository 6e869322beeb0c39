from odoo import _, models
from odoo.exceptions import UserError

# Marks the addon's own content-free notes: a Python object, which no caller
# can put in a context over JSON-RPC (a plain value could be sent by anyone).
SYSTEM_NOTE = object()


class AvgContentChatter(models.AbstractModel):
    """Chatter on dossier content keeps only what the system writes.

    Messages are not encrypted: their text is copied into e-mails (``mail.mail``,
    which the administrator reads) and into the bus (``bus.bus``). So on a dossier
    and its ZKM transfers nobody writes free messages or notes: what matters goes
    in the dossier's own, encrypted fields, and documents for the client go as a
    password-protected PDF. The chatter keeps the tracking of states and dates,
    the activities and the addon's own content-free notes (posted with
    :meth:`_avg_system_note`). Listed first in ``_inherit`` so that it comes before
    ``mail.thread``.
    """

    _name = "avg.content.chatter"
    _description = "Chatter without free text on dossier content"

    def message_post(self, **kwargs):
        if (
            kwargs.get("message_type") == "comment"
            and self.env.context.get("avg_system_message") is not SYSTEM_NOTE
        ):
            raise UserError(
                _(
                    "Messages and notes cannot be written on a dossier: they are not "
                    "encrypted and would be copied into e-mails. Write it in the "
                    "dossier's own fields (help question, personal notes, session "
                    "notes), which are encrypted; send the client a document with "
                    "'Send protected document'."
                )
            )
        return super().message_post(**kwargs)

    def _avg_system_note(self, **kwargs):
        """Post one of the addon's own content-free notes."""
        return self.with_context(avg_system_message=SYSTEM_NOTE).message_post(**kwargs)
