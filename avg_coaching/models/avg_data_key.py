import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config
from odoo.tools.translate import LazyTranslate

from ..services import crypto

_logger = logging.getLogger(__name__)

# Per-cursor cache of unwrapped data keys: {partner_id: bytes}.
_CACHE_KEY = "avg_coaching.data_keys"
# System parameter: fingerprint of the master key this database's data keys are
# wrapped by. Only the documented rotation (_avg_rewrap_all) changes it.
MASTER_KEY_PARAM = "avg_coaching.master_key_id"

_lt = LazyTranslate(__name__)


class AvgDataKey(models.Model):
    """A data subject's data key, stored only wrapped by the master key.

    Destroying it (crypto-shredding) makes all content encrypted under it unreadable.
    Nobody reads this model directly: the encryption mixin uses it with sudo().
    """

    _name = "avg.data.key"
    # Deleting a key row is crypto-shredding without a trace: the erasure path
    # destroys keys (and logs it), and only it deletes their rows.
    _inherit = ["avg.evidence.mixin"]
    _avg_evidence_refusal = _lt(
        "A data key cannot be deleted: it would make the client's "
        "content unreadable without a trace in the deletion log. Erase "
        "the client through Coaching > Privacy > Data-subject requests."
    )
    _description = "Data key of a data subject (wrapped)"
    _rec_name = "partner_id"
    # Destroyed by the erasure path (crypto-shredding), then kept: no key.
    _avg_subject_field = "partner_id"
    _avg_erasure = "keep"

    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade", readonly=True
    )
    wrapped_key = fields.Char(readonly=True, copy=False)
    master_key_id = fields.Char(
        readonly=True, index=True, help="Fingerprint of the master key that wraps it."
    )
    state = fields.Selection(
        [("active", "Active"), ("destroyed", "Destroyed")],
        default="active",
        required=True,
        readonly=True,
        index=True,
    )
    destroyed_date = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("partner_uniq", "unique(partner_id)", "A data subject has one data key."),
    ]

    # ------------------------------------------------------------------ master keys
    @api.model
    def _avg_master_keys(self):
        """{fingerprint: key} of the configured master keys (current first)."""
        current, previous = crypto.load_master_keys(config)
        keys = {}
        for key in (current, previous):
            if key:
                keys.setdefault(crypto.key_id(key), key)
        return keys

    @api.model
    def _avg_current_master(self):
        current, _previous = crypto.load_master_keys(config)
        if not current:
            raise UserError(
                _(
                    "The encryption master key is unavailable, so dossier content "
                    "cannot be saved. Ask the administrator to configure "
                    "avg_master_key_file (see the README) and restart Odoo."
                )
            )
        return current

    @api.model
    def _avg_recorded_master_id(self):
        """The fingerprint of the master key this database uses, or False.

        Recorded when the first data key is made. A database made before it was
        recorded takes it from its data keys, when they agree on one master key.
        """
        params = self.env["ir.config_parameter"].sudo()
        recorded = params.get_param(MASTER_KEY_PARAM)
        if recorded:
            return recorded
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT master_key_id FROM avg_data_key"
                " WHERE state = 'active' AND master_key_id IS NOT NULL"
            )
        )
        found = [row[0] for row in rows]
        if len(found) == 1:
            params.set_param(MASTER_KEY_PARAM, found[0])
            return found[0]
        return False

    @api.model
    def _avg_check_master(self, master):
        """Refuse a configured master key that is not the one of this database.

        Accepted: the recorded key, or, during the documented rotation, a new key
        with the recorded one configured as the previous key. Content written
        under any other key would be unreadable for good once the right key is
        back. Records the fingerprint when none is recorded yet.
        """
        master_id = crypto.key_id(master)
        recorded = self._avg_recorded_master_id()
        if not recorded:
            self.env["ir.config_parameter"].sudo().set_param(
                MASTER_KEY_PARAM, master_id
            )
            return master_id
        if master_id == recorded:
            return master_id
        _current, previous = crypto.load_master_keys(config)
        if previous and crypto.key_id(previous) == recorded:
            return master_id  # a rotation under way: new keys go under the new key
        raise UserError(
            _(
                "The configured encryption master key (fingerprint %(configured)s) "
                "is not the master key of this database (fingerprint "
                "%(recorded)s), so no new dossier content is saved. Check that "
                "avg_master_key_file (or AVG_MASTER_KEY) names the right key file "
                "and restart Odoo. To change the master key, follow the documented "
                "rotation: configure the old key as avg_master_key_previous_file, "
                "then run Re-wrap data keys.",
                configured=master_id,
                recorded=recorded,
            )
        )

    @api.model
    def _avg_clear_cache(self):
        self.env.cr.cache.pop(_CACHE_KEY, None)

    # ------------------------------------------------------------------ data keys
    @api.model
    def _avg_get_keys(self, partners, create=False):
        """Return {partner_id: bytes | 'missing' | 'destroyed' | 'unavailable' |
        'tampered'} for ``partners``; with ``create``, make keys that do not exist."""
        cache = self.env.cr.cache.setdefault(_CACHE_KEY, {})
        result = {pid: cache[pid] for pid in partners.ids if pid in cache}
        todo = [pid for pid in partners.ids if pid not in result]
        if not todo:
            return result
        records = self.sudo().search([("partner_id", "in", todo)])
        by_partner = {rec.partner_id.id: rec for rec in records}
        masters = self._avg_master_keys() if records else {}
        for pid in todo:
            rec = by_partner.get(pid)
            if not rec:
                result[pid] = "missing"
            elif rec.state == "destroyed":
                result[pid] = "destroyed"
            elif rec.master_key_id not in masters:
                result[pid] = "unavailable"
            else:
                try:
                    result[pid] = crypto.unwrap_key(
                        masters[rec.master_key_id], rec.wrapped_key, pid
                    )
                except crypto.IntegrityError:
                    _logger.error(
                        "Data key of partner %s fails its integrity check", pid
                    )
                    result[pid] = "tampered"
            if isinstance(result[pid], bytes):
                cache[pid] = result[pid]
        if create:
            missing = [pid for pid, key in result.items() if key == "missing"]
            if missing:
                result.update(self._avg_create_keys(missing))
        return result

    @api.model
    def _avg_create_keys(self, partner_ids):
        master = self._avg_current_master()
        master_id = self._avg_check_master(master)
        cache = self.env.cr.cache.setdefault(_CACHE_KEY, {})
        vals_list, made = [], {}
        for pid in partner_ids:
            data_key = crypto.new_data_key()
            vals_list.append(
                {
                    "partner_id": pid,
                    "wrapped_key": crypto.wrap_key(master, data_key, pid),
                    "master_key_id": master_id,
                }
            )
            made[pid] = cache[pid] = data_key
        self.sudo().create(vals_list)
        return made

    def _avg_destroy(self):
        """Crypto-shred: forget the wrapped key. Irreversible."""
        self.sudo().write(
            {
                "wrapped_key": False,
                "state": "destroyed",
                "destroyed_date": fields.Datetime.now(),
            }
        )
        self._avg_clear_cache()
        return True

    @api.model
    def _avg_destroy_for(self, partners):
        """Destroy the data keys of ``partners`` (the erasure path calls this)."""
        keys = self.sudo().search(
            [("partner_id", "in", partners.ids), ("state", "=", "active")]
        )
        return keys._avg_destroy()

    # ------------------------------------------------------------------ rotation
    @api.model
    def _avg_rewrap_all(self, batch_size=200):
        """Re-wrap every data key under the current master key.

        Content is not re-encrypted. Keys already under the current master are
        skipped, so an interrupted run simply continues where it stopped.
        Returns the number of keys re-wrapped.
        """
        master = self._avg_current_master()
        master_id = crypto.key_id(master)
        masters = self._avg_master_keys()
        domain = [("state", "=", "active"), ("master_key_id", "!=", master_id)]
        pending = self.sudo().search(domain)
        unknown = pending.filtered(lambda k: k.master_key_id not in masters)
        if unknown:
            raise UserError(
                _(
                    "%(count)s data keys are wrapped by a master key that is not "
                    "configured. Set the previous key as avg_master_key_previous_file "
                    "and run the rotation again; nothing was changed.",
                    count=len(unknown),
                )
            )
        done = 0
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            for key in batch:
                pid = key.partner_id.id
                data_key = crypto.unwrap_key(
                    masters[key.master_key_id], key.wrapped_key, pid
                )
                key.write(
                    {
                        "wrapped_key": crypto.wrap_key(master, data_key, pid),
                        "master_key_id": master_id,
                    }
                )
            done += len(batch)
            if not (config["test_enable"] or config["test_file"]):
                # Commit per batch so that an interrupted rotation keeps its progress.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._avg_clear_cache()
        # Every data key is under the current master key now: it becomes the key
        # of this database. An interrupted run has not got here yet: the previous
        # key stays the recorded one and the next run continues.
        self.env["ir.config_parameter"].sudo().set_param(MASTER_KEY_PARAM, master_id)
        _logger.info("Re-wrapped %s data keys under master key %s", done, master_id)
        return done

    @api.model
    def action_rewrap_keys(self):
        if not self.env.user.has_group("base.group_system"):
            raise UserError(_("Only an administrator can rotate the master key."))
        count = self._avg_rewrap_all()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(count)s data keys re-wrapped under the new master key.",
                    count=count,
                ),
                "sticky": False,
            },
        }
