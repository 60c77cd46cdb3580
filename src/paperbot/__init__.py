"""paperbot: answers about a catalog of paper summaries, with checked citations."""

__version__ = "0.1.0"
