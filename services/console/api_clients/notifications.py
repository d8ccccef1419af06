"""Notifications' API as the console uses it: the delivery log, and (admins) the clinic's
notification settings and template overrides with their preview."""

from __future__ import annotations

from typing import Any

from services.console.api_clients.http import ServiceApi

Json = dict[str, Any]


class NotificationsApi:
    def __init__(self, http: ServiceApi) -> None:
        self.http = http

    def answers(self) -> bool:
        return self.http.answers()

    def deliveries(
        self,
        *,
        status: str | None = None,
        channel: str | None = None,
        kind: str | None = None,
        patient_id: str | None = None,
        recipient: str | None = None,
        created_since: str | None = None,
        created_before: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Json:
        """A page of the delivery log, newest first."""
        return self.http.get(
            "/deliveries",
            status=status,
            channel=channel,
            kind=kind,
            patient_id=patient_id,
            recipient=recipient,
            created_since=created_since,
            created_before=created_before,
            page=page,
            page_size=page_size,
        )

    # --- admins: the clinic's notification settings and template overrides --------------------

    def config(self) -> Json:
        return self.http.get("/config")

    def replace_config(self, config: Json) -> Json:
        return self.http.call("PUT", "/config", body=config)

    def overrides(self) -> list[Json]:
        """The clinic's template overrides (the first 100: a clinic has a few)."""
        return self.http.get("/templates", page_size=100)["items"]

    def built_in(self, language: str, name: str) -> Json:
        return self.http.get(f"/templates/{language}/{name}/built-in")

    def preview(self, language: str, name: str, source: str) -> Json:
        return self.http.post(f"/templates/{language}/{name}/preview", {"source": source})

    def replace_override(self, language: str, name: str, source: str) -> Json:
        return self.http.call("PUT", f"/templates/{language}/{name}", body={"source": source})

    def delete_override(self, language: str, name: str) -> None:
        self.http.call("DELETE", f"/templates/{language}/{name}")

    def override(self, language: str, name: str) -> Json:
        """The clinic's override of a template (`ApiError` not_found: it has none)."""
        return self.http.get(f"/templates/{language}/{name}")

    def template_names(self) -> list[Json]:
        """The templates there are (`name`, `languages`): a clinic may override each."""
        return self.http.get("/templates/built-in", page_size=100)["items"]
