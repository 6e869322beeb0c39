from . import portal
from . import moments
