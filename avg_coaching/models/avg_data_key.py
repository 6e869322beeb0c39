import base64
import logging
import os
import time

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config
from odoo.tools.translate import LazyTranslate

from ..services import crypto, notify

_logger = logging.getLogger(__name__)

# Cache of unwrapped data keys: {partner_id: bytes}, and the subjects whose key
# rows this transaction holds (_avg_hold_keys): {partner_id}. Both live in
# cr.precommit.data, which Odoo empties at every commit and rollback and when a
# savepoint is entered, released or rolled back: a key made or replaced in a
# savepoint that was rolled back is never used again, and a hold undone by a
# rollback is taken again.
_CACHE_KEY = "avg_coaching.data_keys"
_HELD_KEY = "avg_coaching.data_keys_held"
# Per transaction: the shard handles written or retired (see _avg_touch_shards).
_TOUCHED_KEY = "avg_coaching.shards"
# System parameter: the id of this database's key store (written in the store's
# marker file too), so that a wrong or lost key store is told, not taken for an
# empty one.
KEY_STORE_PARAM = "avg_coaching.key_store_id"
# When each database's key store was last swept by this process.
_LAST_SWEEP = {}
SWEEP_EVERY = 3600  # seconds
# System parameter: fingerprint of the master key this database's data keys are
# wrapped by. Only the documented rotation (_avg_rewrap_all) changes it.
MASTER_KEY_PARAM = "avg_coaching.master_key_id"

_lt = LazyTranslate(__name__)


class AvgDataKey(models.Model):
    """A data subject's data key, stored only wrapped by a key derived from the
    master key and the key's shard in the key store (``services/crypto.py``).

    Destroying it (crypto-shredding) shreds its shard, which makes all content
    encrypted under it unreadable, in backups of the database made before too.
    Nobody reads this model directly: the encryption mixin uses it with sudo().
    """

    _name = "avg.data.key"
    # Deleting a key row is crypto-shredding without a trace: the erasure path
    # destroys keys (and logs it), and only it deletes their rows.
    _inherit = ["avg.evidence.mixin"]
    _avg_evidence_refusal = _lt(
        "A data key cannot be deleted: it would make the client's "
        "content unreadable without a trace in the deletion log. Erase "
        "the client through Coaching > Privacy > Requests and consents > "
        "Data-subject requests."
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
    shard_id = fields.Char(
        readonly=True,
        index=True,
        copy=False,
        help="Name of the key's shard in the key store (outside the database). "
        "Empty for a key made before the key store, wrapped by the master key "
        "alone until the rotation gives it a shard.",
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
        self.env.cr.precommit.data.pop(_CACHE_KEY, None)

    @api.model
    def _avg_key_cache(self):
        return self.env.cr.precommit.data.setdefault(_CACHE_KEY, {})

    # ------------------------------------------------------------------ key store
    @api.model
    def _avg_key_store_path(self, dbname=None):
        """This database's key store: ``<avg_key_store_dir>/<database>``, by
        default under data_dir beside (not in) the filestore, so that neither a
        pg_dump nor Odoo's backup zip holds it."""
        root = config.get("avg_key_store_dir") or os.path.join(
            config["data_dir"], "avg_coaching_keys"
        )
        return os.path.join(root, dbname or self.env.cr.dbname)

    @api.model
    def _avg_key_store(self, create=False):
        """The key store of this database, checked: its marker names the store
        id recorded in the database. With ``create``, a database that has no key
        store yet gets one. Raises crypto.KeyStoreUnavailable."""
        store = crypto.KeyStore(self._avg_key_store_path())
        params = self.env["ir.config_parameter"].sudo()
        recorded = params.get_param(KEY_STORE_PARAM)
        try:
            found = store.marker()
        except crypto.KeyStoreUnavailable:
            if recorded or not create:
                raise
            found = None
        if recorded:
            if found != recorded:
                raise crypto.KeyStoreUnavailable(
                    f"{store.path} is not the key store of this database"
                )
            return store
        if not found:
            if not create:
                raise crypto.KeyStoreUnavailable(f"{store.path} holds no key store")
            found = crypto.new_shard_handle()
            store.initialise(found)
        params.set_param(KEY_STORE_PARAM, found)
        return store

    @api.model
    def _avg_key_store_for_write(self):
        """The key store, or the refusal that tells the user what to do."""
        try:
            return self._avg_key_store(create=True)
        except crypto.KeyStoreUnavailable as exc:
            _logger.warning("Key store unavailable: %s", exc)
            raise UserError(self._avg_key_store_refusal()) from exc

    @api.model
    def _avg_key_store_refusal(self):
        return _(
            "The encryption key store (%(path)s) is missing, unreadable or not "
            "the one of this database, so dossier content cannot be saved or "
            "purged; nothing was changed. Ask the administrator to restore it from "
            "its own backup or to set avg_key_store_dir (see the README), and "
            "restart Odoo.",
            path=self._avg_key_store_path(),
        )

    @api.model
    def _avg_touch_shards(self, handles):
        """Shards written or retired in this transaction: once it is committed
        or rolled back, each is settled by what the database then says (a
        savepoint may have undone part of it): named by an active key, it is
        kept (``.key``); else it is shredded."""
        cr = self.env.cr
        touched = cr.postcommit.data.get(_TOUCHED_KEY)
        if touched is None:
            touched = cr.postcommit.data[_TOUCHED_KEY] = set()
            cr.postcommit.add(lambda: self._avg_reconcile_shards(touched))
            cr.postrollback.add(lambda: self._avg_reconcile_shards(touched))
        touched.update(h for h in handles if h)

    @api.model
    def _avg_reconcile_shards(self, handles):
        if not handles:
            return
        dbname = self.env.cr.dbname
        store = crypto.KeyStore(self._avg_key_store_path(dbname))
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(
                    "SELECT shard_id FROM avg_data_key"
                    " WHERE state = 'active' AND shard_id IN %s",
                    [tuple(handles)],
                )
                active = {row[0] for row in cr.fetchall()}
                if time.time() - _LAST_SWEEP.get(dbname, 0) > SWEEP_EVERY:
                    _LAST_SWEEP[dbname] = time.time()
                    self.with_env(self.env(cr=cr))._avg_sweep_shards()
        except (psycopg2.Error, crypto.KeyStoreUnavailable) as exc:
            # Left for the next sweep: nothing is lost (a retired shard stays
            # until then, still opening its key in this database's backups).
            _logger.warning("Key store: shards not settled yet: %s", exc)
            return
        store.settle(handles & active, ".key")
        store.shred(handles - active)

    @api.model
    def _avg_sweep_shards(self):
        """Finish what a crash or a rolled-back transaction left in the key
        store (see crypto.KeyStore.sweep). Returns (promoted, shredded)."""
        if not self.env["ir.config_parameter"].sudo().get_param(KEY_STORE_PARAM):
            return 0, 0
        store = self._avg_key_store()
        self.env.cr.execute(
            "SELECT shard_id FROM avg_data_key"
            " WHERE state = 'active' AND shard_id IS NOT NULL"
        )
        return store.sweep({row[0] for row in self.env.cr.fetchall()})

    @api.model
    def _avg_new_shards(self, count):
        """``count`` new shards written (durably) to the key store before the
        commit that stores their wrapped keys: [(handle, shard)]."""
        store = self._avg_key_store_for_write()
        shards = {
            crypto.new_shard_handle(): crypto.new_data_key() for _i in range(count)
        }
        self._avg_touch_shards(shards)
        try:
            store.write_pending(shards)
        except crypto.KeyStoreUnavailable as exc:
            _logger.warning("Key store unavailable: %s", exc)
            raise UserError(self._avg_key_store_refusal()) from exc
        return list(shards.items())

    # ------------------------------------------------------------------ data keys
    @api.model
    def _avg_get_keys(self, partners, create=False):
        """Return {partner_id: bytes | 'missing' | 'destroyed' | 'unavailable' |
        'tampered'} for ``partners``; with ``create``, make keys that do not exist."""
        cache = self._avg_key_cache()
        result = {pid: cache[pid] for pid in partners.ids if pid in cache}
        todo = [pid for pid in partners.ids if pid not in result]
        if not todo:
            return result
        records = self.sudo().search([("partner_id", "in", todo)])
        by_partner = {rec.partner_id.id: rec for rec in records}
        masters = self._avg_master_keys() if records else {}
        store = None
        for pid in todo:
            rec = by_partner.get(pid)
            shard = None
            if rec and rec.state == "active" and rec.shard_id:
                try:
                    store = store or self._avg_key_store()
                    shard = store.get(rec.shard_id)
                except crypto.KeyStoreUnavailable as exc:
                    _logger.warning("Key store unavailable: %s", exc)
                    result[pid] = "no_store"
                    continue
            if not rec:
                result[pid] = "missing"
            elif rec.state == "destroyed" or (rec.shard_id and shard is None):
                # (A shard shredded after this database was backed up: in the
                # restored backup, its content is erased.)
                result[pid] = "destroyed"
            elif rec.master_key_id not in masters:
                result[pid] = "unavailable"
            else:
                try:
                    result[pid] = crypto.unwrap_key(
                        masters[rec.master_key_id], rec.wrapped_key, pid, shard
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
    def _avg_hold_keys(self, partners):
        """Before content is encrypted under these subjects' keys: mark their
        key rows as used by this transaction. A re-keying (which locks them
        first) then waits for it and fails on its changed rows rather than miss
        the content it writes, and a writer that comes after a re-keying fails
        on the new row and is retried with the new key: no content is ever left
        under a key whose shard is shredded."""
        held = self.env.cr.precommit.data.setdefault(_HELD_KEY, set())
        todo = set(partners.ids) - held
        if not todo:
            return
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "UPDATE avg_data_key SET write_date = write_date"
                " WHERE partner_id IN %s AND state = 'active'",
                tuple(todo),
            )
        )
        held.update(todo)

    @api.model
    def _avg_create_keys(self, partner_ids):
        master = self._avg_current_master()
        master_id = self._avg_check_master(master)
        shards = self._avg_new_shards(len(partner_ids))
        cache = self._avg_key_cache()
        vals_list, made = [], {}
        for pid, (handle, shard) in zip(partner_ids, shards, strict=True):
            data_key = crypto.new_data_key()
            wrapped = crypto.wrap_key(master, data_key, pid, shard)
            vals_list.append(
                {
                    "partner_id": pid,
                    "wrapped_key": wrapped,
                    "master_key_id": master_id,
                    "shard_id": handle,
                }
            )
            made[pid] = cache[pid] = data_key
        self.sudo().create(vals_list)
        return made

    def _avg_retire_shards(self):
        """Before the commit that destroys or replaces these keys: their shards
        are renamed .retired, and shredded once the commit is done."""
        handles = [key.shard_id for key in self if key.shard_id]
        if not handles:
            return
        store = self._avg_key_store_for_write()
        self._avg_touch_shards(handles)
        try:
            store.retire(handles)
        except crypto.KeyStoreUnavailable as exc:
            _logger.warning("Key store unavailable: %s", exc)
            raise UserError(self._avg_key_store_refusal()) from exc

    def _avg_destroy(self):
        """Crypto-shred: forget the wrapped key and shred its shard (after the
        commit). Irreversible."""
        self.sudo()._avg_retire_shards()
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

    # ------------------------------------------------------------------ re-keying
    @api.model
    def _avg_rekey(self, partners):
        """Give ``partners`` new data keys: what is still kept of them, encrypted,
        is re-encrypted under the new key, and the old key's shard is shredded
        after the commit. Called by the content purges (the contact stays), so
        that backups made before a purge cannot read what it purged once the
        key store's backups holding the old shard have expired. Refuses (and
        changes nothing) when an old key cannot be opened. Returns the number
        of values re-encrypted."""
        keys = self.sudo().search(
            [("partner_id", "in", partners.ids), ("state", "=", "active")]
        )
        if not keys:
            return 0
        # Lock first: a writer that used an old key (see _avg_hold_keys) has
        # committed before this, or fails after it.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM avg_data_key WHERE id IN %s FOR UPDATE",
                tuple(keys.ids),
            )
        )
        self._avg_clear_cache()
        old = self._avg_get_keys(keys.partner_id)
        # A key whose shard was shredded after this database was backed up (a
        # restored backup): what it encrypted is gone already, nothing to re-key.
        gone = {pid for pid, key in old.items() if key == "destroyed"}
        keys = keys.filtered(lambda k: k.partner_id.id not in gone)
        old = {pid: key for pid, key in old.items() if pid not in gone}
        if not keys:
            return 0
        unreadable = [pid for pid, key in old.items() if not isinstance(key, bytes)]
        if unreadable:
            states = {old[pid] for pid in unreadable}
            if "no_store" in states:
                raise UserError(self._avg_key_store_refusal())
            raise UserError(
                _(
                    "The data of %(count)s persons could not be re-keyed: their "
                    "data key cannot be opened (%(states)s). Nothing was changed; "
                    "check the master key and the key store (see the README).",
                    count=len(unreadable),
                    states=", ".join(sorted(states)),
                )
            )
        master = self._avg_current_master()
        master_id = self._avg_check_master(master)
        shards = self._avg_new_shards(len(keys))
        new = {pid: crypto.new_data_key() for pid in old}
        count = 0
        for model_name in self._avg_encrypted_models():
            count += self._avg_reencrypt(self.env[model_name], old, new)
        keys._avg_retire_shards()
        cache = self._avg_key_cache()
        for key, (handle, shard) in zip(keys, shards, strict=True):
            pid = key.partner_id.id
            wrapped = crypto.wrap_key(master, new[pid], pid, shard)
            key.write(
                {"wrapped_key": wrapped, "master_key_id": master_id, "shard_id": handle}
            )
            cache[pid] = new[pid]
        return count

    @api.model
    def _avg_encrypted_models(self):
        """The models that hold content encrypted under a subject's key."""
        return [
            name
            for name in sorted(self.env.registry)
            if not self.env[name]._abstract
            and self.env[name]._auto
            and hasattr(self.env[name], "_avg_encrypted_fields")
            and self.env[name]._avg_encrypted_fields()
        ]

    @api.model
    def _avg_reencrypt(self, Model, old, new):
        """Re-encrypt ``Model``'s stored ciphertext of the subjects in ``old``
        from their old keys to their new ones, without passing through the
        read gate or the ORM's write checks: the content does not change."""
        subject = Model._avg_subject_field
        records = (
            Model.sudo()
            .with_context(active_test=False, bin_size=False)
            .search([(subject, "in", list(old))])
        )
        if not records:
            return 0
        count = 0
        for field in Model._avg_encrypted_fields():
            storage = Model._fields[field.storage]
            changed, tokens = [], []
            for record in records:
                value = record[field.storage]
                if not value:
                    continue
                pid = record[subject].id
                binary = storage.type == "binary"
                token = (
                    base64.b64decode(value).decode("ascii", "replace")
                    if binary
                    else value
                )
                try:
                    token = crypto.reencrypt(
                        old[pid], new[pid], token, Model._avg_context(field, pid)
                    )
                except crypto.IntegrityError as exc:
                    raise UserError(
                        _(
                            "%(model)s %(id)s could not be re-keyed: its "
                            "'%(field)s' fails its integrity check. Nothing was "
                            "changed; restore it from a backup or ask the "
                            "administrator.",
                            model=Model._description,
                            id=record.id,
                            field=field._description_string(self.env),
                        )
                    ) from exc
                changed.append(record.id)
                tokens.append(base64.b64encode(token.encode()) if binary else token)
            if not changed:
                continue
            count += len(changed)
            rows = records.browse(changed)
            if getattr(storage, "attachment", False):
                self._avg_reencrypt_attachments(rows, field.storage, tokens)
            else:
                # As the encrypted field's inverse does: into the cache, dirty,
                # flushed in one batched UPDATE.
                self.env.cache.update(rows, storage, tokens, dirty=True)
        return count

    @api.model
    def _avg_reencrypt_attachments(self, records, fname, tokens):
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", records._name),
                    ("res_field", "=", fname),
                    ("res_id", "in", records.ids),
                ]
            )
        )
        by_id = {att.res_id: att for att in attachments}
        old_files = {att.store_fname for att in attachments if att.store_fname}
        for record, token in zip(records, tokens, strict=True):
            by_id[record.id].write({"datas": token})
        records.invalidate_recordset([fname])
        # The old ciphertext's files, once the commit is done (they open with
        # nothing any more, but need not wait for Odoo's garbage collection).
        self.env["avg.erasure"]._avg_remove_files_after_commit(old_files)

    # ------------------------------------------------------------------ rotation
    @api.model
    def _avg_rewrap_all(self, batch_size=200, commit=True):
        """Re-wrap every data key under the current master key.

        Content is not re-encrypted. Keys already under the current master are
        skipped, so an interrupted run simply continues where it stopped.
        Returns the number of keys re-wrapped.
        """
        master = self._avg_current_master()
        master_id = crypto.key_id(master)
        masters = self._avg_master_keys()
        # And every key made before the key store: it gets a shard.
        domain = [
            ("state", "=", "active"),
            "|",
            ("master_key_id", "!=", master_id),
            ("shard_id", "=", False),
        ]
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
        if pending.filtered("shard_id"):
            try:
                store = self._avg_key_store()
            except crypto.KeyStoreUnavailable as exc:
                raise UserError(self._avg_key_store_refusal()) from exc
        done = 0
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            legacy = batch.filtered(lambda k: not k.shard_id)
            shards = iter(self._avg_new_shards(len(legacy)) if legacy else ())
            for key in batch:
                pid = key.partner_id.id
                if key.shard_id:
                    handle, shard = key.shard_id, store.get(key.shard_id)
                    if shard is None:
                        continue  # shredded: its key is gone (a restored backup)
                else:
                    handle, shard = next(shards)
                data_key = crypto.unwrap_key(
                    masters[key.master_key_id],
                    key.wrapped_key,
                    pid,
                    shard if key.shard_id else None,
                )
                key.write(
                    {
                        "wrapped_key": crypto.wrap_key(master, data_key, pid, shard),
                        "master_key_id": master_id,
                        "shard_id": handle,
                    }
                )
            done += len(batch)
            if commit and not (config["test_enable"] or config["test_file"]):
                # Commit per batch so that an interrupted rotation keeps its progress.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._avg_clear_cache()
        try:
            self._avg_sweep_shards()
        except crypto.KeyStoreUnavailable as exc:
            _logger.warning("Key store not swept: %s", exc)
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
        return notify.notification(
            _("%(count)s data keys re-wrapped under the new master key.", count=count)
        )
