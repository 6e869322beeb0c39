from . import avg_retention_preview
