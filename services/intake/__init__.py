"""The intake service.

Partner referrals (FHIR R4 or native JSON), patients, intake assessments, contraindication
screening and consent.
"""
