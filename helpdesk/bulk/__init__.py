"""Bulk changes on many tickets at once (the queue's multi-select and POST /api/v1/tickets/bulk)."""
