"""Sign-in attempts limited per account and per client address (`POST /account/login/`).

Each sign-in is checked against two counters: the account's (the username as sent, lowercased —
whether or not such a user exists, so the limit reveals nothing) and the client address's. Once
either holds `hyperapi.login_attempts` failed attempts younger than `hyperapi.login_window` seconds,
the answer is 429 with `Retry-After`, and the password is not even looked at: guessing stops, and
the answer's timing reveals nothing about the password.

- **Only failures count.** A success (or an error of ours) is not counted and resets nothing: a
  victim signing in must not hand an attacker a fresh allowance against the account, and an
  attacker's successes on their own account must not refill their address's.
- **Sliding window.** Each counter is the log of its failures' times; an attempt is refused while
  `login_attempts` of them are younger than `login_window`, and `Retry-After` is when the oldest
  of those leaves the window. (A fixed window would let twice the limit through around its edge.)
- **Reserved before the password is checked.** An attempt is recorded atomically *before* the
  password is verified (refused if that would pass the limit) and withdrawn when it turns out not to
  be a failure, so a burst of concurrent guesses cannot all slip past the check.
- **The address is `REMOTE_ADDR`** (`request.remote_addr`), which waitress sets from the trusted
  proxy's `X-Forwarded-For` as configured in production.ini. Not `request.client_addr`: WebOb takes
  that from the first `X-Forwarded-For` entry of *any* request, which a client writes itself. IPv6
  addresses count per /64 — what one subscriber gets — so hopping within it gains nothing.
- **Backends.** `memory` (default): per process, so N processes allow N times the limit.
  `redis`: shared by every process, one Lua script per attempt (atomic). If Redis cannot be reached
  the limiter **fails open** — sign-in keeps working unlimited — and logs a warning (at most once a
  minute per process): an outage of a helper must not lock every user out.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import redis

from ..services.exceptions import TooManyAttempts

log = logging.getLogger(__name__)

REGISTRY_KEY = "hyperapi.login_limiter"

DEFAULT_ATTEMPTS = 10
DEFAULT_WINDOW = 900
DEFAULT_BACKEND = "memory"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_REDIS_PREFIX = "hyperapi:"
# A sign-in waits at most this long (seconds) for Redis before it goes on unlimited.
REDIS_TIMEOUT = 1.0
WARNING_INTERVAL = 60.0


class Backend(Protocol):
    def reserve(self, keys: Sequence[str], limit: int, window: float, now: float) -> tuple[float, str | None]:
        """Atomically: if every key holds fewer than `limit` attempts younger than `window` seconds,
        record one attempt at `now` in each and answer `(0, its id)`; otherwise record nothing and
        answer `(seconds until one would be allowed, None)`."""

    def release(self, keys: Sequence[str], attempt: str) -> None:
        """Withdraw a recorded attempt (it was not a failure)."""


class MemoryBackend:
    """Counters in this process's memory, behind one lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._attempts: dict[str, list[tuple[float, str]]] = {}
        self._swept = -math.inf

    def reserve(self, keys, limit, window, now):
        with self._lock:
            self._sweep(window, now)
            wait = 0.0
            for key in keys:
                times = self._attempts[key] = [a for a in self._attempts.get(key, ()) if a[0] > now - window]
                if len(times) >= limit:
                    wait = max(wait, sorted(t for t, _ in times)[len(times) - limit] + window - now)
            if wait > 0:
                return wait, None
            attempt = secrets.token_hex(8)
            for key in keys:
                self._attempts[key].append((now, attempt))
            return 0.0, attempt

    def release(self, keys, attempt):
        with self._lock:
            for key in keys:
                if key in self._attempts:
                    self._attempts[key] = [a for a in self._attempts[key] if a[1] != attempt]

    def _sweep(self, window, now):
        """Forget counters with nothing in the window (once per window), so random usernames and
        addresses do not pile up."""
        if now - self._swept < window:
            return
        self._swept = now
        for key in [k for k, times in self._attempts.items() if all(t <= now - window for t, _ in times)]:
            del self._attempts[key]


# KEYS: the counters (sorted sets: member = attempt id, score = its time in ms).
# ARGV: now (ms), window (ms), limit, the new attempt's id. Answers 0 when recorded, else the wait in ms.
RESERVE_SCRIPT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for _, key in ipairs(KEYS) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local n = redis.call('ZCARD', key)
    if n >= limit then
        local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
        wait = math.max(wait, tonumber(oldest[2]) + window - now)
    end
end
if wait > 0 then
    return wait
end
for _, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
end
return 0
"""


class RedisBackend:
    """Counters in Redis, shared by every process. Times come from the caller's clock (the hosts'
    clocks are assumed to agree within a second, as NTP keeps them)."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_REDIS_PREFIX):
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(RESERVE_SCRIPT)
        self._warned = -math.inf

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_REDIS_PREFIX) -> RedisBackend:
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        return cls(client, prefix)

    def reserve(self, keys, limit, window, now):
        attempt = secrets.token_hex(8)
        try:
            wait = self._script(keys=[self.prefix + key for key in keys],
                                args=[int(now * 1000), math.ceil(window * 1000), limit, attempt])
        except redis.RedisError as exc:
            self._warn(exc)
            return 0.0, None  # fail open
        return (int(wait) / 1000, None) if int(wait) > 0 else (0.0, attempt)

    def release(self, keys, attempt):
        try:
            with self.client.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.zrem(self.prefix + key, attempt)
                pipe.execute()
        except redis.RedisError as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        if time.monotonic() - self._warned >= WARNING_INTERVAL:
            self._warned = time.monotonic()
            log.warning("Redis is unavailable (%s); sign-in attempts are NOT being limited", exc)


def address_key(address: str | None) -> str:
    """The counter of a client address: an IPv4 address, or the /64 of an IPv6 one."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(((int(ip) >> 64) << 64, 64)))
    return str(ip)


class LoginLimiter:
    def __init__(self, backend: Backend, attempts: int = DEFAULT_ATTEMPTS, window: float = DEFAULT_WINDOW,
                 clock: Callable[[], float] = time.time):
        self.backend = backend
        self.attempts = attempts
        self.window = window
        self.clock = clock

    def keys(self, username: str, address: str | None) -> list[str]:
        return [f"login:account:{username.lower()}", f"login:ip:{address_key(address)}"]

    def attempt(self, username: str, address: str | None) -> Attempt:
        return Attempt(self, self.keys(username, address))


class Attempt:
    """One sign-in attempt, as a context manager: entering records it (or raises the 429); leaving
    withdraws it unless `failed()` was called."""

    def __init__(self, limiter: LoginLimiter, keys: list[str]):
        self.limiter = limiter
        self.keys = keys
        self.id: str | None = None
        self._failed = False

    def __enter__(self) -> Attempt:
        limiter = self.limiter
        wait, self.id = limiter.backend.reserve(self.keys, limiter.attempts, limiter.window, limiter.clock())
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyAttempts(seconds)
        return self

    def failed(self) -> None:
        self._failed = True

    def __exit__(self, *exc_info) -> None:
        if not self._failed and self.id is not None:
            self.limiter.backend.release(self.keys, self.id)


def login_attempt(request, username: str) -> Attempt:
    """`with request.login_attempt(username) as attempt:` around checking a password; call
    `attempt.failed()` when it is wrong."""
    return request.registry[REGISTRY_KEY].attempt(username, request.remote_addr)


def make_limiter(settings: dict) -> LoginLimiter:
    attempts = int(settings.get("hyperapi.login_attempts", DEFAULT_ATTEMPTS))
    window = float(settings.get("hyperapi.login_window", DEFAULT_WINDOW))
    if attempts < 1 or window <= 0:
        raise ValueError("hyperapi.login_attempts must be at least 1 and hyperapi.login_window above 0")
    kind = settings.get("hyperapi.ratelimit.backend", DEFAULT_BACKEND).strip()
    if kind == "memory":
        backend: Backend = MemoryBackend()
    elif kind == "redis":
        backend = RedisBackend.from_url(settings.get("hyperapi.ratelimit.redis_url", DEFAULT_REDIS_URL),
                                        settings.get("hyperapi.ratelimit.redis_prefix", DEFAULT_REDIS_PREFIX))
    else:
        raise ValueError(f"hyperapi.ratelimit.backend must be 'memory' or 'redis', not {kind!r}")
    return LoginLimiter(backend, attempts, window)


def includeme(config):
    config.registry[REGISTRY_KEY] = make_limiter(config.get_settings())
    config.add_request_method(login_attempt, "login_attempt")
