from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

RECIPIENT_KINDS = [
    ("insurer", "Health insurer"),
    ("commissioner", "Commissioner of the trajectory"),
    ("zkm", "ZKM Computer Service (processor)"),
    ("bookkeeper", "Bookkeeper / administration"),
]
RESOLVED = ("done", "impossible", "disproportionate")


class AvgRequestRecipient(models.Model):
    """Art. 19 GDPR: a rectification, erasure or restriction is passed on to every
    recipient to whom the data were disclosed, unless that proves impossible or
    involves disproportionate effort. One task per recipient, derived from what
    was shared (disclosures to insurers, the dossiers' commissioners, transfers to
    the ZKM Computer Service, invoices); the request closes once each is done or
    the reason it is not has been recorded.

    The task names the recipient (an organisation, or the practice's own
    bookkeeper), never the data subject: it stays as evidence when her request is
    anonymised by the erasure."""

    _name = "avg.request.recipient"
    _description = "Recipient to inform of a request (art. 19)"
    _order = "request_id, sequence, id"

    request_id = fields.Many2one(
        "avg.request", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        RECIPIENT_KINDS, string="Recipient", required=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Organisation",
        readonly=True,
        ondelete="set null",
        help="The organisation (or person of the practice) that received the data.",
    )
    name = fields.Char(string="Received by", required=True, readonly=True)
    what = fields.Char(
        string="What it received",
        readonly=True,
        help="Kinds and dates of what was shared: no content.",
    )
    state = fields.Selection(
        [
            ("todo", "To inform"),
            ("done", "Informed"),
            ("impossible", "Impossible"),
            ("disproportionate", "Disproportionate effort"),
        ],
        required=True,
        default="todo",
        readonly=True,
    )
    note = fields.Text(
        string="How, or why not",
        help="How the recipient was informed, or why informing it is impossible or "
        "would take disproportionate effort (art. 19 GDPR).",
    )
    date_done = fields.Date(string="Dealt with on", readonly=True)
    done_uid = fields.Many2one("res.users", string="Dealt with by", readonly=True)

    @api.constrains("state", "note")
    def _check_reason(self):
        for task in self:
            if task.state in ("impossible", "disproportionate") and not (
                (task.note or "").strip()
            ):
                raise ValidationError(
                    _(
                        "Record why informing %(recipient)s is impossible or "
                        "disproportionate: it is the evidence art. 19 GDPR asks for.",
                        recipient=task.name,
                    )
                )

    # ---------------------------------------------------------------- actions
    def action_mark_done(self):
        return self._avg_resolve("done")

    def action_mark_impossible(self):
        return self._avg_resolve("impossible")

    def action_mark_disproportionate(self):
        return self._avg_resolve("disproportionate")

    def action_reopen(self):
        for task in self:
            if task.request_id.state not in ("verified", "in_progress"):
                raise UserError(_("The request is closed: its tasks stay as they are."))
        self.write({"state": "todo", "date_done": False, "done_uid": False})
        return True

    def _avg_resolve(self, state):
        for task in self:
            task.request_id.check_access("write")
            if task.state != "todo":
                raise UserError(
                    _("%(recipient)s has already been dealt with.", recipient=task.name)
                )
        self.write(
            {
                "state": state,
                "date_done": fields.Date.context_today(self),
                "done_uid": self.env.uid,
            }
        )
        # The last one dealt with closes the request and tells the requester.
        for request in self.request_id:
            request._avg_close_if_recipients_done()
        return True

    # ---------------------------------------------------------------- derive
    @api.model
    def _avg_recipients_of(self, request):
        """[{kind, partner_id, name, what}] of those who received the data the
        ``request`` changes, derived from the records of the practice (not a
        fixed list)."""
        env = self.env
        partner = request.partner_id.sudo()
        found = []
        date = fields.Date.to_string
        # Health insurers: what the coach recorded as shared with them.
        disclosures = (
            env["coaching.insurer.disclosure"]
            .sudo()
            .search([("client_id", "=", partner.id)], order="date, id")
        )
        labels = dict(disclosures._fields["shared"]._description_selection(env))
        for insurer in disclosures.insurer_id:
            mine = disclosures.filtered(lambda d, i=insurer: d.insurer_id == i)
            found.append(
                {
                    "kind": "insurer",
                    "partner_id": insurer.id,
                    "name": insurer.name,
                    "what": "; ".join(
                        f"{date(d.date)}: {labels[d.shared]}" for d in mine
                    ),
                }
            )
        dossiers = (
            env["coaching.dossier"].sudo().search([("client_id", "=", partner.id)])
        )
        # The commissioners of her trajectories (the agreement, the invoices).
        for commissioner in dossiers.commissioner_id:
            refs = dossiers.filtered(lambda d, c=commissioner: d.commissioner_id == c)
            found.append(
                {
                    "kind": "commissioner",
                    "partner_id": commissioner.id,
                    "name": commissioner.name,
                    "what": _(
                        "Commissioner of %(count)s of her trajectories",
                        count=len(refs),
                    ),
                }
            )
        # The ZKM Computer Service received her personal moments (never her name
        # or contact details): only what concerns the dossier's content.
        transfers = (
            env["coaching.moment.transfer"]
            .sudo()
            .search(
                [("dossier_id", "in", dossiers.ids), ("export_date", "!=", False)],
                order="export_date, id",
            )
        )
        # (A contact detail never went there: only a correction of the content.)
        if transfers and (
            request.request_type in ("erasure", "restriction")
            or request.rectification_field == "other"
        ):
            recipient = transfers._avg_zkm_recipient()
            processor = transfers.agreement_id.partner_id[:1] or (
                recipient.sudo().partner_id if recipient else env["res.partner"]
            )
            found.append(
                {
                    "kind": "zkm",
                    "partner_id": processor.id,
                    "name": processor.name or _("ZKM Computer Service"),
                    "what": _(
                        "Personal moments, exported %(dates)s",
                        dates=", ".join(date(t.export_date.date()) for t in transfers),
                    ),
                }
            )
        # The bookkeeper: the register's processors of bookkeeping and invoicing,
        # when there are posted invoices to her.
        invoices = (
            env["account.move"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "=", "posted"),
                ]
            )
        )
        if invoices:
            bookkeepers = (
                env["avg.processing.recipient"]
                .sudo()
                .search(
                    [
                        ("activity_id.code", "in", ("bookkeeping", "invoicing")),
                        ("recipient_type", "=", "processor"),
                    ]
                )
            )
            seen = set()
            for bookkeeper in bookkeepers:
                key = bookkeeper.partner_id.id or bookkeeper.name
                if key in seen:
                    continue
                seen.add(key)
                found.append(
                    {
                        "kind": "bookkeeper",
                        "partner_id": bookkeeper.partner_id.id,
                        "name": bookkeeper.partner_id.name or bookkeeper.name,
                        "what": _(
                            "%(count)s invoice(s), %(first)s to %(last)s",
                            count=len(invoices),
                            first=date(min(invoices.mapped("invoice_date"))),
                            last=date(max(invoices.mapped("invoice_date"))),
                        ),
                    }
                )
        return found
