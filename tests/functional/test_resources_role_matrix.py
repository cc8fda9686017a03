"""The role matrix of resources: who may do what to files, where (SPEC §2, §3, §4, §7), request by request.

Every expected status below is written out by hand from SPEC §3 and the rules of resources (a resource
is seen where it is attached, by whoever sees the entity; archived, only by those who may edit it there;
the flat /resources/{id}/ is allowed what any of its attachments allows, and a DELETE there detaches it
from every attachment where the caller may delete it — deleting it when none remains). Nothing here asks
`hyperapi.auth.rules`.

The world: users, organizations, projects and parties made directly in the database by the factory; the
resources uploaded over HTTP by a superuser (and `attach`ed, for those attached twice), before `dusty`
and `old` are archived. It is made once for the module; every test runs in a savepoint rolled back after
it (and the stored files it deleted are put back), so each test starts from this untouched world:

    acme    public org     admin: admin   member: member
      open    public project       viewer, collector, manager     party p_open
      team    private project      viewer, collector, manager
      old     archived project     viewer, collector, manager
      side    public project       other: collector                party p_side
    hush    private org    admin: admin   member: member
    dusty   archived org   admin: admin   member: member
    globex  public org     (nobody)
      far     public project

    resource       attached to                   archived
    r_acme         acme                          -
    r_acme_arch    acme                          yes
    r_hush         hush                          -
    r_dusty        dusty                         -
    r_open         open                          -
    r_open_arch    open                          yes
    r_team         team                          -
    r_old          old                           -
    r_side         side                          -
    r_party        p_open                        -
    r_party_arch   p_open                        yes
    r_union        open, then p_side             -
    r_union_arch   open, then p_side             yes
    r_far          far (in globex)               -

The callers (the columns of the tables): anonymous, stranger (signed in, no roles), org member and org
admin (of acme, hush and dusty), project viewer, collector and manager (of open, team and old), superuser,
and `other`, a collector of another project (side) of the same organization.

What each answer must look like (SPEC §4, §7):
- 404: `{"error": "<Thing> does not exist"}` — "Resource" for any resource URL, its content included; a
  collection names its parent — byte for byte (headers too) the answer on a URL where one key of the path
  never existed;
- 401: `{"error": "Please sign in."}` with `WWW-Authenticate: Token`;
- 403: the sentence for what was refused (create / change / delete), or, for a write into an archived
  resource by someone who may edit it, the "un-archive it first" sentence (`403a`);
- 400 on attaching: `400h` the resource is hidden from the caller or missing (one answer for both), `400x`
  it belongs to another organization; 409 it is attached there already; `403e` the caller sees it but
  may not edit it (attached to a project of theirs, it would take that project's rules: a collector
  could then edit the organization's document);
- 405: `{"error": "Method X is not allowed here."}` and `Allow` listing what the node answers;
- 201 (with `Location`, readable by the creator), 200, 204 with no body — and each does exactly what it
  says to the rows and the stored files, while a refused request changes neither.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from webtest import TestApp

from hyperapi.models import Organization, Project, Resource, ResourceFile, target_of

from ..support.api import API, Client
from ..support.factory import Factory
from .resource_helpers import (
    flat_url,
    nested_under,
    pdf,
    resource_exists,
    resource_tables,
    targets_of,
    upload,
)

ROLES = ("anon", "stranger", "member", "admin", "viewer", "collector", "manager", "su", "other")
PROJECT_ROLES_OF_CALLERS = ("viewer", "collector", "manager")


class Upload:
    """A multipart upload body: a new PDF named `Uploaded`."""

    NAME = "Uploaded"
    DATA = pdf("uploaded in the matrix")

    def __repr__(self):
        return "UPLOAD"


UP = Upload()
RENAME = {"name": "Renamed"}
PUT_BODY = {"name": "Renamed", "description": "Replaced", "archived": False}
UNARCHIVE = {"archived": False}


def ID(name: str) -> dict:  # noqa: N802 - reads as the body it makes
    """The body that attaches the resource the placeholder names: `{"id": "{r_open}"}`."""
    return {"id": "{" + name + "}"}


O = "organizations/acme/"  # noqa: E741 - short names keep the table readable
P_OPEN = "organizations/acme/projects/open/"
P_TEAM = "organizations/acme/projects/team/"
P_OLD = "organizations/acme/projects/old/"
P_SIDE = "organizations/acme/projects/side/"
PTY_OPEN = P_OPEN + "parties/{p_open}/"
PTY_SIDE = P_SIDE + "parties/{p_side}/"
HUSH = "organizations/hush/"
DUSTY = "organizations/dusty/"
GLOBEX = "organizations/globex/"
NOPE = "organizations/nope/"
FLAT = "resources/"
# The resource collections of each.
ACME_R, HUSH_R, DUSTY_R, GLOBEX_R, NOPE_R = (org + "resources/" for org in (O, HUSH, DUSTY, GLOBEX, NOPE))
OPEN_R, TEAM_R, OLD_R, SIDE_R = (project + "resources/" for project in (P_OPEN, P_TEAM, P_OLD, P_SIDE))
PTY_OPEN_R, PTY_SIDE_R = PTY_OPEN + "resources/", PTY_SIDE + "resources/"
FAR_R = GLOBEX + "projects/far/resources/"
# ...and some that never existed: a project that is not there, and a project or party under the wrong parent.
NOPE_PRJ_R = O + "projects/nope/resources/"
HUSH_OPEN_R = HUSH + "projects/open/resources/"
SIDE_P_OPEN_R = P_SIDE + "parties/{p_open}/resources/"

ALL_200 = "200 200 200 200 200 200 200 200 200"
ALL_404 = "404 404 404 404 404 404 404 404 404"
ALL_405 = "405 405 405 405 405 405 405 405 405"

# fmt: off
# The matrix. Paths are below /api/v1/; {r_…} is the id of that resource, {p_…} of that party, {no_id} a
# well-formed id that nothing has.
#
#  method    path                                  body               anon str mem adm vie col man su  oth
MATRIX = [
    # -- resources of an organization -------------------------------------------------------------------------
    ("GET",     ACME_R,                                None,              ALL_200),
    ("POST",    ACME_R,                                UP,                "401 403 403 201 403 403 403 201 403"),
    ("POST",    ACME_R,                                ID("r_open"),      "401 403 403 201 403 403 403 201 403"),
    ("POST",    ACME_R,                                ID("r_team"),      "401 403 403 201 403 403 403 201 403"),
    ("POST",    ACME_R,                                ID("r_acme"),      "401 403 403 409 403 403 403 409 403"),
    ("POST",    ACME_R,                                ID("r_far"),       "401 403 403 400x 403 403 403 400x 403"),
    ("POST",    ACME_R,                                ID("r_hush"),      "401 403 403 400x 403 403 403 400x 403"),
    ("POST",    ACME_R,                                ID("no_id"),       "401 403 403 400h 403 403 403 400h 403"),
    ("PUT",     ACME_R,                                RENAME,            ALL_405),
    ("DELETE",  ACME_R,                                None,              ALL_405),
    ("GET",     HUSH_R,                                None,              "404 404 200 200 404 404 404 200 404"),
    ("POST",    HUSH_R,                                UP,                "404 404 403 201 404 404 404 201 404"),
    ("DELETE",  HUSH_R,                                None,              "404 404 405 405 404 404 404 405 404"),
    ("GET",     DUSTY_R,                               None,              "404 404 200 200 404 404 404 200 404"),
    ("POST",    DUSTY_R,                               UP,                "404 404 403 403 404 404 404 403 404"),
    ("POST",    DUSTY_R,                               ID("r_dusty"),     "404 404 403 403 404 404 404 403 404"),
    ("GET",     NOPE_R,                                None,              ALL_404),
    ("POST",    NOPE_R,                                UP,                ALL_404),
    ("POST",    NOPE_R,                                ID("r_acme"),      ALL_404),
    # live, in a public organization
    ("GET",     ACME_R + "{r_acme}/",                  None,              ALL_200),
    ("HEAD",    ACME_R + "{r_acme}/",                  None,              ALL_200),
    ("OPTIONS", ACME_R + "{r_acme}/",                  None,              ALL_200),
    ("PATCH",   ACME_R + "{r_acme}/",                  RENAME,            "401 403 403 200 403 403 403 200 403"),
    ("PUT",     ACME_R + "{r_acme}/",                  PUT_BODY,          "401 403 403 200 403 403 403 200 403"),
    ("DELETE",  ACME_R + "{r_acme}/",                  None,              "401 403 403 204 403 403 403 204 403"),
    ("POST",    ACME_R + "{r_acme}/",                  RENAME,            ALL_405),
    ("GET",     ACME_R + "{r_acme}/content",           None,              ALL_200),
    ("HEAD",    ACME_R + "{r_acme}/content",           None,              ALL_200),
    ("PATCH",   ACME_R + "{r_acme}/content",           RENAME,            ALL_405),
    ("DELETE",  ACME_R + "{r_acme}/content",           None,              ALL_405),
    # archived: only those who may edit it (org admins, superusers) see it; they may un-archive it
    ("GET",     ACME_R + "{r_acme_arch}/",             None,              "404 404 404 200 404 404 404 200 404"),
    ("HEAD",    ACME_R + "{r_acme_arch}/",             None,              "404 404 404 200 404 404 404 200 404"),
    ("PATCH",   ACME_R + "{r_acme_arch}/",             RENAME,            "404 404 404 403a 404 404 404 403a 404"),
    ("PUT",     ACME_R + "{r_acme_arch}/",             PUT_BODY,          "404 404 404 403a 404 404 404 403a 404"),
    ("PATCH",   ACME_R + "{r_acme_arch}/",             UNARCHIVE,         "404 404 404 200 404 404 404 200 404"),
    ("DELETE",  ACME_R + "{r_acme_arch}/",             None,              "404 404 404 204 404 404 404 204 404"),
    ("POST",    ACME_R + "{r_acme_arch}/",             RENAME,            "404 404 404 405 404 404 404 405 404"),
    ("GET",     ACME_R + "{r_acme_arch}/content",      None,              "404 404 404 200 404 404 404 200 404"),
    ("HEAD",    ACME_R + "{r_acme_arch}/content",      None,              "404 404 404 200 404 404 404 200 404"),
    # in a private organization: its members
    ("GET",     HUSH_R + "{r_hush}/",                  None,              "404 404 200 200 404 404 404 200 404"),
    ("PATCH",   HUSH_R + "{r_hush}/",                  RENAME,            "404 404 403 200 404 404 404 200 404"),
    ("DELETE",  HUSH_R + "{r_hush}/",                  None,              "404 404 403 204 404 404 404 204 404"),
    ("GET",     HUSH_R + "{r_hush}/content",           None,              "404 404 200 200 404 404 404 200 404"),
    # in an archived organization: its members see it, nobody writes
    ("GET",     DUSTY_R + "{r_dusty}/",                None,              "404 404 200 200 404 404 404 200 404"),
    ("PATCH",   DUSTY_R + "{r_dusty}/",                RENAME,            "404 404 403 403 404 404 404 403 404"),
    ("PUT",     DUSTY_R + "{r_dusty}/",                PUT_BODY,          "404 404 403 403 404 404 404 403 404"),
    ("DELETE",  DUSTY_R + "{r_dusty}/",                None,              "404 404 403 403 404 404 404 403 404"),
    ("GET",     DUSTY_R + "{r_dusty}/content",         None,              "404 404 200 200 404 404 404 200 404"),
    # not attached here, or under an organization that is not its own, or missing
    ("GET",     ACME_R + "{r_open}/",                  None,              ALL_404),
    ("PATCH",   ACME_R + "{r_open}/",                  RENAME,            ALL_404),
    ("DELETE",  ACME_R + "{r_open}/",                  None,              ALL_404),
    ("GET",     ACME_R + "{r_open}/content",           None,              ALL_404),
    ("GET",     HUSH_R + "{r_acme}/",                  None,              ALL_404),
    ("GET",     GLOBEX_R + "{r_acme}/",                None,              ALL_404),
    ("DELETE",  GLOBEX_R + "{r_acme}/",                None,              ALL_404),
    ("GET",     ACME_R + "{no_id}/",                   None,              ALL_404),
    ("HEAD",    ACME_R + "{no_id}/",                   None,              ALL_404),
    ("OPTIONS", ACME_R + "{no_id}/",                   None,              ALL_404),
    ("PATCH",   ACME_R + "{no_id}/",                   RENAME,            ALL_404),
    ("DELETE",  ACME_R + "{no_id}/",                   None,              ALL_404),
    ("GET",     ACME_R + "{no_id}/content",            None,              ALL_404),
    ("GET",     NOPE_R + "{r_acme}/",                  None,              ALL_404),
    ("GET",     NOPE_R + "{r_acme}/content",           None,              ALL_404),

    # -- resources of a project -------------------------------------------------------------------------------
    ("GET",     OPEN_R,                                None,              ALL_200),
    ("POST",    OPEN_R,                                UP,                "401 403 403 201 403 201 201 201 403"),
    ("POST",    OPEN_R,                                ID("r_acme"),      "401 403 403 201 403 403e 403e 201 403"),
    ("POST",    OPEN_R,                                ID("r_team"),      "401 403 403 201 403 201 201 201 403"),
    ("POST",    OPEN_R,                                ID("r_acme_arch"), "401 403 403 201 403 400h 400h 201 403"),
    ("POST",    OPEN_R,                                ID("r_open"),      "401 403 403 409 403 409 409 409 403"),
    ("POST",    OPEN_R,                                ID("r_far"),       "401 403 403 400x 403 400x 400x 400x 403"),
    ("POST",    OPEN_R,                                ID("r_hush"),      "401 403 403 400x 403 400h 400h 400x 403"),
    ("POST",    OPEN_R,                                ID("no_id"),       "401 403 403 400h 403 400h 400h 400h 403"),
    ("PATCH",   OPEN_R,                                RENAME,            ALL_405),
    ("GET",     TEAM_R,                                None,              "404 404 200 200 200 200 200 200 404"),
    ("POST",    TEAM_R,                                UP,                "404 404 403 201 403 201 201 201 404"),
    ("POST",    TEAM_R,                                ID("r_open"),      "404 404 403 201 403 201 201 201 404"),
    ("GET",     OLD_R,                                 None,              "404 404 404 200 404 404 200 200 404"),
    ("POST",    OLD_R,                                 UP,                "404 404 404 403 404 404 403 403 404"),
    ("POST",    OLD_R,                                 ID("r_open"),      "404 404 404 403 404 404 403 403 404"),
    ("GET",     SIDE_R,                                None,              ALL_200),
    ("POST",    SIDE_R,                                UP,                "401 403 403 201 403 403 403 201 201"),
    ("POST",    SIDE_R,                                ID("r_open"),      "401 403 403 201 403 403 403 201 403e"),
    ("POST",    SIDE_R,                                ID("r_team"),      "401 403 403 201 403 403 403 201 400h"),
    ("GET",     NOPE_PRJ_R,                            None,              ALL_404),
    ("POST",    NOPE_PRJ_R,                            UP,                ALL_404),
    ("GET",     HUSH_OPEN_R,                           None,              ALL_404),
    # live, in a public project
    ("GET",     OPEN_R + "{r_open}/",                  None,              ALL_200),
    ("HEAD",    OPEN_R + "{r_open}/",                  None,              ALL_200),
    ("PATCH",   OPEN_R + "{r_open}/",                  RENAME,            "401 403 403 200 403 200 200 200 403"),
    ("PUT",     OPEN_R + "{r_open}/",                  PUT_BODY,          "401 403 403 200 403 200 200 200 403"),
    ("DELETE",  OPEN_R + "{r_open}/",                  None,              "401 403 403 204 403 403 204 204 403"),
    ("POST",    OPEN_R + "{r_open}/",                  RENAME,            ALL_405),
    ("GET",     OPEN_R + "{r_open}/content",           None,              ALL_200),
    ("HEAD",    OPEN_R + "{r_open}/content",           None,              ALL_200),
    ("PUT",     OPEN_R + "{r_open}/content",           RENAME,            ALL_405),
    # archived: org admins, managers, collectors, superusers
    ("GET",     OPEN_R + "{r_open_arch}/",             None,              "404 404 404 200 404 200 200 200 404"),
    ("PATCH",   OPEN_R + "{r_open_arch}/",             RENAME,            "404 404 404 403a 404 403a 403a 403a 404"),
    ("PUT",     OPEN_R + "{r_open_arch}/",             PUT_BODY,          "404 404 404 403a 404 403a 403a 403a 404"),
    ("PATCH",   OPEN_R + "{r_open_arch}/",             UNARCHIVE,         "404 404 404 200 404 200 200 200 404"),
    ("DELETE",  OPEN_R + "{r_open_arch}/",             None,              "404 404 404 204 404 403 204 204 404"),
    ("GET",     OPEN_R + "{r_open_arch}/content",      None,              "404 404 404 200 404 200 200 200 404"),
    ("HEAD",    OPEN_R + "{r_open_arch}/content",      None,              "404 404 404 200 404 200 200 200 404"),
    ("OPTIONS", OPEN_R + "{r_open_arch}/content",      None,              "404 404 404 200 404 200 200 200 404"),
    # in a private project: org members and its role holders
    ("GET",     TEAM_R + "{r_team}/",                  None,              "404 404 200 200 200 200 200 200 404"),
    ("PATCH",   TEAM_R + "{r_team}/",                  RENAME,            "404 404 403 200 403 200 200 200 404"),
    ("PUT",     TEAM_R + "{r_team}/",                  PUT_BODY,          "404 404 403 200 403 200 200 200 404"),
    ("DELETE",  TEAM_R + "{r_team}/",                  None,              "404 404 403 204 403 403 204 204 404"),
    ("GET",     TEAM_R + "{r_team}/content",           None,              "404 404 200 200 200 200 200 200 404"),
    # in an archived project: org admins, managers, superusers see it; nobody writes
    ("GET",     OLD_R + "{r_old}/",                    None,              "404 404 404 200 404 404 200 200 404"),
    ("PATCH",   OLD_R + "{r_old}/",                    RENAME,            "404 404 404 403 404 404 403 403 404"),
    ("PATCH",   OLD_R + "{r_old}/",                    UNARCHIVE,         "404 404 404 403 404 404 403 403 404"),
    ("PUT",     OLD_R + "{r_old}/",                    PUT_BODY,          "404 404 404 403 404 404 403 403 404"),
    ("DELETE",  OLD_R + "{r_old}/",                    None,              "404 404 404 403 404 404 403 403 404"),
    ("GET",     OLD_R + "{r_old}/content",             None,              "404 404 404 200 404 404 200 200 404"),
    # another project's collector may write there, and only there
    ("GET",     SIDE_R + "{r_side}/",                  None,              ALL_200),
    ("PATCH",   SIDE_R + "{r_side}/",                  RENAME,            "401 403 403 200 403 403 403 200 200"),
    ("DELETE",  SIDE_R + "{r_side}/",                  None,              "401 403 403 204 403 403 403 204 403"),
    # not attached here, or missing
    ("GET",     TEAM_R + "{r_open}/",                  None,              ALL_404),
    ("PATCH",   TEAM_R + "{r_open}/",                  RENAME,            ALL_404),
    ("GET",     OPEN_R + "{r_team}/",                  None,              ALL_404),
    ("DELETE",  OPEN_R + "{r_team}/",                  None,              ALL_404),
    ("GET",     OPEN_R + "{r_acme}/",                  None,              ALL_404),
    ("GET",     OPEN_R + "{r_party}/",                 None,              ALL_404),
    ("GET",     OPEN_R + "{r_team}/content",           None,              ALL_404),
    ("GET",     FAR_R + "{r_open}/",                   None,              ALL_404),
    ("GET",     HUSH_OPEN_R + "{r_open}/",             None,              ALL_404),
    ("GET",     OPEN_R + "{no_id}/",                   None,              ALL_404),
    ("PATCH",   OPEN_R + "{no_id}/",                   RENAME,            ALL_404),
    ("PUT",     OPEN_R + "{no_id}/",                   PUT_BODY,          ALL_404),
    ("DELETE",  OPEN_R + "{no_id}/",                   None,              ALL_404),
    ("GET",     OPEN_R + "{no_id}/content",            None,              ALL_404),
    ("GET",     NOPE_PRJ_R + "{r_open}/",              None,              ALL_404),

    # -- resources of a party (never public) ------------------------------------------------------------------
    ("GET",     PTY_OPEN_R,                            None,              "404 404 200 200 200 200 200 200 404"),
    ("POST",    PTY_OPEN_R,                            UP,                "404 404 403 201 403 201 201 201 404"),
    ("POST",    PTY_OPEN_R,                            ID("r_open"),      "404 404 403 201 403 201 201 201 404"),
    ("POST",    PTY_OPEN_R,                            ID("r_party"),     "404 404 403 409 403 409 409 409 404"),
    ("POST",    PTY_OPEN_R,                            ID("r_far"),       "404 404 403 400x 403 400x 400x 400x 404"),
    ("DELETE",  PTY_OPEN_R,                            None,              "404 404 405 405 405 405 405 405 404"),
    ("OPTIONS", PTY_OPEN_R,                            None,              "404 404 200 200 200 200 200 200 404"),
    ("GET",     PTY_SIDE_R,                            None,              "404 404 200 200 404 404 404 200 200"),
    ("POST",    PTY_SIDE_R,                            UP,                "404 404 403 201 404 404 404 201 201"),
    ("GET",     P_OPEN + "parties/{no_id}/resources/", None,              ALL_404),
    ("POST",    P_OPEN + "parties/{no_id}/resources/", UP,                ALL_404),
    ("GET",     SIDE_P_OPEN_R,                         None,              ALL_404),
    ("POST",    SIDE_P_OPEN_R,                         ID("r_open"),      ALL_404),
    # live
    ("GET",     PTY_OPEN_R + "{r_party}/",             None,              "404 404 200 200 200 200 200 200 404"),
    ("HEAD",    PTY_OPEN_R + "{r_party}/",             None,              "404 404 200 200 200 200 200 200 404"),
    ("PATCH",   PTY_OPEN_R + "{r_party}/",             RENAME,            "404 404 403 200 403 200 200 200 404"),
    ("PUT",     PTY_OPEN_R + "{r_party}/",             PUT_BODY,          "404 404 403 200 403 200 200 200 404"),
    ("DELETE",  PTY_OPEN_R + "{r_party}/",             None,              "404 404 403 204 403 403 204 204 404"),
    ("POST",    PTY_OPEN_R + "{r_party}/",             RENAME,            "404 404 405 405 405 405 405 405 404"),
    ("GET",     PTY_OPEN_R + "{r_party}/content",      None,              "404 404 200 200 200 200 200 200 404"),
    # archived
    ("GET",     PTY_OPEN_R + "{r_party_arch}/",        None,              "404 404 404 200 404 200 200 200 404"),
    ("PATCH",   PTY_OPEN_R + "{r_party_arch}/",        RENAME,            "404 404 404 403a 404 403a 403a 403a 404"),
    ("PATCH",   PTY_OPEN_R + "{r_party_arch}/",        UNARCHIVE,         "404 404 404 200 404 200 200 200 404"),
    ("DELETE",  PTY_OPEN_R + "{r_party_arch}/",        None,              "404 404 404 204 404 403 204 204 404"),
    ("GET",     PTY_OPEN_R + "{r_party_arch}/content", None,              "404 404 404 200 404 200 200 200 404"),
    # not attached here, or missing
    ("GET",     PTY_OPEN_R + "{r_open}/",              None,              ALL_404),
    ("DELETE",  PTY_OPEN_R + "{r_open}/",              None,              ALL_404),
    ("GET",     PTY_OPEN_R + "{no_id}/",               None,              ALL_404),
    ("PATCH",   PTY_OPEN_R + "{no_id}/",               RENAME,            ALL_404),
    ("GET",     PTY_OPEN_R + "{no_id}/content",        None,              ALL_404),
    ("GET",     SIDE_P_OPEN_R + "{r_party}/",          None,              ALL_404),

    # -- one resource on a party and on a public project: seen by the union of both audiences ----------------
    ("GET",     OPEN_R + "{r_union}/",                 None,              ALL_200),
    ("PATCH",   OPEN_R + "{r_union}/",                 RENAME,            "401 403 403 200 403 200 200 200 403"),
    ("DELETE",  OPEN_R + "{r_union}/",                 None,              "401 403 403 204 403 403 204 204 403"),
    ("GET",     OPEN_R + "{r_union}/content",          None,              ALL_200),
    ("GET",     PTY_SIDE_R + "{r_union}/",             None,              "404 404 200 200 404 404 404 200 200"),
    ("PATCH",   PTY_SIDE_R + "{r_union}/",             RENAME,            "404 404 403 200 404 404 404 200 200"),
    ("DELETE",  PTY_SIDE_R + "{r_union}/",             None,              "404 404 403 204 404 404 404 204 403"),
    ("GET",     PTY_SIDE_R + "{r_union}/content",      None,              "404 404 200 200 404 404 404 200 200"),
    ("GET",     OPEN_R + "{r_union_arch}/",            None,              "404 404 404 200 404 200 200 200 404"),
    ("DELETE",  OPEN_R + "{r_union_arch}/",            None,              "404 404 404 204 404 403 204 204 404"),
    ("GET",     PTY_SIDE_R + "{r_union_arch}/",        None,              "404 404 404 200 404 404 404 200 200"),
    ("PATCH",   PTY_SIDE_R + "{r_union_arch}/",        UNARCHIVE,         "404 404 404 200 404 404 404 200 200"),
    ("DELETE",  PTY_SIDE_R + "{r_union_arch}/",        None,              "404 404 404 204 404 404 404 204 403"),

    # -- every resource the caller may see, flat -------------------------------------------------------------
    ("GET",     FLAT,                                  None,              ALL_200),
    ("OPTIONS", FLAT,                                  None,              ALL_200),
    ("POST",    FLAT,                                  UP,                ALL_405),
    ("POST",    FLAT,                                  ID("r_open"),      ALL_405),
    ("DELETE",  FLAT,                                  None,              ALL_405),
    ("GET",     FLAT + "{r_acme}/",                    None,              ALL_200),
    ("HEAD",    FLAT + "{r_acme}/",                    None,              ALL_200),
    ("PATCH",   FLAT + "{r_acme}/",                    RENAME,            "401 403 403 200 403 403 403 200 403"),
    ("DELETE",  FLAT + "{r_acme}/",                    None,              "401 403 403 204 403 403 403 204 403"),
    ("PUT",     FLAT + "{r_acme}/",                    PUT_BODY,          ALL_405),
    ("POST",    FLAT + "{r_acme}/",                    RENAME,            ALL_405),
    ("GET",     FLAT + "{r_acme}/content",             None,              ALL_200),
    ("GET",     FLAT + "{r_acme_arch}/",               None,              "404 404 404 200 404 404 404 200 404"),
    ("PATCH",   FLAT + "{r_acme_arch}/",               RENAME,            "404 404 404 403a 404 404 404 403a 404"),
    ("PATCH",   FLAT + "{r_acme_arch}/",               UNARCHIVE,         "404 404 404 200 404 404 404 200 404"),
    ("DELETE",  FLAT + "{r_acme_arch}/",               None,              "404 404 404 204 404 404 404 204 404"),
    ("PUT",     FLAT + "{r_acme_arch}/",               PUT_BODY,          "404 404 404 405 404 404 404 405 404"),
    ("GET",     FLAT + "{r_acme_arch}/content",        None,              "404 404 404 200 404 404 404 200 404"),
    ("GET",     FLAT + "{r_hush}/",                    None,              "404 404 200 200 404 404 404 200 404"),
    ("PATCH",   FLAT + "{r_hush}/",                    RENAME,            "404 404 403 200 404 404 404 200 404"),
    ("DELETE",  FLAT + "{r_hush}/",                    None,              "404 404 403 204 404 404 404 204 404"),
    ("GET",     FLAT + "{r_hush}/content",             None,              "404 404 200 200 404 404 404 200 404"),
    ("GET",     FLAT + "{r_dusty}/",                   None,              "404 404 200 200 404 404 404 200 404"),
    ("PATCH",   FLAT + "{r_dusty}/",                   RENAME,            "404 404 403 403 404 404 404 403 404"),
    ("DELETE",  FLAT + "{r_dusty}/",                   None,              "404 404 403 403 404 404 404 403 404"),
    ("GET",     FLAT + "{r_open}/",                    None,              ALL_200),
    ("HEAD",    FLAT + "{r_open}/",                    None,              ALL_200),
    ("PATCH",   FLAT + "{r_open}/",                    RENAME,            "401 403 403 200 403 200 200 200 403"),
    ("DELETE",  FLAT + "{r_open}/",                    None,              "401 403 403 204 403 403 204 204 403"),
    ("PUT",     FLAT + "{r_open}/",                    PUT_BODY,          ALL_405),
    ("GET",     FLAT + "{r_open}/content",             None,              ALL_200),
    ("GET",     FLAT + "{r_open_arch}/",               None,              "404 404 404 200 404 200 200 200 404"),
    ("PATCH",   FLAT + "{r_open_arch}/",               RENAME,            "404 404 404 403a 404 403a 403a 403a 404"),
    ("PATCH",   FLAT + "{r_open_arch}/",               UNARCHIVE,         "404 404 404 200 404 200 200 200 404"),
    ("DELETE",  FLAT + "{r_open_arch}/",               None,              "404 404 404 204 404 403 204 204 404"),
    ("GET",     FLAT + "{r_open_arch}/content",        None,              "404 404 404 200 404 200 200 200 404"),
    ("GET",     FLAT + "{r_team}/",                    None,              "404 404 200 200 200 200 200 200 404"),
    ("PATCH",   FLAT + "{r_team}/",                    RENAME,            "404 404 403 200 403 200 200 200 404"),
    ("DELETE",  FLAT + "{r_team}/",                    None,              "404 404 403 204 403 403 204 204 404"),
    ("GET",     FLAT + "{r_team}/content",             None,              "404 404 200 200 200 200 200 200 404"),
    ("GET",     FLAT + "{r_old}/",                     None,              "404 404 404 200 404 404 200 200 404"),
    ("PATCH",   FLAT + "{r_old}/",                     RENAME,            "404 404 404 403 404 404 403 403 404"),
    ("DELETE",  FLAT + "{r_old}/",                     None,              "404 404 404 403 404 404 403 403 404"),
    ("GET",     FLAT + "{r_old}/content",              None,              "404 404 404 200 404 404 200 200 404"),
    ("PATCH",   FLAT + "{r_side}/",                    RENAME,            "401 403 403 200 403 403 403 200 200"),
    ("DELETE",  FLAT + "{r_side}/",                    None,              "401 403 403 204 403 403 403 204 403"),
    ("GET",     FLAT + "{r_party}/",                   None,              "404 404 200 200 200 200 200 200 404"),
    ("PATCH",   FLAT + "{r_party}/",                   RENAME,            "404 404 403 200 403 200 200 200 404"),
    ("DELETE",  FLAT + "{r_party}/",                   None,              "404 404 403 204 403 403 204 204 404"),
    ("GET",     FLAT + "{r_party}/content",            None,              "404 404 200 200 200 200 200 200 404"),
    ("GET",     FLAT + "{r_party_arch}/",              None,              "404 404 404 200 404 200 200 200 404"),
    ("GET",     FLAT + "{r_party_arch}/content",       None,              "404 404 404 200 404 200 200 200 404"),
    # on a party of side and on open: changed by whoever may change it at either; a DELETE detaches it from
    # whatever the caller may delete it from (the manager of open: open only; it stays on the party)
    ("GET",     FLAT + "{r_union}/",                   None,              ALL_200),
    ("PATCH",   FLAT + "{r_union}/",                   RENAME,            "401 403 403 200 403 200 200 200 200"),
    ("DELETE",  FLAT + "{r_union}/",                   None,              "401 403 403 204 403 403 204 204 403"),
    ("GET",     FLAT + "{r_union}/content",            None,              ALL_200),
    ("GET",     FLAT + "{r_union_arch}/",              None,              "404 404 404 200 404 200 200 200 200"),
    ("OPTIONS", FLAT + "{r_union_arch}/",              None,              "404 404 404 200 404 200 200 200 200"),
    ("PATCH",   FLAT + "{r_union_arch}/",              RENAME,            "404 404 404 403a 404 403a 403a 403a 403a"),
    ("PATCH",   FLAT + "{r_union_arch}/",              UNARCHIVE,         "404 404 404 200 404 200 200 200 200"),
    ("DELETE",  FLAT + "{r_union_arch}/",              None,              "404 404 404 204 404 403 204 204 403"),
    ("GET",     FLAT + "{r_union_arch}/content",       None,              "404 404 404 200 404 200 200 200 200"),
    ("GET",     FLAT + "{r_far}/",                     None,              ALL_200),
    ("PATCH",   FLAT + "{r_far}/",                     RENAME,            "401 403 403 403 403 403 403 200 403"),
    ("DELETE",  FLAT + "{r_far}/",                     None,              "401 403 403 403 403 403 403 204 403"),
    ("GET",     FLAT + "{no_id}/",                     None,              ALL_404),
    ("HEAD",    FLAT + "{no_id}/",                     None,              ALL_404),
    ("OPTIONS", FLAT + "{no_id}/",                     None,              ALL_404),
    ("PATCH",   FLAT + "{no_id}/",                     RENAME,            ALL_404),
    ("DELETE",  FLAT + "{no_id}/",                     None,              ALL_404),
    ("PUT",     FLAT + "{no_id}/",                     PUT_BODY,          ALL_404),
    ("GET",     FLAT + "{no_id}/content",              None,              ALL_404),
]

# What each caller finds in a collection: the names of the resources listed (each is named after its key
# in the world), or None when the collection's parent is hidden from the caller (404). A resource is
# listed exactly when its URL there answers 200 to the same caller (SPEC §5).
LISTS = [
    (O + "resources/", dict(
        anon="r_acme", stranger="r_acme", member="r_acme", admin="r_acme r_acme_arch", viewer="r_acme",
        collector="r_acme", manager="r_acme", su="r_acme r_acme_arch", other="r_acme")),
    ("organizations/hush/resources/", dict(
        anon=None, stranger=None, member="r_hush", admin="r_hush", viewer=None, collector=None, manager=None,
        su="r_hush", other=None)),
    ("organizations/dusty/resources/", dict(
        anon=None, stranger=None, member="r_dusty", admin="r_dusty", viewer=None, collector=None, manager=None,
        su="r_dusty", other=None)),
    ("organizations/globex/resources/", dict(
        anon="", stranger="", member="", admin="", viewer="", collector="", manager="", su="", other="")),
    (P_OPEN + "resources/", dict(
        anon="r_open r_union", stranger="r_open r_union", member="r_open r_union",
        admin="r_open r_open_arch r_union r_union_arch", viewer="r_open r_union",
        collector="r_open r_open_arch r_union r_union_arch", manager="r_open r_open_arch r_union r_union_arch",
        su="r_open r_open_arch r_union r_union_arch", other="r_open r_union")),
    (P_TEAM + "resources/", dict(
        anon=None, stranger=None, member="r_team", admin="r_team", viewer="r_team", collector="r_team",
        manager="r_team", su="r_team", other=None)),
    (P_OLD + "resources/", dict(
        anon=None, stranger=None, member=None, admin="r_old", viewer=None, collector=None, manager="r_old",
        su="r_old", other=None)),
    (P_SIDE + "resources/", dict(
        anon="r_side", stranger="r_side", member="r_side", admin="r_side", viewer="r_side", collector="r_side",
        manager="r_side", su="r_side", other="r_side")),
    ("organizations/globex/projects/far/resources/", dict(
        anon="r_far", stranger="r_far", member="r_far", admin="r_far", viewer="r_far", collector="r_far",
        manager="r_far", su="r_far", other="r_far")),
    (PTY_OPEN + "resources/", dict(
        anon=None, stranger=None, member="r_party", admin="r_party r_party_arch", viewer="r_party",
        collector="r_party r_party_arch", manager="r_party r_party_arch", su="r_party r_party_arch", other=None)),
    (PTY_SIDE + "resources/", dict(
        anon=None, stranger=None, member="r_union", admin="r_union r_union_arch", viewer=None, collector=None,
        manager=None, su="r_union r_union_arch", other="r_union r_union_arch")),
    ("resources/", dict(
        anon="r_acme r_far r_open r_side r_union",
        stranger="r_acme r_far r_open r_side r_union",
        member="r_acme r_dusty r_far r_hush r_open r_party r_side r_team r_union",
        admin="r_acme r_acme_arch r_dusty r_far r_hush r_old r_open r_open_arch r_party r_party_arch r_side "
              "r_team r_union r_union_arch",
        viewer="r_acme r_far r_open r_party r_side r_team r_union",
        collector="r_acme r_far r_open r_open_arch r_party r_party_arch r_side r_team r_union r_union_arch",
        manager="r_acme r_far r_old r_open r_open_arch r_party r_party_arch r_side r_team r_union r_union_arch",
        su="r_acme r_acme_arch r_dusty r_far r_hush r_old r_open r_open_arch r_party r_party_arch r_side "
           "r_team r_union r_union_arch",
        other="r_acme r_far r_open r_side r_union r_union_arch")),
    # `read_write=w`: only what the caller may change (nothing in an archived organization or project)
    ("resources/?read_write=w", dict(
        anon="", stranger="", member="", viewer="",
        admin="r_acme r_acme_arch r_hush r_open r_open_arch r_party r_party_arch r_side r_team r_union "
              "r_union_arch",
        collector="r_open r_open_arch r_party r_party_arch r_team r_union r_union_arch",
        manager="r_open r_open_arch r_party r_party_arch r_team r_union r_union_arch",
        su="r_acme r_acme_arch r_far r_hush r_open r_open_arch r_party r_party_arch r_side r_team r_union "
           "r_union_arch",
        other="r_side r_union r_union_arch")),
    (P_OPEN + "resources/?read_write=w", dict(
        anon="", stranger="", member="", viewer="", other="",
        admin="r_open r_open_arch r_union r_union_arch", collector="r_open r_open_arch r_union r_union_arch",
        manager="r_open r_open_arch r_union r_union_arch", su="r_open r_open_arch r_union r_union_arch")),
]
# fmt: on

# The world's resources: name -> (the collection it is uploaded to, archived), in upload order.
RESOURCES = {
    "r_acme": (O + "resources/", False),
    "r_acme_arch": (O + "resources/", True),
    "r_hush": ("organizations/hush/resources/", False),
    "r_dusty": ("organizations/dusty/resources/", False),
    "r_open": (P_OPEN + "resources/", False),
    "r_open_arch": (P_OPEN + "resources/", True),
    "r_team": (P_TEAM + "resources/", False),
    "r_old": (P_OLD + "resources/", False),
    "r_side": (P_SIDE + "resources/", False),
    "r_party": (PTY_OPEN + "resources/", False),
    "r_party_arch": (PTY_OPEN + "resources/", True),
    "r_union": (P_OPEN + "resources/", False),
    "r_union_arch": (P_OPEN + "resources/", True),
    "r_far": ("organizations/globex/projects/far/resources/", False),
}
# ...and attached a second time (after the upload, so the first place stays the canonical one).
ALSO_ATTACHED = {"r_union": PTY_SIDE + "resources/", "r_union_arch": PTY_SIDE + "resources/"}

THING = {"organizations": "Organization", "projects": "Project", "parties": "Party", "resources": "Resource"}
NEVER = "never-existed"

SIGN_IN = {"error": "Please sign in."}
NOT_ALLOWED = {
    "POST": "You are not allowed to create new resources.",
    "PUT": "You are not allowed to change this resource.",
    "PATCH": "You are not allowed to change this resource.",
    "DELETE": "You are not allowed to delete this resource.",
}
ARCHIVED = {"error": "This resource is archived; un-archive it first (send only archived=false)."}
# Attaching gives a resource the rules of its new place: only its editors may.
NOT_EDITOR = {"error": "You may only attach a resource you may edit."}
HIDDEN_OR_MISSING = {"error": "Invalid data.", "errors": {"id": "Resource does not exist"}}
OTHER_ORG = {"error": "Invalid data.", "errors": {"id": "A resource can only be attached within its own organization."}}
ALREADY = {"error": "This resource is already attached here.", "errors": {"id": "Already attached."}}

# What each kind of node answers (its `Allow`).
ALLOW = {
    "content": {"GET", "HEAD", "OPTIONS"},
    "flat collection": {"GET", "HEAD", "OPTIONS"},
    "flat item": {"GET", "HEAD", "PATCH", "DELETE", "OPTIONS"},
    "collection": {"GET", "HEAD", "POST", "OPTIONS"},
    "item": {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"},
}


# --- the world ---------------------------------------------------------------------------------------------


@dataclass
class World:
    client: Client
    keys: dict[str, str | None]
    placeholders: dict[str, str]
    targets: dict[str, str]  # entity URL -> the `target` of attachments to it
    files: dict[str, bytes]  # storage key -> bytes, of every world resource
    data: dict[str, bytes]  # resource id -> its file's bytes
    baseline: set[str]  # storage keys that were there before the world
    memo: dict = field(default_factory=dict)
    dirty: bool = False  # whether the test sent a write (which may have changed the stored files)

    def caller(self, role: str) -> Client:
        return self.client.as_(self.keys[role])

    def url(self, path: str) -> str:
        return API + "/" + path.format(**self.placeholders)

    def body(self, body):
        if isinstance(body, dict):
            return {k: v.format(**self.placeholders) if isinstance(v, str) else v for k, v in body.items()}
        return body

    def send(self, role: str, method: str, url: str, body=None):
        self.dirty = self.dirty or method not in ("GET", "HEAD", "OPTIONS")
        if isinstance(body, Upload):
            return upload(self.client.app, self.keys[role], url, Upload.DATA, filename="uploaded.pdf",
                          name=Upload.NAME)
        return self.caller(role).request(method, url, json=self.body(body))

    def remembered(self, role: str, method: str, url: str, body=None):
        key = (role, method, url, json.dumps(self.body(body), sort_keys=True, default=repr))
        if key not in self.memo:
            self.memo[key] = self.send(role, method, url, body)
        return self.memo[key]


def build_world(factory: Factory, client: Client, storage) -> World:
    session = factory.db
    users = {name: factory.user(name, superuser=name == "su") for name in (*ROLES[1:], "extra")}
    keys: dict[str, str | None] = {"anon": None}
    keys.update({role: factory.key(users[role]) for role in ROLES[1:]})

    acme = factory.org("acme")
    hush = factory.org("hush", access="private")
    dusty = factory.org("dusty")  # archived once its resource is uploaded
    globex = factory.org("globex")
    for org in (acme, hush, dusty):
        factory.org_member(org, users["admin"], "admin")
        factory.org_member(org, users["member"], "member")
    projects = {
        "open": factory.project(acme, "open"),
        "team": factory.project(acme, "team", access="private"),
        "old": factory.project(acme, "old"),  # archived once its resource is uploaded
        "side": factory.project(acme, "side"),
        "far": factory.project(globex, "far"),
    }
    for slug in ("open", "team", "old"):
        for role in PROJECT_ROLES_OF_CALLERS:
            factory.project_member(projects[slug], users[role], role)
    factory.project_member(projects["side"], users["other"], "collector")
    factory.project_member(projects["far"], users["extra"], "manager")
    p_open = factory.party(projects["open"], name="Party-open")
    p_side = factory.party(projects["side"], name="Party-side")
    placeholders = {"no_id": "z" * 24, "p_open": p_open.id, "p_side": p_side.id}

    targets = {}
    for org in (acme, hush, dusty, globex):
        targets[f"{API}/organizations/{org.slug}/"] = target_of("organization", org.id)
    for project in projects.values():
        org = acme if project.organization_id == acme.id else globex
        targets[f"{API}/organizations/{org.slug}/projects/{project.slug}/"] = target_of("project", project.id)
    targets[API + "/" + PTY_OPEN.format(**placeholders)] = target_of("party", p_open.id)
    targets[API + "/" + PTY_SIDE.format(**placeholders)] = target_of("party", p_side.id)

    baseline = set(storage.keys())
    su = keys["su"]
    data = {}
    for name, (collection, archived) in RESOURCES.items():
        url = API + "/" + collection.format(**placeholders)
        response = upload(client.app, su, url, pdf(name), filename=f"{name}.pdf", name=name, archived=archived)
        assert response.status_int == 201, f"could not build the world: {url} {response.status} {response.body!r}"
        placeholders[name] = response.json["id"]
        data[response.json["id"]] = pdf(name)
    for name, collection in ALSO_ATTACHED.items():
        url = API + "/" + collection.format(**placeholders)
        response = client.as_(su).post(url, json={"id": placeholders[name]})
        assert response.status_int == 201, f"could not build the world: {url} {response.status} {response.body!r}"

    session.execute(update(Organization).where(Organization.id == dusty.id).values(archived=True))
    session.execute(update(Project).where(Project.id == projects["old"].id).values(archived=True))
    session.commit()
    files = {key: b"".join(storage.read(key)) for key in session.scalars(select(ResourceFile.file))}
    return World(client, keys, placeholders, targets, files, data, baseline)


@pytest.fixture(scope="module")
def pristine_world(engine, wsgi_app):
    """One world for the whole module, in an outer transaction rolled back at its end (see the model,
    tests/functional/test_role_matrix.py)."""
    connection = engine.connect()
    outer = connection.begin()
    wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    world = build_world(Factory(session), Client(TestApp(wsgi_app)), wsgi_app.registry["hyperapi.storage"])
    session.close()
    yield connection, world
    outer.rollback()
    connection.close()
    restore_files(wsgi_app.registry["hyperapi.storage"], {}, world.baseline)


def restore_files(storage, files: dict[str, bytes], keep: set[str]) -> None:
    """Put back the stored files a test deleted (its rows come back with the rollback, the bytes would
    not) and remove those it wrote (their rows go with the rollback)."""
    present = set(storage.keys())
    for key, data in files.items():
        if key not in present:
            storage.write(key, io.BytesIO(data))
    for key in present - set(files) - keep:
        storage.delete(key)


@pytest.fixture
def world(pristine_world, wsgi_app) -> World:
    connection, world = pristine_world
    # The `db` fixture of other modules binds the app to its own connection; bind it back to ours.
    wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    savepoint = connection.begin_nested()
    world.dirty = True  # a test may write through other clients too; it says so by leaving this True
    yield world
    if savepoint.is_active:
        savepoint.rollback()
    if world.dirty:
        restore_files(wsgi_app.registry["hyperapi.storage"], world.files, world.baseline)


@pytest.fixture
def db(pristine_world, world) -> Session:
    """A session on the world's connection, inside the test's savepoint (shadows conftest's `db`)."""
    connection, _ = pristine_world
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def storage(wsgi_app):
    return wsgi_app.registry["hyperapi.storage"]


# --- what each answer must look like -------------------------------------------------------------------------


def segments_of(url: str) -> list[str]:
    return urlsplit(url).path.removeprefix(API + "/").strip("/").split("/")


def shape_of(url: str) -> str:
    segments = segments_of(url)
    if segments[-1] == "content":
        return "content"
    if segments[0] == "resources":
        return "flat collection" if len(segments) == 1 else "flat item"
    return "collection" if segments[-1] == "resources" else "item"


def thing_of(url: str) -> str:
    """What a URL addresses, named in its 404: an item or its content by its own kind, a collection by its
    parent (`…/projects/open/resources/` is about Project open)."""
    segments = segments_of(url)
    if segments[-1] == "content":
        return "Resource"
    if segments[-1] in THING:
        return THING[segments[-3]]
    return THING[segments[-2]]


def never_existed_twins(url: str) -> list[str]:
    """The same URL with one of its keys replaced by one that never existed, for each key."""
    path = urlsplit(url).path
    segments = segments_of(url)
    tail = "/" if path.endswith("/") else ""
    twins = []
    for i in range(1, len(segments)):
        if segments[i - 1] in THING and segments[i] not in THING:
            twin = list(segments)
            twin[i] = NEVER
            twins.append(API + "/" + "/".join(twin) + tail)
    return twins


def resource_id_of(url: str) -> str | None:
    segments = segments_of(url)
    for i in range(1, len(segments)):
        if segments[i - 1] == "resources":
            return segments[i]
    return None


def allowed(response) -> set[str]:
    return {method.strip() for method in response.headers["Allow"].split(",")}


def describe(method, url, role, response) -> str:
    return f"{method} {url} as {role}: got {response.status} {response.body[:300]!r}"


def check_links(world: World, role: str, obj: dict, fresh: bool = False) -> None:
    """Every link in a representation answers 200 to the caller who was given it. In an untouched world
    (`fresh` False) the answers are remembered across tests."""
    links = [obj["resource_uri"], obj["file"], *(a["href"] for a in obj["attachments"])]
    links += [obj["_links"]["self"]["href"], obj["_links"]["up"]["href"], obj["_links"]["content"]["href"]]
    links += [link["href"] for link in obj["_links"]["attachments"]]
    links += [previous["file"] for previous in obj["previous_files"]]
    if obj["contributor"] is not None:
        links.append(obj["contributor"])
    for link in dict.fromkeys(links):
        response = world.caller(role).get(link) if fresh else world.remembered(role, "GET", link)
        what = describe("GET", link, role, response)
        assert response.status_int == 200, f"a link in {obj['resource_uri']}: {what}"


def check_answer(world: World, method: str, url: str, body, role: str, token: str, response) -> None:
    what = describe(method, url, role, response)
    expected = int(token[:3])
    assert response.status_int == expected, f"expected {token}; {what}"
    if method == "HEAD":
        assert response.body == b"", what
        got = world.remembered(role, "GET", url)
        assert got.status_int == expected, f"GET answers {got.status_int}: {what}"
    if expected == 404:
        if method != "HEAD":
            assert response.json == {"error": f"{thing_of(url)} does not exist"}, what
        assert "Allow" not in response.headers, what
        for twin in never_existed_twins(url):
            other = world.remembered(role, method, twin, body)
            assert other.status_int == 404, describe(method, twin, role, other)
            assert other.body == response.body, f"404 bodies differ: {what} vs {describe(method, twin, role, other)}"
            assert sorted(other.headerlist) == sorted(response.headerlist), f"404 headers differ: {what}"
    elif token == "401":
        assert response.json == SIGN_IN, what
        assert response.headers.get("WWW-Authenticate") == "Token", what
    elif token == "403":
        assert response.json == {"error": NOT_ALLOWED[method]}, what
    elif token == "403a":
        assert response.json == ARCHIVED, what
    elif token == "403e":
        assert response.json == NOT_EDITOR, what
    elif token == "400h":
        assert response.json == HIDDEN_OR_MISSING, what
        # Hidden or missing, one answer: the same bytes as attaching an id nothing has.
        missing = world.remembered(role, method, url, {"id": "{no_id}"})
        assert (missing.status_int, missing.body) == (response.status_int, response.body), what
    elif token == "400x":
        assert response.json == OTHER_ORG, what
    elif token == "409":
        assert response.json == ALREADY, what
    elif token == "405":
        assert response.json == {"error": f"Method {method} is not allowed here."}, what
        assert allowed(response) == ALLOW[shape_of(url)], what
    elif token == "204":
        assert response.body == b"", what
    elif method == "OPTIONS":
        # What the node answers (SPEC §6 says: for that caller — so never more than the node has).
        assert {"GET", "OPTIONS"} <= allowed(response) <= ALLOW[shape_of(url)], what


MATRIX_PARAMS = [
    pytest.param(method, path, body, role, token, id=f"{method} {path} {body!r} [{role}]")
    for method, path, body, statuses in MATRIX
    for role, token in zip(ROLES, statuses.split(), strict=True)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "token"), MATRIX_PARAMS)
def test_role_matrix(world, db, storage, method, path, body, role, token):
    url = world.url(path)
    reading = method in ("GET", "HEAD", "OPTIONS")
    world.dirty = False
    if not reading:
        before = resource_tables(db)
        keys_before = set(storage.keys())

    response = world.send(role, method, url, body)

    check_answer(world, method, url, body, role, token, response)
    status = response.status_int
    if status >= 400 and not reading:
        # A refused write changes no row and no stored file.
        assert resource_tables(db) == before, f"{describe(method, url, role, response)} changed the database"
        assert set(storage.keys()) == keys_before, f"{describe(method, url, role, response)} changed the files"
    if status >= 400 or method in ("HEAD", "OPTIONS"):
        return
    rid = resource_id_of(url)
    if method == "GET" and shape_of(url) == "content":
        check_content(world, rid, response)
    elif method == "GET" and rid is not None:
        check_representation(world, role, url, rid, response.json)
    elif method == "GET":
        assert response.json["meta"]["total_count"] == len(response.json["objects"])  # LISTS says which
    elif method == "POST" and isinstance(body, Upload):
        check_uploaded(world, db, storage, role, url, response, before, keys_before)
    elif method == "POST":
        check_attached(world, db, role, url, world.body(body)["id"], response, before)
    elif method in ("PUT", "PATCH"):
        check_changed(world, db, role, url, rid, body, response, before)
    elif method == "DELETE":
        check_deleted(world, db, storage, role, url, rid, before, keys_before)


def check_content(world: World, rid: str, response) -> None:
    assert response.body == world.data[rid]
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def check_representation(world: World, role: str, url: str, rid: str, obj: dict) -> None:
    names = {value: key for key, value in world.placeholders.items()}
    assert obj["id"] == rid and obj["name"] == names[rid], obj
    if shape_of(url) == "item":
        # A nested URL: the entity it is under is among the attachments the caller is shown.
        assert nested_under(url) in [a["href"] for a in obj["attachments"]], obj
    # The flat URL and the canonical one give the same object.
    canonical = world.remembered(role, "GET", obj["resource_uri"])
    assert canonical.status_int == 200 and canonical.json == obj, describe("GET", obj["resource_uri"], role, canonical)
    check_links(world, role, obj)


def entity_of(collection_url: str) -> str:
    """`…/projects/open/resources/` → `…/projects/open/`."""
    return urlsplit(collection_url).path.removesuffix("resources/")


def check_uploaded(world, db, storage, role, url, response, before, keys_before) -> None:
    obj = response.json
    new = [r for r in resource_tables(db)["resources"] if r not in before["resources"]]
    assert [r[0] for r in new] == [obj["id"]], new
    assert targets_of(db, obj["id"]) == [world.targets[entity_of(url)]]
    assert obj["name"] == Upload.NAME and obj["mime_type"] == "application/pdf" and obj["archived"] is False
    assert obj["size"] == len(Upload.DATA)
    assert obj["resource_uri"].startswith(urlsplit(url).path), obj
    assert urlsplit(response.headers["Location"]).path == obj["resource_uri"]
    assert obj["contributor"] == f"{API}/users/{role}/"
    assert [a["href"] for a in obj["attachments"]] == [entity_of(url)]
    written = set(storage.keys()) - keys_before
    assert len(written) == 1 and b"".join(storage.read(written.pop())) == Upload.DATA
    caller = world.caller(role)
    again = caller.get(obj["resource_uri"])
    assert again.status_int == 200 and again.json == obj, describe("GET", obj["resource_uri"], role, again)
    content = caller.get(obj["file"])
    assert content.status_int == 200 and content.body == Upload.DATA
    check_links(world, role, obj, fresh=True)
    # Everything else is as it was.
    after = resource_tables(db)
    assert [r for r in after["resources"] if r[0] != obj["id"]] == before["resources"]
    assert [a for a in after["attachments"] if a[0] != obj["id"]] == before["attachments"]


def check_attached(world, db, role, url, rid, response, before) -> None:
    entity = entity_of(url)
    target = world.targets[entity]
    previous = sorted(a[1] for a in before["attachments"] if a[0] == rid)
    assert targets_of(db, rid) == sorted([*previous, target])
    after = resource_tables(db)
    assert [a for a in after["attachments"] if a[1] != target or a[0] != rid] == before["attachments"]
    assert after["resources"] == before["resources"] and after["files"] == before["files"]
    obj = response.json
    assert obj["id"] == rid and entity in [a["href"] for a in obj["attachments"]], obj
    location = urlsplit(response.headers["Location"]).path
    assert location == f"{urlsplit(url).path}{rid}/", location
    again = world.caller(role).get(location)
    assert again.status_int == 200 and again.json["id"] == rid, describe("GET", location, role, again)


def check_changed(world, db, role, url, rid, body, response, before) -> None:
    after = resource_tables(db)
    old = next(r for r in before["resources"] if r[0] == rid)
    new = next(r for r in after["resources"] if r[0] == rid)
    expected = {**dict(zip(("name", "description", "archived"), old[1:4], strict=True)), **body}
    assert dict(zip(("name", "description", "archived"), new[1:4], strict=True)) == expected
    assert new[4] == old[4] + 1, "the version goes up"
    assert [r for r in after["resources"] if r[0] != rid] == [r for r in before["resources"] if r[0] != rid]
    assert after["attachments"] == before["attachments"] and after["files"] == before["files"]
    obj = response.json
    assert {k: obj[k] for k in body} == body, obj
    again = world.caller(role).get(url)
    assert again.status_int == 200 and again.json == obj, describe("GET", url, role, again)


# A flat DELETE that leaves the resource attached: (caller, resource) -> where it stays.
KEPT_BY_A_FLAT_DELETE = {("manager", "r_union"): PTY_SIDE, ("manager", "r_union_arch"): PTY_SIDE}


def check_deleted(world, db, storage, role, url, rid, before, keys_before) -> None:
    after = resource_tables(db)
    previous = sorted(a[1] for a in before["attachments"] if a[0] == rid)
    files = [f[2] for f in before["files"] if f[0] == rid]
    if shape_of(url) == "item":
        # Detached from this entity only; the last detachment deletes the resource.
        target = world.targets[nested_under(url)]
        left = [t for t in previous if t != target]
    else:
        # Flat: detached from every entity the caller may delete it from. Only the manager of `open`
        # may delete a resource at one of its attachments and not at another (the party of `side`).
        name = next(name for name, value in world.placeholders.items() if value == rid)
        kept = KEPT_BY_A_FLAT_DELETE.get((role, name))
        left = [world.targets[world.url(kept)]] if kept else []
    assert targets_of(db, rid) == left
    gone = not left
    assert resource_exists(db, rid) == (not gone)
    assert [a for a in after["attachments"] if a[0] != rid] == [a for a in before["attachments"] if a[0] != rid]
    assert [r for r in after["resources"] if r[0] != rid] == [r for r in before["resources"] if r[0] != rid]
    if gone:
        assert not [f for f in after["files"] if f[0] == rid]
        assert not set(files) & set(storage.keys()), "the bytes go once the deletion has committed"
        assert world.caller("su").get(flat_url(rid)).status_int == 404
    else:
        assert set(storage.keys()) == keys_before
        assert world.caller("su").get(flat_url(rid)).status_int == 200


LIST_PARAMS = [
    pytest.param(path, role, expected[role], id=f"{path} [{role}]") for path, expected in LISTS for role in ROLES
]


@pytest.mark.parametrize(("path", "role", "expected"), LIST_PARAMS)
def test_collection_lists_what_the_caller_may_see(world, path, role, expected):
    world.dirty = False
    url = world.url(path)
    caller = world.caller(role)
    response = caller.get(url)
    if expected is None:
        check_answer(world, "GET", url, None, role, "404", response)
        return
    assert response.status_int == 200, describe("GET", url, role, response)
    listed = sorted(obj["name"] for obj in response.json["objects"])
    assert listed == sorted(expected.split()), describe("GET", url, role, response)
    assert response.json["meta"]["total_count"] == len(listed)
    # Each listed object's own URL (and the URL under this collection) answers 200 to the same caller.
    for obj in response.json["objects"]:
        assert caller.get(obj["resource_uri"]).status_int == 200, obj["resource_uri"]
        if not path.startswith("resources/"):
            here = f"{urlsplit(url).path}{obj['id']}/"
            assert caller.get(here).status_int == 200, here


# --- the union: one resource on a party (never public) and on a public project ------------------------------

# What each caller is shown of r_union's attachments: the entities the caller can see it under.
UNION_ATTACHMENTS = {
    "anon": ["open"], "stranger": ["open"], "viewer": ["open"], "collector": ["open"], "manager": ["open"],
    "member": ["open", "p_side"], "admin": ["open", "p_side"], "su": ["open", "p_side"], "other": ["open", "p_side"],
}


@pytest.mark.parametrize("role", ROLES)
def test_a_resource_on_a_party_and_a_public_project_is_seen_by_both_audiences(world, role):
    world.dirty = False
    caller = world.caller(role)
    rid = world.placeholders["r_union"]
    entity = {"open": world.url(P_OPEN), "p_side": world.url(PTY_SIDE)}
    via_project = caller.get(f"{entity['open']}resources/{rid}/")
    via_party = caller.get(f"{entity['p_side']}resources/{rid}/")
    flat = caller.get(flat_url(rid))
    sees_party = "p_side" in UNION_ATTACHMENTS[role]
    assert via_project.status_int == 200, describe("GET", "via the project", role, via_project)
    assert flat.status_int == 200, describe("GET", "flat", role, flat)
    assert via_party.status_int == (200 if sees_party else 404), describe("GET", "via the party", role, via_party)
    if not sees_party:
        assert via_party.json == {"error": "Resource does not exist"}
        missing = caller.get(f"{entity['p_side']}resources/{world.placeholders['no_id']}/")
        assert (missing.status_int, missing.body) == (404, via_party.body)
    shown = [entity[name] for name in UNION_ATTACHMENTS[role]]
    for response in (via_project, flat) + ((via_party,) if sees_party else ()):
        obj = response.json
        assert [a["href"] for a in obj["attachments"]] == shown, obj["attachments"]
        assert [a["entity_type"] for a in obj["attachments"]] == ["project", "party"][:len(shown)]
        assert [link["href"] for link in obj["_links"]["attachments"]] == shown
        assert obj["resource_uri"] == f"{entity['open']}resources/{rid}/"
        assert caller.get(obj["resource_uri"]).status_int == 200
        check_links(world, role, obj)
    # Nothing in any representation names the party to those who may not see it.
    if not sees_party:
        for response in (via_project, flat, caller.get(f"{entity['open']}resources/"), caller.get(f"{API}/resources/")):
            assert world.placeholders["p_side"].encode() not in response.body


def test_detaching_removes_one_attachment_and_the_last_one_deletes(world, db, storage):
    rid = world.placeholders["r_union"]
    manager, admin = world.caller("manager"), world.caller("admin")
    key = db.scalar(select(Resource.file).where(Resource.id == rid))
    assert manager.delete(world.url(P_OPEN) + f"resources/{rid}/").status_int == 204
    assert targets_of(db, rid) == [world.targets[world.url(PTY_SIDE)]]
    assert key in storage.keys()
    # Gone from the project, for everyone; still there under the party, and flat, for those who see it.
    assert manager.get(world.url(P_OPEN) + f"resources/{rid}/").status_int == 404
    assert manager.get(flat_url(rid)).status_int == 404
    assert admin.get(flat_url(rid)).json["attachments"] == [{"entity_type": "party", "href": world.url(PTY_SIDE)}]
    assert admin.delete(world.url(PTY_SIDE) + f"resources/{rid}/").status_int == 204
    assert not resource_exists(db, rid)
    assert key not in storage.keys()
    assert admin.get(flat_url(rid)).status_int == 404


def test_a_flat_delete_detaches_what_the_caller_may_and_reveals_nothing_hidden(world, db):
    rid = world.placeholders["r_union"]
    # The manager of `open` may detach it there but not from a party of a project they do not even see:
    # their DELETE detaches it from `open`, and says nothing of the party.
    response = world.caller("manager").delete(flat_url(rid))
    assert (response.status_int, response.body) == (204, b"")
    assert targets_of(db, rid) == [world.targets[world.url(PTY_SIDE)]]
    assert world.caller("manager").get(flat_url(rid)).status_int == 404  # no longer anywhere they see
    # A collector may delete it nowhere: refused, whatever else holds it.
    assert world.caller("other").delete(flat_url(rid)).status_int == 403
    assert world.caller("admin").delete(flat_url(rid)).status_int == 204
    assert not resource_exists(db, rid)


def test_a_resource_is_not_attachable_to_another_organization(world, db):
    """r_far is in globex's public project: everyone sees it, nobody attaches it in acme."""
    rid = world.placeholders["r_far"]
    before = resource_tables(db)
    for role in ("admin", "su"):
        for place in (O, P_OPEN, PTY_OPEN):
            response = world.caller(role).post(world.url(place) + "resources/", json={"id": rid})
            assert (response.status_int, response.json) == (400, OTHER_ORG), describe("POST", place, role, response)
    assert resource_tables(db) == before


# JSONP carries no credentials (any web page can make a browser run it): only what anonymous callers see.
JSONP_PATHS = (FLAT, FLAT + "{r_acme_arch}/", FLAT + "{r_team}/", FLAT + "{r_open}/", ACME_R + "{r_acme_arch}/",
               TEAM_R, TEAM_R + "{r_team}/", PTY_OPEN_R, PTY_OPEN_R + "{r_party}/")


@pytest.mark.parametrize("role", ROLES[1:])
def test_jsonp_serves_only_what_anonymous_callers_see(world, role):
    world.dirty = False
    for path in JSONP_PATHS:
        url = world.url(path) + "?format=jsonp&callback=cb"
        response = world.caller(role).get(url)
        anonymous = world.remembered("anon", "GET", url)
        assert (response.status_int, response.body) == (anonymous.status_int, anonymous.body), describe(
            "GET", url, role, response)
