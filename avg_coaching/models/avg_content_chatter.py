from odoo import _, models
from odoo.exceptions import UserError


class AvgContentChatter(models.AbstractModel):
    """Chatter on dossier content keeps only what the system writes.

    Messages are not encrypted: their text is copied into e-mails (``mail.mail``,
    which the administrator reads) and into the bus (``bus.bus``). So on a dossier
    and its ZKM transfers nobody writes free messages or notes: what matters goes
    in the dossier's own, encrypted fields, and documents for the client go as a
    password-protected PDF. The chatter keeps the tracking of states and dates,
    the activities and the addon's own content-free notes (posted with
    ``avg_system_message``). Listed first in ``_inherit`` so that it comes before
    ``mail.thread``.
    """

    _name = "avg.content.chatter"
    _description = "Chatter without free text on dossier content"

    def message_post(self, **kwargs):
        if kwargs.get("message_type") == "comment" and not self.env.context.get(
            "avg_system_message"
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
