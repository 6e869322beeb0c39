"""The one way through the delete guards of the addon.

Contacts of clients, dossiers and what belongs to them are deleted only by the
erasure path (``res.partner._avg_erase``) and the retention engine
(``avg.retention.policy``). Both run as superuser with a token in the context that
no user can forge: the token is a Python object, and a context that comes over
JSON-RPC holds only JSON values (the same device as the accounting audit trail's
``bypass_audit``). A context key alone could be sent by any RPC caller, and
superuser alone is what ``privacy_lookup`` and other ``sudo()`` code paths have.
"""

_TOKEN = object()
_KEY = "avg_erasure"


def erasure_env(env):
    """``env`` as superuser, let through the delete guards (erasure path and
    retention engine only)."""
    return env(su=True, context=dict(env.context, **{_KEY: _TOKEN}))


def erasure_allowed(env):
    """True in the erasure path and the retention engine, and while a module is
    installed, updated or uninstalled (the registry is loading: superuser only,
    no request can reach it)."""
    if not env.su:
        return False
    return env.context.get(_KEY) is _TOKEN or not env.registry.ready
