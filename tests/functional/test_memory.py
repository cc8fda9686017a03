"""Nothing a request makes outlives it: the soak run's mix of requests (bench/soak.py), served twice
in one process, leaves no more live objects of any kind after the second round than after the first.

The soak run watches the resident memory of real servers for minutes; this is the quick guard for the
commonest way to leak in Python, a process-wide container (a cache, a registry, a listener list) that
keeps something from every request: such a thing grows with each round and is named here by type.
"""

from __future__ import annotations

import abc
import collections
import gc
import sys
import weakref
from collections import Counter

import pytest
from sqlalchemy.event import registry

from ..support.api import project_url

ROUND = 60  # requests of each kind per round
SLACK = 25  # objects of one type a round may add (interned strings, a lazily made helper)


def live_objects() -> Counter:
    """Live objects by type. Two bounded caches of Python itself are left out: the sqlite3 driver keeps
    a weak reference to every cursor it made and drops the dead ones only every 200 cursors; and every
    ABC caches the types found not to be its subclasses, emptied whenever any ABC registers one."""
    for cls in [obj for obj in gc.get_objects() if isinstance(obj, abc.ABCMeta)]:
        cls._abc_caches_clear()
    gc.collect()
    return Counter(type(obj).__qualname__ for obj in gc.get_objects()
                   if not (isinstance(obj, weakref.ref) and obj() is None))


CONTAINERS = (dict, list, set, collections.deque, weakref.WeakValueDictionary, weakref.WeakKeyDictionary)


def process_wide_containers(*roots) -> dict[str, int]:
    """The size of every container a module (or one of `roots`) holds, and of every container held by
    an object a module holds: caches and registries keyed by what requests bring (objects of no
    container type, strings, numbers, which the count of live objects by type does not see)."""
    gc.collect()  # what waits for the collector (a session's listeners, say) is not kept
    sizes = {}
    holders = [(f"{name}.", vars(module)) for name, module in list(sys.modules.items()) if module is not None]
    holders += [(f"{type(root).__name__}.", root) for root in roots]
    for prefix, namespace in holders:
        for key, value in list(namespace.items()):
            if isinstance(value, CONTAINERS):
                sizes[f"{prefix}{key}"] = len(value)
            elif not isinstance(value, type) and isinstance(getattr(value, "__dict__", None), dict):
                for attr, inner in list(vars(value).items()):
                    if isinstance(inner, CONTAINERS):
                        sizes[f"{prefix}{key}.{attr}"] = len(inner)
    return sizes


@pytest.mark.slow
def test_requests_leave_nothing_behind(client, factory, db, wsgi_app):
    admin = factory.user("soak")
    org = factory.org("soak", access="private")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "field")
    me = client.as_(factory.key(admin))
    parties = f"{project_url(org, project)}parties/"
    ids = [me.post(parties, {"name": f"Amina {n:03d}", "type": "IN"}).json["id"] for n in range(10)]
    engine = wsgi_app.registry["db.engine"]

    def one_round(n: int) -> None:
        for i in range(ROUND):
            party = f"{parties}{ids[i % len(ids)]}/"
            assert me.get(parties + ["", "?search=amina", "?ordering=-name&limit=5", "?type=IN&offset=2",
                                     "?name__istartswith=Am"][i % 5]).status_int == 200
            assert me.get("/api/v1/projects/").status_int == 200
            got = me.get(party)
            assert got.status_int == 200
            r = me.patch(party, {"name": f"Patched {n}-{i}"}, headers={"If-Match": got.headers["ETag"]})
            assert r.status_int == 200, r.text
            r = me.post(parties, {"name": f"Posted {n}-{i}", "type": "GR"})
            assert r.status_int == 201, r.text
        db.expunge_all()  # the test's own session holds nothing of the round either

    one_round(0)  # first use: imports, compiled statements, the pool's connection…
    one_round(1)  # …and what only a second use makes
    containers_before = process_wide_containers(wsgi_app.registry)  # first, as it may make objects' __dict__
    before = live_objects()
    listeners_before = len(registry._key_to_collection)
    cache_before = len(engine._compiled_cache)
    one_round(2)
    containers_after = process_wide_containers(wsgi_app.registry)
    after = live_objects()

    grown = {name: after[name] - before[name] for name in after if after[name] - before[name] > SLACK}
    assert grown == {}, f"objects that outlived their requests: {grown}"
    filled = {name: size - containers_before.get(name, 0) for name, size in containers_after.items()
              if size - containers_before.get(name, 0) > SLACK}
    assert filled == {}, f"process-wide containers that grew with the requests: {filled}"
    assert len(registry._key_to_collection) <= listeners_before, "event listeners left registered"
    assert len(engine._compiled_cache) == cache_before, "a statement compiled anew in the second round"


def test_urls_are_pyramids_without_its_cache():
    from pyramid.testing import DummyRequest
    from pyramid.traversal import ResourceURL, _segment_cache

    from hyperapi.traversal.urls import UncachedResourceURL

    class Place:
        def __init__(self, name, parent=None):
            self.__name__, self.__parent__ = name, parent

    root = Place("")
    leaf = Place("id 9é;x/y~!", Place("parties", Place("field", Place("projects", Place("soak", root)))))
    for node in (root, leaf):
        for environ in ({}, {"HTTP_X_VHM_ROOT": "/soak"}):
            cached = len(_segment_cache)
            ours = UncachedResourceURL(node, DummyRequest(environ=environ))
            assert len(_segment_cache) == cached
            pyramids = ResourceURL(node, DummyRequest(environ=environ))
            for attr in ("virtual_path", "physical_path", "virtual_path_tuple", "physical_path_tuple"):
                assert getattr(ours, attr) == getattr(pyramids, attr), attr
