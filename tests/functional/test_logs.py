"""Credentials never reach the logs, even when a request fails."""

import logging

from sqlalchemy import event

from ..support.api import API


def test_no_token_or_api_key_in_the_logs(client, factory, engine, caplog):
    user = factory.user("amara")
    key = factory.key(user)

    def explode(conn, cursor, statement, parameters, context, executemany):
        if "FROM organizations" in statement:
            raise RuntimeError("boom")

    event.listen(engine, "before_cursor_execute", explode)
    try:
        with caplog.at_level(logging.DEBUG):
            r1 = client.get(f"{API}/organizations/?username=amara&api_key={key}")
            r2 = client.as_(key).get(f"{API}/organizations/")
            r3 = client.as_("not-a-key-but-secret").get(f"{API}/organizations/")
    finally:
        event.remove(engine, "before_cursor_execute", explode)
    assert r1.status_int == r2.status_int == 500 and r3.status_int == 401
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "boom" in logged  # the failure itself is logged…
    assert key not in logged and "not-a-key-but-secret" not in logged  # …its credentials never
