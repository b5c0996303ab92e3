"""Escalation: rules with levels, escalation records, the sweep, the supervisors decisions."""
