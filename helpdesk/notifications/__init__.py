"""Outbound notifications through an outbox written in the business transaction."""
