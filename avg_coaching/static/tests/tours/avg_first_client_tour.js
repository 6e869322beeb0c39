/** @odoo-module **/

import { registry } from "@web/core/registry";

// A coach's first client, in Dutch, from an empty practice to an active
// trajectory, following the steps the dossier shows in their lawful order:
// client, consent, agreement, privacy information, start. Any error dialog on
// the way stops the tour (its next trigger never appears).
const noError = "body:not(:has(.o_error_dialog))";

registry.category("web_tour.tours").add("avg_coaching_first_client_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "After login she lands in Coaching, on her (still empty) dossiers",
            trigger: ".o_main_navbar .o_menu_brand:contains('Coaching')",
        },
        {
            content: "Open the contacts of the practice",
            trigger: "[data-menu-xmlid='avg_coaching.coaching_partner_menu']",
            run: "click",
        },
        {
            content: "Open the clients",
            trigger: "[data-menu-xmlid='avg_coaching.coaching_client_menu']",
            run: "click",
        },
        {
            content: "A new client",
            trigger: ".o_control_panel_main_buttons .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Her name",
            trigger: ".o_form_view .o_field_widget[name='name'] input",
            run: "edit Noor Fictief",
        },
        {
            content: "Her e-mail address",
            trigger: ".o_form_view .o_field_widget[name='email'] input",
            run: "edit noor@client.test",
        },
        {
            content: "The Coaching tab of the contact",
            trigger: ".o_notebook a[name='coaching']",
            run: "click",
        },
        {
            content: "Until her date of birth is known, no dossier can be opened",
            trigger: ".o_notebook div:contains('Leg eerst haar geboortedatum vast')",
        },
        {
            content: "Her date of birth",
            trigger: ".o_field_widget[name='coaching_birthdate'] input",
            run: "edit 01-04-1990 && press Enter",
        },
        {
            content: "Step 1 done: open her dossier",
            trigger: "button[name='action_avg_new_dossier']",
            run: "click",
        },
        {
            content: "The dossier shows the steps, in Dutch and in order",
            trigger: ".o_avg_first_steps h5:contains('Voordat het traject start, in deze volgorde')",
        },
        {
            content: "Step 2: record her consent",
            trigger: ".o_avg_step_consent button[name='action_avg_record_consent']",
            run: "click",
        },
        {
            content: "The version of the consent text",
            trigger: ".modal .o_field_widget[name='text_version'] input",
            run: "edit Toestemming dossier 2026-01",
        },
        {
            content: "The text she agreed to",
            trigger: ".modal .o_field_widget[name='consent_text'] textarea",
            run: "edit Ik geef toestemming voor een coachingsdossier.",
        },
        {
            content: "Save the consent",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Consent recorded: the next step asks for the agreement",
            trigger: `${noError} .o_avg_step_agreement div:contains('Overeenkomst getekend op')`,
        },
        {
            content: "Step 3: the date she signed the coaching agreement",
            trigger: ".o_field_widget[name='agreement_date'] input",
            run: "edit 02-03-2026 && press Enter",
        },
        {
            content: "Save the dossier",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Step 4: record that she received the privacy information",
            trigger: `${noError} .o_avg_step_information button[name='action_avg_record_client_information']`,
            run: "click",
        },
        {
            content: "Given in person",
            trigger: ".modal .o_field_widget[name='delivery'] input[data-value='in_person']",
            run: "click",
        },
        {
            content: "Record it",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "Step 5: start the trajectory",
            trigger: `${noError} .o_avg_step_start button[name='action_start']`,
            run: "click",
        },
        {
            content: "The trajectory is active, the steps are done",
            trigger: `${noError} .o_statusbar_status .o_arrow_button_current[data-value='active']`,
        },
        {
            content: "No step list on an active trajectory",
            trigger: "body:not(:has(.o_avg_first_steps))",
        },
    ],
});
