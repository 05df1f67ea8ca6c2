"""docqa: search and cited answers over Dutch public-sector policy documents."""

__version__ = "0.1.0"
