from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

SESSION_PRODUCT = "avg_coaching.product_coaching_session"
SESSION_PRODUCT_PARAM = "avg_coaching.session_product_id"


class CoachingInvoiceWizard(models.TransientModel):
    """Invoice a dossier's sessions to its commissioner or to the client.

    The invoice names the trajectory reference and each session's date and duration,
    never anything the dossier holds (help question, notes, treatment...).
    """

    _name = "coaching.invoice.wizard"
    _description = "Invoice coaching sessions"

    dossier_id = fields.Many2one(
        "coaching.dossier", required=True, readonly=True, ondelete="cascade"
    )
    bill_to = fields.Selection(
        [("commissioner", "The commissioner"), ("client", "The client")],
        string="Invoice to",
        required=True,
        compute="_compute_bill_to",
        store=True,
        readonly=False,
        precompute=True,
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", compute="_compute_partner_id"
    )
    product_id = fields.Many2one(
        "product.product",
        string="Service",
        required=True,
        domain=[("type", "=", "service"), ("sale_ok", "=", True)],
        default=lambda self: self._default_product(),
    )
    price_unit = fields.Float(
        string="Hourly rate",
        digits="Product Price",
        required=True,
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
        help=(
            "Price of one hour of coaching (excluding taxes). Defaults to the "
            "service's sales price, which the administrator sets under Settings > "
            "Coaching > Invoicing."
        ),
    )
    invoice_date = fields.Date(
        required=True, default=fields.Date.context_today, string="Invoice date"
    )
    session_ids = fields.Many2many(
        "coaching.session",
        string="Sessions",
        compute="_compute_session_ids",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('dossier_id', '=', dossier_id), ('is_invoiced', '=', False)]",
    )
    total_hours = fields.Float(compute="_compute_total_hours")

    @api.model
    def _default_product(self):
        param = self.env["ir.config_parameter"].sudo().get_param(SESSION_PRODUCT_PARAM)
        product = self.env["product.product"].browse(int(param or 0)).exists()
        return product or self.env.ref(SESSION_PRODUCT, raise_if_not_found=False)

    @api.depends("dossier_id")
    def _compute_bill_to(self):
        for wizard in self:
            wizard.bill_to = (
                "commissioner" if wizard.dossier_id.commissioner_id else "client"
            )

    @api.depends("bill_to", "dossier_id")
    def _compute_partner_id(self):
        for wizard in self:
            dossier = wizard.dossier_id
            wizard.partner_id = (
                dossier.commissioner_id
                if wizard.bill_to == "commissioner"
                else dossier.client_id
            )

    @api.depends("product_id")
    def _compute_price_unit(self):
        for wizard in self:
            wizard.price_unit = wizard.product_id.lst_price

    @api.depends("dossier_id", "invoice_date")
    def _compute_session_ids(self):
        for wizard in self:
            sessions = wizard.dossier_id._avg_sessions_to_invoice()
            wizard.session_ids = sessions.filtered(
                lambda s, day=wizard.invoice_date: not day or s.date <= day
            )

    @api.depends("session_ids.duration")
    def _compute_total_hours(self):
        for wizard in self:
            wizard.total_hours = sum(wizard.session_ids.mapped("duration"))

    def action_create_invoice(self):
        self.ensure_one()
        move = self._avg_create_invoice()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": move.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def _avg_check(self):
        dossier = self.dossier_id
        # Reading through the record rules: another coach's dossier is refused here.
        dossier.check_access("write")
        self.session_ids.check_access("write")
        if not self.session_ids:
            raise UserError(
                _(
                    "There are no sessions to invoice for dossier %(name)s: every "
                    "session is invoiced already, or dated after the invoice date. "
                    "Record a session or choose a later invoice date.",
                    name=dossier.name,
                )
            )
        foreign = self.session_ids.filtered(lambda s: s.dossier_id != dossier)
        if foreign:
            raise UserError(
                _(
                    "Session %(session)s does not belong to dossier %(name)s: "
                    "invoice it from its own dossier.",
                    session=foreign[0].display_name,
                    name=dossier.name,
                )
            )
        invoiced = self.session_ids.filtered("is_invoiced")
        if invoiced:
            raise UserError(
                _(
                    "Session %(session)s is already invoiced (%(invoice)s). Remove it "
                    "from the selection; cancel that invoice first to invoice it "
                    "again.",
                    session=invoiced[0].display_name,
                    invoice=invoiced[0].invoice_id.name,
                )
            )
        if not self.partner_id:
            raise UserError(
                _(
                    "Dossier %(name)s has no commissioner: invoice the client, or "
                    "record the commissioner on the dossier first.",
                    name=dossier.name,
                )
            )
        if self.price_unit < 0:
            raise UserError(_("The hourly rate cannot be negative: correct it."))

    def _avg_create_invoice(self):
        self.ensure_one()
        self._avg_check()
        dossier = self.dossier_id
        partner = self.partner_id
        lang = partner.lang or self.env.lang
        sessions = self.session_ids.sorted(lambda s: (s.date, s.id))
        move = (
            self.env["account.move"]
            .with_company(dossier.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "company_id": dossier.company_id.id,
                    "partner_id": partner.id,
                    "invoice_date": self.invoice_date,
                    "invoice_origin": dossier.name,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product_id.id,
                                "name": session._avg_invoice_line_name(lang),
                                "quantity": session.duration,
                                "product_uom_id": self.product_id.uom_id.id,
                                "price_unit": self.price_unit,
                            }
                        )
                        for session in sessions
                    ],
                }
            )
        )
        lines = move.invoice_line_ids.sorted("id")
        for session, line in zip(sessions, lines, strict=True):
            session.invoice_line_id = line
        return move
