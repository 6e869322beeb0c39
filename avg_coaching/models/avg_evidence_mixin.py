from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..services.erasure import erasure_allowed


class AvgEvidenceMixin(models.AbstractModel):
    """Records that are evidence (a consent, a request, a breach, the register,
    the deletion log, ...): nobody deletes them by hand.

    ``_avg_evidence_deleted_by`` says who may:

    * ``"erasure"``: the erasure path and the retention engine only
      (``services/erasure.py``), not any ``sudo()`` caller such as
      ``privacy_lookup``;
    * ``"superuser"``: the superuser (Odoo's own clean-ups, uninstalling).

    ``_avg_evidence_refusal`` (a lazy translated text) tells the user why, and
    what to do instead.
    """

    _name = "avg.evidence.mixin"
    _description = "Evidence that cannot be deleted by hand"
    _avg_evidence_deleted_by = "erasure"
    _avg_evidence_refusal = None

    def unlink(self):
        if self._avg_evidence_deleted_by == "superuser":
            allowed = self.env.su
        else:
            allowed = erasure_allowed(self.env)
        if not allowed:
            raise UserError(self.env._(self._avg_evidence_refusal))
        return super().unlink()


class AvgAppendOnlyMixin(models.AbstractModel):
    """Logs written once and never changed (the access log, the deletion log).

    The ORM refuses every change, deletion and copy, the administrator's and the
    erasure path's too, and a database trigger refuses them to SQL. Only the
    retention engine deletes entries past their term, with the setting
    ``_avg_purge_setting`` switched on for its own transaction.

    * ``_avg_fixed_columns``: what an entry says; never changes;
    * ``_avg_fading_columns``: links that may only go empty (a deleted contact,
      policy or user), never point elsewhere;
    * ``_avg_guard_extra``: a further condition (SQL over ``OLD`` and ``NEW``)
      under which an update is refused;
    * ``_avg_write_refusal``, ``_avg_unlink_refusal``, ``_avg_copy_refusal``:
      what the user is told (lazy translated texts).
    """

    _name = "avg.append.only.mixin"
    _description = "Append-only log"
    _avg_purge_setting = None
    _avg_fixed_columns = ()
    _avg_fading_columns = ()
    _avg_guard_extra = None
    _avg_write_refusal = None
    _avg_unlink_refusal = None
    _avg_copy_refusal = None

    def init(self):
        super().init()
        if self._abstract:
            return
        table = self._table
        new = SQL(", ").join(
            SQL("NEW.%s", SQL.identifier(c)) for c in self._avg_fixed_columns
        )
        old = SQL(", ").join(
            SQL("OLD.%s", SQL.identifier(c)) for c in self._avg_fixed_columns
        )
        refused = [SQL("(%s) IS DISTINCT FROM (%s)", new, old)]
        refused += [
            SQL(
                "(NEW.%(col)s IS NOT NULL"
                " AND NEW.%(col)s IS DISTINCT FROM OLD.%(col)s)",
                col=SQL.identifier(column),
            )
            for column in self._avg_fading_columns
        ]
        if self._avg_guard_extra:
            refused.append(SQL(f"({self._avg_guard_extra})"))
        function = SQL.identifier(f"{table}_guard")
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE FUNCTION %(function)s() RETURNS trigger AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        IF coalesce(current_setting(%(setting)s, true), '') = 'on' THEN
                            RETURN OLD;
                        END IF;
                        RAISE EXCEPTION %(message)s;
                    END IF;
                    IF %(refused)s THEN
                        RAISE EXCEPTION %(message)s;
                    END IF;
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql;
                DROP TRIGGER IF EXISTS %(trigger)s ON %(table)s;
                CREATE TRIGGER %(trigger)s
                    BEFORE UPDATE OR DELETE ON %(table)s
                    FOR EACH ROW EXECUTE FUNCTION %(function)s();
                """,
                function=function,
                trigger=function,
                table=SQL.identifier(table),
                setting=self._avg_purge_setting,
                message=f"{table} is append-only",
                refused=SQL(" OR ").join(refused),
            )
        )

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._(self._avg_write_refusal))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._(self._avg_unlink_refusal))

    def copy(self, default=None):  # pylint: disable=method-required-super
        raise UserError(self.env._(self._avg_copy_refusal))
