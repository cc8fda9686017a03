"""The token services the CLI uses now and the API will: a new password revokes the user's other tokens."""

from __future__ import annotations

import datetime

from hyperapi.auth.passwords import verify_password
from hyperapi.services import tokens
from hyperapi.services import users as user_service

from ..support.api import API

ACCOUNT = f"{API}/account/"
NEW_PASSWORD = "a brand new password"


def test_a_new_password_revokes_every_token_but_the_one_kept(factory, client, db):
    zoe, yan = factory.user("zoe"), factory.user("yan")
    current, current_key = user_service.new_token(db, zoe, "current")
    _, old_key = user_service.new_token(db, zoe, "old")
    _, yan_key = user_service.new_token(db, yan, "yan's")
    db.commit()

    assert user_service.set_password(db, zoe, NEW_PASSWORD, keep_token=current) == 1
    db.commit()
    assert client.as_(current_key).get(ACCOUNT).status_code == 200  # the caller's own session goes on
    assert client.as_(old_key).get(ACCOUNT).status_code == 401
    assert client.as_(yan_key).get(ACCOUNT).status_code == 200
    assert verify_password(zoe, NEW_PASSWORD)
    assert [t.name for t in tokens.list_for(db, zoe)] == ["current"]


def test_a_new_password_without_a_token_to_keep_revokes_them_all(factory, client, db):
    zoe = factory.user("zoe")
    keys = [user_service.new_token(db, zoe, name)[1] for name in ("a", "b")]
    db.commit()
    assert user_service.set_password(db, zoe, NEW_PASSWORD) == 2
    db.commit()
    for key in keys:
        assert client.as_(key).get(ACCOUNT).status_code == 401
    assert zoe.tokens == []


def test_list_for_gives_the_users_own_tokens_oldest_first(factory, db):
    zoe, yan = factory.user("zoe"), factory.user("yan")
    later = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    newest, _ = user_service.new_token(db, zoe, "newest")
    newest.created = later
    user_service.new_token(db, zoe, "oldest")
    user_service.new_token(db, yan, "yan's")
    db.flush()
    assert [t.name for t in tokens.list_for(db, zoe)] == ["oldest", "newest"]


def test_revoke_ends_one_token(factory, client, db):
    zoe = factory.user("zoe")
    first, first_key = user_service.new_token(db, zoe, "first")
    _, second_key = user_service.new_token(db, zoe, "second")
    db.commit()
    assert tokens.get(db, first.id) is first
    tokens.revoke(db, first)
    db.commit()
    assert tokens.get(db, first.id) is None
    assert client.as_(first_key).get(ACCOUNT).status_code == 401
    assert client.as_(second_key).get(ACCOUNT).status_code == 200
