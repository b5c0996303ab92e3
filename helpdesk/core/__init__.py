"""Core: clock, errors, permissions, i18n, web plumbing shared by every package."""
