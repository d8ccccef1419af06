"""The notifications service's pure rules: who hears what, when, and in which words.

`delivery_plan` is the top: it decides an event's deliveries from `rules` (who, which channel),
`quiet_hours` (when), `reminders` and `deliveries` (the documents). Nothing here does I/O.
"""
