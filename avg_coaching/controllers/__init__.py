from . import request_forms
from . import portal
from . import moments
