"""All MongoDB access of planning (every call carries the tenant): ``plans``, ``booking_leases``,
``clinic_settings``, and ``indexes`` (every index, `create_indexes(db)`). The replicas of
intake's locations and API keys are read through ``shared.replicas``."""
