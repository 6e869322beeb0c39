from odoo import api, models

# Keys of a write that change a user's groups (the form's fields included).
GROUP_KEYS = ("groups_id", "in_group_", "sel_groups_")


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        users._avg_set_coach_home()
        return users

    def write(self, vals):
        res = super().write(vals)
        if any(key.startswith(GROUP_KEYS) for key in vals):
            self._avg_set_coach_home()
        return res

    def _avg_set_coach_home(self):
        """Coaches land in Coaching after login: their home action is the
        dossiers, unless they (or the administrator) chose another one."""
        action = self.env.ref(
            "avg_coaching.coaching_dossier_action", raise_if_not_found=False
        )
        if not action:
            return
        coaches = self.sudo().filtered(
            lambda u: (
                not u.action_id
                and not u.share
                and u.has_group("avg_coaching.group_avg_coach")
            )
        )
        if coaches:
            coaches.write({"action_id": action.id})

    @api.model
    def _avg_privacy_manager(self):
        """The practice's privacy manager: the first active internal user of
        the group (the one place that decides who that is), who receives the
        tasks nobody else is named for."""
        group = self.env.ref("avg_coaching.group_avg_privacy_manager")
        users = group.sudo().users.filtered(lambda u: u.active and not u.share)
        return users.sorted("id")[:1]
