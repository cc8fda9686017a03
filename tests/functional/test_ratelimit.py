"""Sign-in attempts are limited per account and per client address (issue 6), on both backends.

Everything goes through HTTP on an app built with the limiter's settings. Time is the limiter's
injected clock, so a 900-second window passes without sleeping. The Redis backend runs against the
local Redis at 127.0.0.1:6379 (skipped when there is none), under a key prefix of its own that is
deleted after each test.
"""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
import redis
from webtest import TestApp

import hyperapi.services.users
from hyperapi import main
from hyperapi.auth.ratelimit import REGISTRY_KEY, MemoryBackend, RedisBackend, address_key, make_limiter
from hyperapi.services.exceptions import TooManyAttempts

from ..support.api import API
from ..support.factory import PASSWORD

LOGIN = f"{API}/account/login/"
REDIS_URL = "redis://127.0.0.1:6379/0"
RUN_PREFIX = f"hyperapi-test-{uuid.uuid4().hex[:12]}:"
ATTEMPTS = 3  # small, to keep the tests quick (every sign-in hashes a password); test_defaults uses 10
WINDOW = 900


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


@pytest.fixture(scope="module")
def redis_available() -> bool:
    try:
        return bool(redis_client().ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_prefix(redis_available):
    if not redis_available:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"{RUN_PREFIX}{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis_client()
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def backend_settings(request) -> dict:
    if request.param == "memory":
        return {"hyperapi.ratelimit.backend": "memory"}
    return {"hyperapi.ratelimit.backend": "redis", "hyperapi.ratelimit.redis_url": REDIS_URL,
            "hyperapi.ratelimit.redis_prefix": request.getfixturevalue("redis_prefix")}


def make_app(settings, engine, db, **extra) -> TestApp:
    app = main({}, **{**settings, "hyperapi.engine": engine, **extra})
    app.registry["db.session_factory"].configure(bind=db.bind, join_transaction_mode="create_savepoint")
    return TestApp(app)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings, engine, db, backend_settings, clock) -> TestApp:
    app = make_app(settings, engine, db, **backend_settings, **{"hyperapi.login_attempts": str(ATTEMPTS),
                                                                  "hyperapi.login_window": str(WINDOW)})
    app.app.registry[REGISTRY_KEY].clock = clock
    return app


@pytest.fixture
def users(factory):
    return [factory.user(name) for name in ("amara", "bruno", "chen")]


def login(app: TestApp, username: str, password: str = "wrong password", address: str = "203.0.113.7",
          headers: dict | None = None):
    return app.post_json(LOGIN, {"username": username, "password": password}, status="*", expect_errors=True,
                         headers=headers or {}, extra_environ={"REMOTE_ADDR": address})


def assert_limited(r, seconds: int | None = None):
    assert r.status_int == 429, r.body
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= WINDOW
    if seconds is not None:
        assert wait == seconds
    assert r.json == {"error": f"Too many sign-in attempts; try again in {wait} seconds."}


def fail(app, n, username="amara", address="203.0.113.7"):
    for _ in range(n):
        assert login(app, username, address=address).status_int == 401


def test_the_account_is_limited_whatever_the_address(app, users):
    for i in range(ATTEMPTS):
        assert login(app, "amara", address=f"198.51.100.{i}").status_int == 401
    assert_limited(login(app, "amara", address="192.0.2.99"), WINDOW)
    # Usernames count in lowercase: another spelling is the same account.
    assert_limited(login(app, "AMARA", address="192.0.2.100"))
    # Other accounts, from addresses that have not failed, are not affected.
    assert login(app, "bruno", PASSWORD, address="192.0.2.101").status_int == 201


def test_the_address_is_limited_whatever_the_account(app, users):
    for i in range(ATTEMPTS):
        assert login(app, f"nobody-{i}", address="203.0.113.7").status_int == 401
    # Even the right password of an account that never failed, from that address.
    assert_limited(login(app, "chen", PASSWORD, address="203.0.113.7"), WINDOW)
    assert login(app, "chen", PASSWORD, address="203.0.113.8").status_int == 201


def test_unknown_usernames_are_limited_like_real_ones(app, users):
    fail(app, ATTEMPTS, username="no-such-user", address="198.51.100.1")
    assert_limited(login(app, "no-such-user", address="198.51.100.2"))


def test_while_limited_the_right_password_is_refused_without_being_checked(app, users, monkeypatch):
    fail(app, ATTEMPTS)
    checked = []
    real = hyperapi.services.users.verify_password
    monkeypatch.setattr(hyperapi.services.users, "verify_password",
                        lambda user, password: checked.append(password) or real(user, password))
    r = login(app, "amara", PASSWORD, address="192.0.2.1")
    assert_limited(r)
    assert "token" not in r.json
    assert checked == []  # the password was not even looked at


def test_retry_after_counts_down_and_the_window_expires(app, users, clock):
    fail(app, ATTEMPTS)
    assert_limited(login(app, "amara", PASSWORD), WINDOW)
    clock.advance(100)
    assert_limited(login(app, "amara", PASSWORD), WINDOW - 100)
    clock.advance(WINDOW - 100.5)
    assert_limited(login(app, "amara", PASSWORD), 1)  # rounded up: never "try again in 0 seconds"
    clock.advance(0.5)
    r = login(app, "amara", PASSWORD)
    assert r.status_int == 201 and r.json["token"]


def test_the_window_slides(app, users, clock):
    fail(app, ATTEMPTS // 2)
    clock.advance(600)
    fail(app, ATTEMPTS - ATTEMPTS // 2)
    assert_limited(login(app, "amara"), WINDOW - 600)
    # The first five leave the window 900 s after they were made; the last five stay 600 s more.
    clock.advance(WINDOW - 600)
    fail(app, ATTEMPTS // 2)
    assert_limited(login(app, "amara"), 600)


def test_successes_do_not_count(app, users, clock):
    fail(app, ATTEMPTS - 1)
    for _ in range(2 * ATTEMPTS):
        assert login(app, "amara", PASSWORD).status_int == 201
    # Nor do they reset anything: the failures before them still count.
    assert login(app, "amara").status_int == 401
    assert_limited(login(app, "amara", PASSWORD))


def test_invalid_requests_do_not_count(app, users):
    for _ in range(2 * ATTEMPTS):
        r = app.post_json(LOGIN, {"username": "amara"}, status="*", extra_environ={"REMOTE_ADDR": "203.0.113.7"})
        assert r.status_int == 400
    assert login(app, "amara", PASSWORD).status_int == 201


def test_a_forwarded_for_header_from_the_client_changes_nothing(app, users):
    """The address is REMOTE_ADDR (which waitress sets from a *trusted* proxy), never the
    X-Forwarded-For a client writes itself."""
    for i in range(ATTEMPTS):
        r = login(app, f"nobody-{i}", headers={"X-Forwarded-For": f"10.0.0.{i}"})
        assert r.status_int == 401
    assert_limited(login(app, "nobody-x", headers={"X-Forwarded-For": "10.9.9.9"}))


def test_ipv6_addresses_count_per_64(app, users):
    for i in range(ATTEMPTS):
        assert login(app, f"nobody-{i}", address=f"2001:db8:1:2::{i + 1:x}").status_int == 401
    assert_limited(login(app, "bruno", PASSWORD, address="2001:db8:1:2:ffff:ffff:ffff:ffff"))
    assert login(app, "bruno", PASSWORD, address="2001:db8:1:3::1").status_int == 201


def test_the_limit_and_the_window_are_settings(settings, engine, db, backend_settings, users, clock):
    app = make_app(settings, engine, db, **backend_settings, **{"hyperapi.login_attempts": "2",
                                                                  "hyperapi.login_window": "60"})
    app.app.registry[REGISTRY_KEY].clock = clock
    fail(app, 2)
    assert_limited(login(app, "amara", PASSWORD), 60)


def test_defaults(settings, engine, db, users):
    app = make_app(settings, engine, db)
    limiter = app.app.registry[REGISTRY_KEY]
    assert (limiter.attempts, limiter.window, type(limiter.backend)) == (10, 900, MemoryBackend)
    fail(app, 10)
    assert_limited(login(app, "amara", PASSWORD))


def test_redis_backend_settings(redis_prefix):
    limiter = make_limiter({"hyperapi.ratelimit.backend": "redis", "hyperapi.ratelimit.redis_prefix": redis_prefix})
    assert isinstance(limiter.backend, RedisBackend)
    assert limiter.backend.client.connection_pool.connection_kwargs["host"] == "127.0.0.1"
    limiter.backend.reserve(limiter.keys("Amara", "203.0.113.7"), 10, 900, 1_800_000_000.0)
    keys = sorted(k.decode() for k in redis_client().scan_iter(match=f"{redis_prefix}*"))
    assert keys == [f"{redis_prefix}login:account:amara", f"{redis_prefix}login:ip:203.0.113.7"]
    assert 0 < redis_client().ttl(keys[0]) <= 900


@pytest.mark.parametrize("bad", [{"hyperapi.ratelimit.backend": "memcached"}, {"hyperapi.login_attempts": "0"},
                                 {"hyperapi.login_window": "-1"}, {"hyperapi.login_attempts": "ten"}])
def test_bad_settings_stop_the_start(bad):
    with pytest.raises(ValueError):
        make_limiter(bad)


def test_an_unreachable_redis_fails_open_and_says_so(settings, engine, db, users, caplog):
    app = make_app(settings, engine, db, **{"hyperapi.ratelimit.backend": "redis",
                                            "hyperapi.ratelimit.redis_url": "redis://127.0.0.1:1/0"})
    with caplog.at_level(logging.WARNING, logger="hyperapi.auth.ratelimit"):
        fail(app, ATTEMPTS + 2)
        assert login(app, "amara", PASSWORD).status_int == 201
    warnings = [r for r in caplog.records if r.name == "hyperapi.auth.ratelimit"]
    assert len(warnings) == 1  # once, not once per request
    assert "NOT being limited" in warnings[0].getMessage()


def test_concurrent_attempts_cannot_pass_the_limit(backend_settings):
    """Attempts are reserved atomically before the password is checked: of many at once, exactly
    the limit get through."""
    limiter = make_limiter({**backend_settings, "hyperapi.login_attempts": "5"})
    admitted, barrier = [], threading.Barrier(20)

    def attempt(i):
        barrier.wait()
        try:
            with limiter.attempt("amara", f"198.51.100.{i}") as a:
                a.failed()
                admitted.append(i)
        except Exception as exc:
            assert isinstance(exc, TooManyAttempts)  # answered 429 by the app

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 5


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    (None, "unknown"),
    ("not-an-address", "not-an-address"),
])
def test_address_keys(address, key):
    assert address_key(address) == key
