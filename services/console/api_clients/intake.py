"""Intake's API as the console uses it: staff sign-in (no token), the person and their clinic,
referrals and their review, the clinic's partners."""

from __future__ import annotations

from typing import Any

from services.console.api_clients.http import ServiceApi

Json = dict[str, Any]


class IntakeApi:
    def __init__(self, http: ServiceApi) -> None:
        self.http = http

    # --- sign-in: open to anyone (limited per client address by intake) ------------------------

    def sign_in(self, clinic: str, email: str, password: str) -> Json:
        """`status: signed_in` with the tokens, or `second_factor_required` with a challenge."""
        body = {"clinic": clinic, "email": email, "password": password}
        return self.http.post("/auth/sign-in", body)

    def second_factor(
        self, challenge: str, *, code: str | None = None, recovery_code: str | None = None
    ) -> Json:
        body = {"challenge": challenge, "code": code, "recovery_code": recovery_code}
        return self.http.post("/auth/sign-in/second-factor", body)

    def refresh(self, refresh_token: str) -> Json:
        return self.http.post("/auth/refresh", {"refresh_token": refresh_token})

    def sign_out(self, refresh_token: str) -> None:
        self.http.post("/auth/sign-out", {"refresh_token": refresh_token})

    def accept_invitation(self, token: str, password: str) -> Json:
        return self.http.post("/auth/invitation", {"token": token, "password": password})

    def request_password_reset(self, clinic: str, email: str) -> None:
        self.http.post("/auth/password-reset", {"clinic": clinic, "email": email})

    def complete_password_reset(self, token: str, password: str) -> Json:
        return self.http.post(
            "/auth/password-reset/complete", {"token": token, "password": password}
        )

    # --- as the signed-in person --------------------------------------------------------------

    def me(self) -> Json:
        """The person (role, locations, scope) and their clinic (locations' zones, idle timeout)."""
        return self.http.get("/auth/me")

    def referrals(
        self,
        *,
        status: str | None = None,
        location_id: str | None = None,
        partner_id: str | None = None,
        received_since: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Json:
        """A page of referrals, newest first."""
        return self.http.get(
            "/referrals",
            status=status,
            location_id=location_id,
            partner_id=partner_id,
            received_since=received_since,
            page=page,
            page_size=page_size,
        )

    def referral(self, referral_id: str) -> Json:
        return self.http.get(f"/referrals/{referral_id}")

    def cancel_referral(self, referral_id: str, reason: str) -> Json:
        return self.http.post(f"/referrals/{referral_id}/cancel", {"reason": reason})

    def review_referral(self, referral_id: str, answers: Json) -> Json:
        """Settle what a held referral waits for (`answers` with its `version`)."""
        return self.http.post(f"/referrals/{referral_id}/review", answers)

    def decline_referral(self, referral_id: str, version: int, reason: str) -> Json:
        body = {"version": version, "reason": reason}
        return self.http.post(f"/referrals/{referral_id}/decline", body)

    def patients(self, patient_ids: list[str]) -> list[Json]:
        """These patients (those the person may see; up to 100), e.g. the candidates of a held
        referral, the patients of a calendar's sessions."""
        wanted = sorted(list(dict.fromkeys(patient_ids))[:100])  # the first named come first
        if not wanted:
            return []
        return self.http.get("/patients", patient_id=wanted, page_size=len(wanted))["items"]

    def partners(self) -> list[Json]:
        """The partners that may refer to the clinic (the first 100: a clinic has a few)."""
        return self.http.get("/admin/partners", page_size=100)["items"]

    # --- patients: search, chart, intake (pages 4-6) -----------------------------------------

    def search_patients(
        self,
        *,
        name: str | None = None,
        birth_date: str | None = None,
        identifier: str | None = None,
        phone: str | None = None,
        page: int = 1,
        page_size: int = 25,
    ) -> Json:
        """A page of the patients matching every filter given, by family then given name."""
        return self.http.get(
            "/patients",
            name=name,
            birth_date=birth_date,
            identifier=identifier,
            phone=phone,
            page=page,
            page_size=page_size,
        )

    def patient_summary(self, patient_id: str) -> Json:
        """The patient, their latest referrals and intakes (screenings, clearances)."""
        return self.http.get(f"/patients/{patient_id}/summary")

    def patient(self, patient_id: str) -> Json:
        return self.http.get(f"/patients/{patient_id}")

    def intake_form(self, referral_id: str) -> Json:
        """The patient's intake form of the referral, as data (sections, groups, fields)."""
        return self.http.get("/intakes/form", referral_id=referral_id)

    def record_intake(self, referral_id: str, answers: dict[str, list[str]]) -> Json:
        """Complete the referral's intake from the form's answers (field name -> values)."""
        return self.http.post("/intakes/form", {"referral_id": referral_id, "answers": answers})

    def intake(self, intake_id: str) -> Json:
        return self.http.get(f"/intakes/{intake_id}")

    def record_clearance(
        self, intake_id: str, rule_ids: list[str], note: str, cleared_by: str
    ) -> Json:
        body = {"rule_ids": rule_ids, "note": note, "cleared_by": cleared_by}
        return self.http.post(f"/intakes/{intake_id}/clearances", body)

    # --- admins: the clinic's locations, staff and sign-in policy ------------------------------

    def tenant(self) -> Json:
        """The clinic, its locations (each with its `version`) and its settings."""
        return self.http.get("/admin/tenant")

    def add_location(self, body: Json) -> Json:
        return self.http.post("/admin/locations", body)

    def update_location(self, location_id: str, body: Json) -> Json:
        return self.http.call("PUT", f"/admin/locations/{location_id}", body=body)

    def users(self, page: int = 1, page_size: int = 50) -> Json:
        """A page of the clinic's staff users, by name."""
        return self.http.get("/admin/users", page=page, page_size=page_size)

    def user(self, user_id: str) -> Json:
        return self.http.get(f"/admin/users/{user_id}")

    def invite_user(self, body: Json) -> Json:
        """`name, email, role, locations` (None: every location); they get the email link."""
        return self.http.post("/admin/users", body)

    def change_access(self, user_id: str, body: Json) -> Json:
        """`role, locations, version` (409 if the user changed since that version)."""
        return self.http.call("PUT", f"/admin/users/{user_id}", body=body)

    def disable_user(self, user_id: str) -> Json:
        return self.http.post(f"/admin/users/{user_id}/disable")

    def resend_invitation(self, user_id: str) -> Json:
        return self.http.post(f"/admin/users/{user_id}/invitation")

    def sign_in_policy(self) -> Json:
        return self.http.get("/admin/sign-in-policy")

    def set_sign_in_policy(self, body: Json) -> Json:
        return self.http.call("PUT", "/admin/sign-in-policy", body=body)
