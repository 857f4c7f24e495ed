"""``/api/v1/channels``: create, list, delete and test webhook and Apprise channels."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from receivers import Mailbox, smtp_server, webhook_receiver
from roost.alerting import channels
from roost.storage.store import Store


def create(client: TestClient, tenant: Tenant, name: str, url: str) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/channels", headers=tenant.headers, json={"name": name, "url": url}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_webhook_channel_returns_its_secret_once_and_never_again(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, "ops hook", "https://hooks.example.com/roost")
    assert made["kind"] == "webhook"
    assert made["url"] == "https://hooks.example.com/roost"
    assert len(made["secret"]) == 64
    listed = client.get("/api/v1/channels", headers=tenant.headers).json()
    assert listed["items"] == [{k: v for k, v in made.items() if k != "secret"}]
    shown = client.get(f"/api/v1/channels/{made['id']}", headers=tenant.headers)
    assert "secret" not in shown.json()
    assert made["secret"] not in shown.text and made["secret"] not in str(listed)


def test_credentials_in_a_channel_url_are_masked(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    hook = create(client, tenant, "hook", "https://bot:hunter22@example.com/h?token=abc123&x=1")
    assert hook["url"] == "https://bot:****@example.com/h?token=****&x=1"
    mail = create(
        client,
        tenant,
        "mail",
        "mailto://roost:hunter22@127.0.0.1:2525?to=ops@example.com&from=roost@example.com"
        "&smtp=127.0.0.1&mode=insecure",
    )
    assert mail["kind"] == "apprise" and "secret" not in mail
    discord = create(client, tenant, "chat", "discord://1234567890/tokentokentoken")
    everything = client.get("/api/v1/channels", headers=tenant.headers).text
    for credential in ("hunter22", "abc123", "tokentokentoken", "1234567890"):
        assert credential not in everything
        assert credential not in mail["url"] + discord["url"]
    assert mail["url"].startswith("mailto://roost:")


def test_a_url_invalid_for_its_scheme_is_refused_naming_the_problem(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for url, words in (
        ("slack://not-enough-tokens", "slack"),
        ("tgram://bad", "telegram"),
        ("nosuchservice://x", "unknown scheme"),
        ("just words", "url"),
        ("https:///no-host", "host"),
    ):
        response = client.post(
            "/api/v1/channels", headers=tenant.headers, json={"name": "x", "url": url}
        )
        assert response.status_code == 422, (url, response.text)
        body = response.json()
        assert body["field"] == "url"
        assert words in body["error"].lower(), (url, body)
    for document in ({"name": "", "url": "https://example.com"}, {"name": "x"}, {"url": "x"}):
        response = client.post("/api/v1/channels", headers=tenant.headers, json=document)
        assert response.status_code == 422
    assert client.get("/api/v1/channels", headers=tenant.headers).json()["items"] == []


def test_deleting_a_channel_removes_it(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, "gone", "https://example.com/h")
    response = client.delete(f"/api/v1/channels/{made['id']}", headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    assert client.get("/api/v1/channels", headers=tenant.headers).json()["items"] == []
    again = client.delete(f"/api/v1/channels/{made['id']}", headers=tenant.headers)
    assert again.status_code == 404


def test_a_webhook_test_is_delivered_signed_and_logged(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    with webhook_receiver() as receiver:
        made = create(client, tenant, "hook", receiver.url)
        receiver.secret = made["secret"]
        response = client.post(f"/api/v1/channels/{made['id']}/test", headers=tenant.headers)
        assert response.status_code == 200
        assert response.json() == {"delivered": True}
        [post] = receiver.posts
        assert post.signature_ok
        assert post.headers["content-type"] == "application/json"
        body = orjson.loads(post.body)
        assert body["event"] == "test" and body["channel_id"] == made["id"]

        receiver.fail_next = 1
        failed = client.post(f"/api/v1/channels/{made['id']}/test", headers=tenant.headers)
        assert failed.status_code == 502
        assert failed.json() == {"error": "HTTP 500"}
    log = client.get(f"/api/v1/channels/{made['id']}/deliveries", headers=tenant.headers).json()
    assert [(d["ok"], d["error"], d["attempt"], d["alert_id"]) for d in log["items"]] == [
        (False, "HTTP 500", 1, None),
        (True, None, 1, None),
    ]


def test_a_test_to_a_receiver_that_is_not_listening_answers_502(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    with webhook_receiver() as receiver:
        url = receiver.url
    made = create(client, tenant, "closed", url)
    response = client.post(f"/api/v1/channels/{made['id']}/test", headers=tenant.headers)
    assert response.status_code == 502
    assert "connect" in response.json()["error"].lower()


def received_mail(mailbox: Mailbox) -> email.message.EmailMessage:
    [raw] = mailbox.messages
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_an_apprise_mailto_test_arrives_at_the_smtp_server(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    with smtp_server() as mailbox:
        made = create(client, tenant, "mail", mailbox.apprise_url("ops@example.com"))
        assert mailbox.password not in made["url"]
        response = client.post(f"/api/v1/channels/{made['id']}/test", headers=tenant.headers)
        assert response.status_code == 200, response.text
        message = received_mail(mailbox)
    assert mailbox.recipients == ["ops@example.com"]
    assert message["Subject"] == "Roost test notification"
    assert "works" in message.get_body(preferencelist=("plain", "html")).get_content()


def test_an_apprise_test_that_fails_answers_502_with_the_reason(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    with smtp_server() as mailbox:
        url = mailbox.apprise_url()
    made = create(client, tenant, "mail", url)  # the SMTP server has stopped
    response = client.post(f"/api/v1/channels/{made['id']}/test", headers=tenant.headers)
    assert response.status_code == 502
    error = response.json()["error"]
    assert "127.0.0.1" in error or "connect" in error.lower(), error
    assert mailbox.password not in error


def test_another_projects_channels_are_not_found_anywhere(client: TestClient, store: Store) -> None:
    owner, stranger = make_tenant(store), make_tenant(store)
    made = create(client, owner, "mine", "https://example.com/h")
    channel = f"/api/v1/channels/{made['id']}"
    assert client.get("/api/v1/channels", headers=stranger.headers).json()["items"] == []
    assert client.get(channel, headers=stranger.headers).status_code == 404
    assert client.get(f"{channel}/deliveries", headers=stranger.headers).status_code == 404
    assert client.post(f"{channel}/test", headers=stranger.headers).status_code == 404
    assert client.delete(channel, headers=stranger.headers).status_code == 404
    assert client.get(channel, headers=owner.headers).status_code == 200


def test_reading_needs_read_scope_and_changing_needs_admin(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, "hook", "https://example.com/h")
    channel = f"/api/v1/channels/{made['id']}"
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    writer = {"Authorization": f"Bearer {add_key(store, tenant, 'write')}"}
    assert client.get("/api/v1/channels", headers=reader).status_code == 200
    assert client.get(f"{channel}/deliveries", headers=reader).status_code == 200
    assert client.get("/api/v1/channels", headers=writer).status_code == 403
    document = {"name": "x", "url": "https://example.com/x"}
    for headers in (reader, writer):
        assert client.post("/api/v1/channels", headers=headers, json=document).status_code == 403
        assert client.post(f"{channel}/test", headers=headers).status_code == 403
        assert client.delete(channel, headers=headers).status_code == 403
    assert client.get("/api/v1/channels").status_code == 401
    assert client.post("/api/v1/channels", json=document).status_code == 401


def test_channel_lists_are_paged_newest_first(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    ids = [create(client, tenant, f"c{i}", f"https://example.com/{i}")["id"] for i in range(3)]
    first = client.get("/api/v1/channels?limit=2", headers=tenant.headers).json()
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    rest = client.get(
        f"/api/v1/channels?limit=2&before={first['next_before']}", headers=tenant.headers
    ).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    assert rest["next_before"] is None


def test_the_documented_signature_check_accepts_roosts_signature_and_nothing_else() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "alerts.md").read_text()
    [block] = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/alerts.md", "exec"), namespace)
    is_from_roost = namespace["is_from_roost"]
    body = channels.webhook_body({"event": "alert", "alert_id": 1, "state": "firing"})
    signature = channels.sign("s3cret", body)
    assert is_from_roost("s3cret", body, signature)
    assert not is_from_roost("other", body, signature)
    assert not is_from_roost("s3cret", body + b" ", signature)
