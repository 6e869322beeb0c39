/** @odoo-module **/

import { registry } from "@web/core/registry";

// A portal client: her privacy overview, the download of her data, an erasure request.
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
            content: "Choose an erasure request",
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
    ],
});
