"""The notification the web client shows after a button (Odoo's
``display_notification`` client action), made in one place."""


def notification(message, kind="success", sticky=False, reload=False):
    """A client action showing ``message``; with ``reload``, the view is read
    again afterwards (a button whose effect the form shows)."""
    params = {"type": kind, "message": message, "sticky": sticky}
    if reload:
        params["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": params,
    }
