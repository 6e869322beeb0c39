from . import avg_reports
from . import ir_actions_report
