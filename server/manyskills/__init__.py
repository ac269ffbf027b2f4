"""ManySkills: a local-first AI code-analysis language server."""

__version__ = "0.1.0"
