"""Macros: canned replies with placeholders plus ticket actions, applied in one transaction."""
