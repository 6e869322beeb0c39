# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "AVG Coaching",
    "summary": "GDPR (AVG) compliant client dossiers for a Dutch coaching practice",
    "version": "18.0.1.0.0",
    "category": "Services/Coaching",
    "website": "https://github.com/avg-coaching/avg_coaching",
    "author": "avg_coaching contributors",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "depends": ["contacts", "account", "portal", "mail"],
    "external_dependencies": {"python": ["cryptography"]},
    "data": [
        "security/avg_coaching_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "views/avg_consent_views.xml",
        "views/coaching_session_views.xml",
        "views/coaching_document_views.xml",
        "views/coaching_dossier_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/avg_coaching_demo.xml",
    ],
}
