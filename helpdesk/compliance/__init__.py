"""Records and the data subject: history requests (rule 4), LGPD export / correction /
anonymisation, and retention (rule 6). The personal-data columns are listed once, in
`registry.py`."""
