from . import avg_retention_preview
from . import coaching_invoice_wizard
from . import coaching_protected_document_wizard
from . import avg_request_decision
from . import base_partner_merge
from . import privacy_lookup_wizard
from . import mail_compose_message
