/** @odoo-module **/

import { registry } from "@web/core/registry";

// The page must fit the phone's width (the test runs at 390 px).
function checkWidth() {
    const page = document.documentElement.scrollWidth;
    if (page > window.innerWidth) {
        throw new Error(`${location.pathname} is ${page} px wide on a ${window.innerWidth} px screen`);
    }
}

function checkShown(selector, shown) {
    const part = document.querySelector(selector).closest(".o_avg_for_type");
    if (part.classList.contains("d-none") === shown) {
        throw new Error(`${selector} should be ${shown ? "shown" : "hidden"}`);
    }
}

// A portal client on a phone: her privacy overview, the download of her data,
// the request form (only the fields of the chosen type), an erasure request and
// the withdrawal of a consent through its confirmation step.
registry.category("web_tour.tours").add("avg_coaching_privacy_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open the privacy page from the portal home",
            trigger: 'a[href="/my/privacy"]',
            run: "click",
        },
        {
            content: "The overview shows her trajectory",
            trigger: ".o_avg_privacy td:contains('TOUR-TRJ')",
        },
        {
            content: "The overview shows her consent",
            trigger: ".o_avg_privacy td:contains('Tour-overeenkomst v1')",
        },
        {
            content: "The overview fits the phone's screen",
            trigger: ".o_avg_request_form",
            run: checkWidth,
        },
        {
            content: "Download all her data (JSON): a zip protected with her password",
            trigger: "a.o_avg_download_json",
            async run() {
                const response = await fetch(this.anchor.getAttribute("href"));
                if (!response.ok) {
                    throw new Error(`download failed: ${response.status}`);
                }
                if (response.headers.get("Content-Type") !== "application/zip") {
                    throw new Error("the download is not a protected zip");
                }
                const body = new TextDecoder("latin1").decode(await response.arrayBuffer());
                if (!body.startsWith("PK") || body.includes("TOUR-NOTITIE")) {
                    throw new Error("the download is not encrypted");
                }
            },
        },
        {
            content: "Before a choice, no field of a particular type shows",
            trigger: ".o_avg_request_form",
            run() {
                checkShown("#avg_restriction_ground", false);
                checkShown("#avg_rectification_wrong", false);
            },
        },
        {
            content: "Choose a correction",
            trigger: "select#avg_request_type",
            run: "select rectification",
        },
        {
            content: "What is wrong and what it should be show; the grounds do not",
            trigger: "textarea#avg_rectification_wrong",
            run() {
                checkShown("#avg_rectification_wrong", true);
                checkShown("#avg_restriction_ground", false);
            },
        },
        {
            content: "Choose a restriction",
            trigger: "select#avg_request_type",
            run: "select restriction",
        },
        {
            content: "The four grounds show; the correction fields do not",
            trigger: "select#avg_restriction_ground",
            run() {
                checkShown("#avg_restriction_ground", true);
                checkShown("#avg_rectification_wrong", false);
                const grounds = document.querySelectorAll("#avg_restriction_ground option[value]:not([value=''])");
                if (grounds.length !== 4) {
                    throw new Error(`${grounds.length} grounds instead of 4`);
                }
            },
        },
        {
            content: "Choose an erasure request after all",
            trigger: "select#avg_request_type",
            run: "select erasure",
        },
        {
            content: "Explain it",
            trigger: "textarea#avg_description",
            run: "edit Wis mijn gegevens",
        },
        {
            content: "Send the request",
            trigger: "button.o_avg_request_submit",
            run: "click",
        },
        {
            content: "She is told it was received",
            trigger: ".o_avg_request_filed",
        },
        {
            content: "The request is listed with its status",
            trigger: ".o_avg_requests td:contains('Erasure (art. 17)')",
        },
        {
            content: "Withdraw her consent for health data",
            trigger: ".o_avg_consents tr:contains('health') a.o_avg_withdraw",
            run: "click",
        },
        {
            content: "The confirmation step says what the withdrawal changes",
            trigger: ".o_avg_withdraw_effects li:contains('current medical treatment')",
            run: checkWidth,
        },
        {
            content: "Confirm",
            trigger: "button.o_avg_withdraw_confirm",
            run: "click",
        },
        {
            content: "She is told it was withdrawn",
            trigger: ".o_avg_privacy .alert-success",
        },
    ],
});
