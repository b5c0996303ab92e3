"""Inbound email: mailboxes, the inbound message store, parsing, ingest, IMAP fetch."""
