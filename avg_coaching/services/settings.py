"""System parameters (Settings > Technical > System Parameters) read as typed
values, with the fallback the addon uses when one is missing or unreadable."""


def get_int(env, key, default, minimum=0):
    """The integer system parameter ``key``, at least ``minimum``; ``default``
    when it is unset, empty or not a number. Read as superuser: these are the
    practice's settings, not data a user may or may not see."""
    value = env["ir.config_parameter"].sudo().get_param(key)
    try:
        return max(int(value), minimum) if value else default
    except ValueError:
        return default
