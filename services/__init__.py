"""The clinic's services: intake, planning and notifications."""
