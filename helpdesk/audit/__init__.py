"""The admin audit log (who changed which setting, when, from what to what) and the checks of the
tamper-evident trails (`flask --app wsgi audit verify`)."""
