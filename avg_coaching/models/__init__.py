from . import avg_bsn_guard
from . import avg_consent
from . import res_partner
from . import coaching_dossier
from . import coaching_session
from . import coaching_document
from . import coaching_special_data
from . import res_config_settings
