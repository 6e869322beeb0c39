/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * The privacy request forms (/my/privacy and /privacy/request): only the fields
 * and hints of the chosen request type are shown. An element marked
 * `o_avg_for_type` names its types in `data-avg-types` (comma separated).
 * Without JavaScript every field shows and the server validates the choice.
 */
publicWidget.registry.AvgRequestForm = publicWidget.Widget.extend({
    selector: ".o_avg_typed_form",
    events: {
        'change select[name="request_type"]': "_onTypeChange",
    },

    start() {
        this._showFieldsOfType();
        return this._super(...arguments);
    },

    _onTypeChange() {
        this._showFieldsOfType();
    },

    _showFieldsOfType() {
        const select = this.el.querySelector('select[name="request_type"]');
        const kind = select ? select.value : "";
        for (const part of this.el.querySelectorAll(".o_avg_for_type")) {
            const types = (part.dataset.avgTypes || "").split(",");
            const shown = types.includes(kind);
            part.classList.toggle("d-none", !shown);
            // A hidden field is not sent: what belongs to another type never travels.
            for (const field of part.querySelectorAll("input, select, textarea")) {
                field.disabled = !shown;
            }
        }
    },
});

export default publicWidget.registry.AvgRequestForm;
