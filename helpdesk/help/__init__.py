"""The public help centre surface (/help)."""
