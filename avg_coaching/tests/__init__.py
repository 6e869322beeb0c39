from . import test_bsn
from . import test_dossier
from . import test_encryption
from . import test_i18n
from . import test_jsonrpc
from . import test_minors
from . import test_security
from . import test_special_categories
