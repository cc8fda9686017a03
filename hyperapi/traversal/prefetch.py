"""Organization → project → party of a URL in one query, scoped level by level.

Traversal asks for one level at a time, each an indexed query on the parent's key. For the deep URLs
that are read most, the root factory loads the whole chain up front with one joined query whose
conditions are exactly those of the per-level queries (the project is looked for only inside the
organization found, the party only inside that project), and the containers take their rows from it.
"""

from sqlalchemy import and_, select

from ..models import Organization, Party, Project

CACHE = "_hyperapi_prefetched"  # on the request object: a retried request starts afresh


def prefetch(request, segments) -> None:
    # ("api", "v1", "organizations", org, "projects", project[, "parties", party, ...])
    if len(segments) < 6 or tuple(segments[:3]) != ("api", "v1", "organizations") or segments[4] != "projects":
        return
    org_slug, project_slug = segments[3], segments[5]
    party_id = segments[7] if len(segments) >= 8 and segments[6] == "parties" else None

    entities = [Organization, Project] + ([Party] if party_id else [])
    statement = (
        select(*entities)
        .outerjoin(Project, and_(Project.organization_id == Organization.id, Project.slug == project_slug))
        .where(Organization.slug == org_slug)
    )
    if party_id:
        statement = statement.outerjoin(Party, and_(Party.project_id == Project.id, Party.id == party_id))
    row = request.db.execute(statement).first()

    cache = request.__dict__.setdefault(CACHE, {})
    if row is None:
        cache[("organization", org_slug)] = None
        return
    org, project = row[0], row[1]
    cache[("organization", org_slug)] = org
    cache[("project", org.id, project_slug)] = project
    if party_id and project is not None:
        cache[("party", project.id, party_id)] = row[2]


def cached(request, key: tuple, fetch):
    """The prefetched row for `key` (None if it was found not to exist), else `fetch()`."""
    cache = request.__dict__.get(CACHE)
    if cache is not None and key in cache:
        return cache[key]
    return fetch()
