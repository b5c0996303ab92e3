"""Outbound webhooks: subscriptions, a delivery queue written in the business transaction, and
the scheduler job that sends it (signed, retried, SSRF-guarded)."""
