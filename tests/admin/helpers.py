"""Builders shared by the admin tests, on top of tests.factories."""

from typing import Any

from httpx import AsyncClient, Response

from tests.factories import Account

ADMIN = "/api/v1/admin"
USERS = f"{ADMIN}/users"
STATS = f"{ADMIN}/stats"
AUDIT_LOG = f"{ADMIN}/audit-log"
USER_FIELDS = {"id", "email", "full_name", "role", "is_active", "created_at"}
ADMIN_USER_FIELDS = USER_FIELDS | {"bookings_count", "tickets_count", "events_count", "last_login_at"}
AUDIT_ENTRY_FIELDS = {
    "id",
    "created_at",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip_address",
    "request_id",
    "details",
}


def user_url(user_id: str) -> str:
    return f"{USERS}/{user_id}"


async def list_users(client: AsyncClient, admin: Account, **params: Any) -> Response:
    return await client.get(USERS, params=params, headers=admin.headers)


async def listed_users(client: AsyncClient, admin: Account, **params: Any) -> dict[str, Any]:
    """The page of users, insisting the request worked."""
    response = await list_users(client, admin, **params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def listed_ids(client: AsyncClient, admin: Account, **params: Any) -> set[str]:
    return {user["id"] for user in (await listed_users(client, admin, limit=100, **params))["items"]}


async def admin_user(client: AsyncClient, admin: Account, user_id: str) -> dict[str, Any]:
    response = await client.get(user_url(user_id), headers=admin.headers)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


async def update_user(client: AsyncClient, admin: Account, user_id: str, **body: Any) -> Response:
    return await client.patch(user_url(user_id), json=body, headers=admin.headers)


async def updated_user(client: AsyncClient, admin: Account, user_id: str, **body: Any) -> dict[str, Any]:
    response = await update_user(client, admin, user_id, **body)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


async def platform_stats(client: AsyncClient, admin: Account) -> dict[str, Any]:
    response = await client.get(STATS, headers=admin.headers)
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()
    return stats


async def audit_page(client: AsyncClient, admin: Account, **params: Any) -> dict[str, Any]:
    """One page of the audit log, insisting the request worked."""
    response = await client.get(AUDIT_LOG, params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def audit_entries(client: AsyncClient, admin: Account, **params: Any) -> list[dict[str, Any]]:
    """Every matching audit entry, newest first (all pages)."""
    entries: list[dict[str, Any]] = []
    while True:
        page = await audit_page(client, admin, limit=100, offset=len(entries), **params)
        entries += page["items"]
        if len(entries) >= page["total"] or not page["items"]:
            return entries


async def the_one_entry(client: AsyncClient, admin: Account, **params: Any) -> dict[str, Any]:
    """The single audit entry that matches; fails if there are none or several."""
    entries = await audit_entries(client, admin, **params)
    assert len(entries) == 1, entries
    return entries[0]
