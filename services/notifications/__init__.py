"""The notifications service.

Delivery log, contact preferences and templates for messages to patients, referrers, staff and
partners.
"""
