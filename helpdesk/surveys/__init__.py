"""Satisfaction surveys (CSAT 1-5, optional NPS 0-10) after a resolved demand, and the follow-up
task a bad rating opens for the department's supervisor."""
