"""``roost alerts list`` and ``roost channels list | test``, run as the operator runs them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import orjson

from receivers import webhook_receiver
from roost.alerting import channels
from roost.domain.alerts import AlertKind
from roost.domain.times import now_ms
from roost.services import access, alerts, notifications
from roost.services.alerts import AlertSpec
from roost.settings import Settings
from roost.storage.store import Store
from roostserver import create_key, roost_env, run_roost


def test_alerts_list_and_channel_test_from_the_command_line(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    url = fresh_database_url(tmp_path)
    env = {**roost_env(tmp_path, url), "COLUMNS": "200"}  # rich wraps tables at 80 otherwise
    create_key(env, "shop")
    store = Store(Settings(data_dir=tmp_path, database_url=url))
    with webhook_receiver() as receiver:
        target = channels.parse_url(receiver.url)
        secret = channels.new_secret()
        receiver.secret = secret
        with store.read() as conn:
            found = access.find_project(conn, "shop")
        assert found is not None
        channel = store.write_now(
            partial(
                notifications.create_channel,
                project_id=found.id,
                name="ops hook",
                kind=target.kind,
                url=target.url,
                masked_url=target.masked_url,
                secret=secret,
                now=now_ms(),
            )
        )
        spec = AlertSpec(
            name="new crashes", kind=AlertKind.EXCEPTION, definition={}, channel_ids=[channel.id]
        )
        store.write_now(partial(alerts.create_alert, project_id=found.id, spec=spec, now=now_ms()))
        store.close()

        listed = run_roost(env, "alerts", "list", "--project", "shop")
        assert listed.returncode == 0, listed.stderr
        assert "new crashes" in listed.stdout
        assert "a new or reopened exception group" in listed.stdout
        shown = run_roost(env, "channels", "list", "--project", "shop")
        assert "ops hook" in shown.stdout

        sent = run_roost(env, "channels", "test", str(channel.id))
        assert sent.returncode == 0, sent.stderr
        [post] = receiver.delivered
        assert post.signature_ok
        assert orjson.loads(post.body)["event"] == "test"

        receiver.fail_next = 1
        refused = run_roost(env, "channels", "test", str(channel.id))
        assert refused.returncode == 1
        assert "not delivered" in refused.stderr
        unknown = run_roost(env, "channels", "test", "999999")
        assert unknown.returncode == 1
        assert "channel 999999 not found" in unknown.stderr
        nobody = run_roost(env, "alerts", "list", "--project", "nobody")
        assert nobody.returncode == 1
