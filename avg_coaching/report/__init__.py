from . import avg_reports
