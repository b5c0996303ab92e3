"""SLA: business calendars and working-time arithmetic (policies and escalation build on it)."""
