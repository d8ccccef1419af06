"""The planning service.

Outcome-based treatment plans, sessions, outcome measurements and progress against the MCID.
"""
