"""Tickets (demands): intake, protocol numbers, messages, attachments, events, queues."""
