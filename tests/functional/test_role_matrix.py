"""The role matrix: who may do what, where (SPEC §2, §3, §4), request by request.

Every expected status below is written out by hand from SPEC §3 (and, where SPEC is silent, from the
documented design decisions). Nothing here asks `hyperapi.authz`: this file is an independent check of
the rule table, the tree, the security policy and the views together.

The world, made directly in the database by the factory (no API calls). It is made once for the module
and every test runs in a savepoint rolled back after it, so each test starts from this untouched world:

    acme   public org        admin: admin    member: member, extra
      open    public project         viewer, collector, manager hold those roles; extra: viewer
      team    private project        the same roles (a private project seen through project roles)
      secret  private project        extra: viewer (none of the callers holds a role here)
      old     archived project       the same roles as open (archived: org admins, managers, superusers)
    hush   private org       admin: hushie   member: extra
      inner   public project         the same roles as open (a project role does not lift a hidden org)
    dusty  archived org      admin: admin    member: member, extra
      relic   public project         the same roles as open

Every project holds one party, "Party-<project>". Other users: stranger (signed in, no memberships),
su (superuser), extra, newbie and hushie (never callers).

The callers (the columns of the tables): anonymous, stranger, org member and org admin (of acme and
dusty), project viewer, collector and manager (of open, team, old, inner, relic), superuser.

What each answer must look like (SPEC §4):
- 404: `{"error": "<Thing> does not exist"}`, Thing named by the URL's shape, and byte-for-byte the same
  answer as the same request on URLs where one level of the path never existed;
- 401: `{"error": "Please sign in."}` with `WWW-Authenticate: Token`;
- 403: an `error` sentence that is neither the 404 nor the 401 text;
- 405: an `Allow` header without the refused method;
- 201 with `Location` (and the creator can read it there), 200, 204 with no body (and the entity is gone);
  a refused write changes nothing.

Beside the matrix: what each caller finds in each collection (`LISTS`), who sees e-mail addresses, that
/account/tokens/ lists only the caller's own, and that a bad token is a 401 wherever it is sent.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from webtest import TestApp

from hyperapi.models import Token

from ..support.api import API, Client
from ..support.factory import Factory

ROLES = ("anon", "stranger", "member", "admin", "viewer", "collector", "manager", "su")
OTHER_USERS = ("extra", "newbie", "hushie")
PROJECT_ROLES_OF_CALLERS = ("viewer", "collector", "manager")

# Valid bodies, so that a status tells about authorization, never about validation.
ORG = {"name": "O"}
PRJ = {"name": "P"}
PARTY = {"name": "X", "type": "IN"}
ORG_MEMBER = {"username": "newbie", "role": "member"}
PRJ_MEMBER = {"username": "hushie", "role": "viewer"}  # hushie is in hush, so even hush/inner accepts it
ROLE_ADMIN = {"role": "admin"}
ROLE_COLLECTOR = {"role": "collector"}
USER = {"username": "nu", "password": "a long enough password"}
NAME = {"full_name": "X"}
TOKEN = {"name": "t"}
UNARCHIVE = {"archived": False}
# PUT replaces every writable field and `archived` defaults to false: a PUT that leaves `archived` out
# would be an un-archiving. A PUT that keeps an archived entity archived must say so.
ORG_ARCHIVED = {"name": "O", "archived": True}
PRJ_ARCHIVED = {"name": "P", "archived": True}

# fmt: off
# The matrix. Paths are below /api/v1/; {p_<project>} is the id of that project's party, {my_token} the
# id of the caller's own token (anonymous has none: it tries extra's), {other_token} the id of extra's,
# {no_id} a well-formed id that nothing has.
#
#  method    path                                              body            anon str mem adm vie col man su
MATRIX = [
    # -- organizations ------------------------------------------------------------------------------------
    ("GET",    "organizations/",                                 None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "organizations/",                                 ORG,            "401 201 201 201 201 201 201 201"),
    ("PUT",    "organizations/",                                 ORG,            "405 405 405 405 405 405 405 405"),
    ("DELETE", "organizations/",                                 None,           "405 405 405 405 405 405 405 405"),
    # visible
    ("GET",    "organizations/acme/",                            None,           "200 200 200 200 200 200 200 200"),
    ("PUT",    "organizations/acme/",                            ORG,            "401 403 403 200 403 403 403 200"),
    ("PATCH",  "organizations/acme/",                            ORG,            "401 403 403 200 403 403 403 200"),
    ("DELETE", "organizations/acme/",                            None,           "401 403 403 204 403 403 403 204"),
    ("POST",   "organizations/acme/",                            ORG,            "405 405 405 405 405 405 405 405"),
    # hidden by its own ACL: private
    ("GET",    "organizations/hush/",                            None,           "404 404 404 404 404 404 404 200"),
    ("PUT",    "organizations/hush/",                            ORG,            "404 404 404 404 404 404 404 200"),
    ("PATCH",  "organizations/hush/",                            ORG,            "404 404 404 404 404 404 404 200"),
    ("DELETE", "organizations/hush/",                            None,           "404 404 404 404 404 404 404 204"),
    ("POST",   "organizations/hush/",                            ORG,            "404 404 404 404 404 404 404 405"),
    # archived: members only; nobody writes but to un-archive
    ("GET",    "organizations/dusty/",                           None,           "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/dusty/",                           ORG,            "404 404 403 403 404 404 404 403"),
    ("PUT",    "organizations/dusty/",                           ORG_ARCHIVED,   "404 404 403 403 404 404 404 403"),
    ("DELETE", "organizations/dusty/",                           None,           "404 404 403 403 404 404 404 403"),
    ("PATCH",  "organizations/dusty/",                           UNARCHIVE,      "404 404 403 200 404 404 404 200"),
    # missing
    ("GET",    "organizations/nope/",                            None,           "404 404 404 404 404 404 404 404"),
    ("PUT",    "organizations/nope/",                            ORG,            "404 404 404 404 404 404 404 404"),
    ("PATCH",  "organizations/nope/",                            ORG,            "404 404 404 404 404 404 404 404"),
    ("DELETE", "organizations/nope/",                            None,           "404 404 404 404 404 404 404 404"),
    ("POST",   "organizations/nope/",                            ORG,            "404 404 404 404 404 404 404 404"),

    # -- organization members -----------------------------------------------------------------------------
    # Memberships of an organization show to its members, the member themself and superusers.
    ("GET",    "organizations/acme/members/",                    None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "organizations/acme/members/",                    ORG_MEMBER,     "401 403 403 201 403 403 403 201"),
    ("PUT",    "organizations/acme/members/",                    ORG_MEMBER,     "405 405 405 405 405 405 405 405"),
    ("GET",    "organizations/hush/members/",                    None,           "404 404 404 404 404 404 404 200"),
    ("POST",   "organizations/hush/members/",                    ORG_MEMBER,     "404 404 404 404 404 404 404 201"),
    ("PUT",    "organizations/hush/members/",                    ORG_MEMBER,     "404 404 404 404 404 404 404 405"),
    ("GET",    "organizations/dusty/members/",                   None,           "404 404 200 200 404 404 404 200"),
    ("POST",   "organizations/dusty/members/",                   ORG_MEMBER,     "404 404 403 403 404 404 404 403"),
    ("GET",    "organizations/nope/members/",                    None,           "404 404 404 404 404 404 404 404"),
    ("POST",   "organizations/nope/members/",                    ORG_MEMBER,     "404 404 404 404 404 404 404 404"),
    # a membership (SPEC §2: GET PATCH DELETE — no PUT)
    ("GET",    "organizations/acme/members/extra/",              None,           "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/acme/members/extra/",              ROLE_ADMIN,     "404 404 403 200 404 404 404 200"),
    ("DELETE", "organizations/acme/members/extra/",              None,           "404 404 403 204 404 404 404 204"),
    ("PUT",    "organizations/acme/members/extra/",              ROLE_ADMIN,     "404 404 405 405 404 404 404 405"),
    ("GET",    "organizations/hush/members/extra/",              None,           "404 404 404 404 404 404 404 200"),
    ("PATCH",  "organizations/hush/members/extra/",              ROLE_ADMIN,     "404 404 404 404 404 404 404 200"),
    ("DELETE", "organizations/hush/members/extra/",              None,           "404 404 404 404 404 404 404 204"),
    ("GET",    "organizations/dusty/members/extra/",             None,           "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/dusty/members/extra/",             ROLE_ADMIN,     "404 404 403 403 404 404 404 403"),
    ("DELETE", "organizations/dusty/members/extra/",             None,           "404 404 403 403 404 404 404 403"),
    ("GET",    "organizations/acme/members/stranger/",           None,           "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/acme/members/nobody/",             None,           "404 404 404 404 404 404 404 404"),
    ("PATCH",  "organizations/acme/members/nobody/",             ROLE_ADMIN,     "404 404 404 404 404 404 404 404"),
    ("DELETE", "organizations/acme/members/nobody/",             None,           "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/nope/members/extra/",              None,           "404 404 404 404 404 404 404 404"),

    # -- projects of an organization ----------------------------------------------------------------------
    ("GET",    "organizations/acme/projects/",                   None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "organizations/acme/projects/",                   PRJ,            "401 403 403 201 403 403 403 201"),
    ("PATCH",  "organizations/acme/projects/",                   PRJ,            "405 405 405 405 405 405 405 405"),
    ("GET",    "organizations/hush/projects/",                   None,           "404 404 404 404 404 404 404 200"),
    ("POST",   "organizations/hush/projects/",                   PRJ,            "404 404 404 404 404 404 404 201"),
    ("PATCH",  "organizations/hush/projects/",                   PRJ,            "404 404 404 404 404 404 404 405"),
    ("GET",    "organizations/dusty/projects/",                  None,           "404 404 200 200 404 404 404 200"),
    ("POST",   "organizations/dusty/projects/",                  PRJ,            "404 404 403 403 404 404 404 403"),
    ("GET",    "organizations/nope/projects/",                   None,           "404 404 404 404 404 404 404 404"),
    ("POST",   "organizations/nope/projects/",                   PRJ,            "404 404 404 404 404 404 404 404"),
    # visible
    ("GET",    "organizations/acme/projects/open/",              None,           "200 200 200 200 200 200 200 200"),
    ("PUT",    "organizations/acme/projects/open/",              PRJ,            "401 403 403 200 403 403 200 200"),
    ("PATCH",  "organizations/acme/projects/open/",              PRJ,            "401 403 403 200 403 403 200 200"),
    ("DELETE", "organizations/acme/projects/open/",              None,           "401 403 403 204 403 403 204 204"),
    ("POST",   "organizations/acme/projects/open/",              PRJ,            "405 405 405 405 405 405 405 405"),
    # private: org members and this project's role holders
    ("GET",    "organizations/acme/projects/team/",              None,           "404 404 200 200 200 200 200 200"),
    ("PUT",    "organizations/acme/projects/team/",              PRJ,            "404 404 403 200 403 403 200 200"),
    ("PATCH",  "organizations/acme/projects/team/",              PRJ,            "404 404 403 200 403 403 200 200"),
    ("DELETE", "organizations/acme/projects/team/",              None,           "404 404 403 204 403 403 204 204"),
    ("POST",   "organizations/acme/projects/team/",              PRJ,            "404 404 405 405 405 405 405 405"),
    # private, no role for the project callers: hidden by its own ACL
    ("GET",    "organizations/acme/projects/secret/",            None,           "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/acme/projects/secret/",            PRJ,            "404 404 403 200 404 404 404 200"),
    ("DELETE", "organizations/acme/projects/secret/",            None,           "404 404 403 204 404 404 404 204"),
    # archived: org admins, managers, superusers see it; nobody writes but to un-archive
    ("GET",    "organizations/acme/projects/old/",               None,           "404 404 404 200 404 404 200 200"),
    ("PATCH",  "organizations/acme/projects/old/",               PRJ,            "404 404 404 403 404 404 403 403"),
    ("PUT",    "organizations/acme/projects/old/",               PRJ_ARCHIVED,   "404 404 404 403 404 404 403 403"),
    ("DELETE", "organizations/acme/projects/old/",               None,           "404 404 404 403 404 404 403 403"),
    ("PATCH",  "organizations/acme/projects/old/",               UNARCHIVE,      "404 404 404 200 404 404 200 200"),
    # hidden by an ancestor: a public project in a private org (the project callers hold roles in it)
    ("GET",    "organizations/hush/projects/inner/",             None,           "404 404 404 404 404 404 404 200"),
    ("PATCH",  "organizations/hush/projects/inner/",             PRJ,            "404 404 404 404 404 404 404 200"),
    ("DELETE", "organizations/hush/projects/inner/",             None,           "404 404 404 404 404 404 404 204"),
    ("POST",   "organizations/hush/projects/inner/",             PRJ,            "404 404 404 404 404 404 404 405"),
    # in an archived org: seen by its members, written by nobody (not even to "un-archive" the project)
    ("GET",    "organizations/dusty/projects/relic/",            None,           "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/dusty/projects/relic/",            PRJ,            "404 404 403 403 404 404 404 403"),
    ("PATCH",  "organizations/dusty/projects/relic/",            UNARCHIVE,      "404 404 403 403 404 404 404 403"),
    ("DELETE", "organizations/dusty/projects/relic/",            None,           "404 404 403 403 404 404 404 403"),
    # missing, at its own level or above
    ("GET",    "organizations/acme/projects/nope/",              None,           "404 404 404 404 404 404 404 404"),
    ("PUT",    "organizations/acme/projects/nope/",              PRJ,            "404 404 404 404 404 404 404 404"),
    ("PATCH",  "organizations/acme/projects/nope/",              PRJ,            "404 404 404 404 404 404 404 404"),
    ("DELETE", "organizations/acme/projects/nope/",              None,           "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/nope/projects/open/",              None,           "404 404 404 404 404 404 404 404"),
    ("DELETE", "organizations/nope/projects/open/",              None,           "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/hush/projects/open/",              None,           "404 404 404 404 404 404 404 404"),

    # -- project members ----------------------------------------------------------------------------------
    # Memberships of a project show to its org's members, its role holders, the member and superusers.
    ("GET",    "organizations/acme/projects/open/members/",      None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "organizations/acme/projects/open/members/",      PRJ_MEMBER,     "401 403 403 201 403 403 201 201"),
    ("PUT",    "organizations/acme/projects/open/members/",      PRJ_MEMBER,     "405 405 405 405 405 405 405 405"),
    ("GET",    "organizations/acme/projects/team/members/",      None,           "404 404 200 200 200 200 200 200"),
    ("POST",   "organizations/acme/projects/team/members/",      PRJ_MEMBER,     "404 404 403 201 403 403 201 201"),
    ("GET",    "organizations/acme/projects/secret/members/",    None,           "404 404 200 200 404 404 404 200"),
    ("POST",   "organizations/acme/projects/secret/members/",    PRJ_MEMBER,     "404 404 403 201 404 404 404 201"),
    ("GET",    "organizations/acme/projects/old/members/",       None,           "404 404 404 200 404 404 200 200"),
    ("POST",   "organizations/acme/projects/old/members/",       PRJ_MEMBER,     "404 404 404 403 404 404 403 403"),
    ("GET",    "organizations/hush/projects/inner/members/",     None,           "404 404 404 404 404 404 404 200"),
    ("POST",   "organizations/hush/projects/inner/members/",     PRJ_MEMBER,     "404 404 404 404 404 404 404 201"),
    ("GET",    "organizations/dusty/projects/relic/members/",    None,           "404 404 200 200 404 404 404 200"),
    ("POST",   "organizations/dusty/projects/relic/members/",    PRJ_MEMBER,     "404 404 403 403 404 404 404 403"),
    ("GET",    "organizations/acme/projects/nope/members/",      None,           "404 404 404 404 404 404 404 404"),
    ("POST",   "organizations/nope/projects/open/members/",      PRJ_MEMBER,     "404 404 404 404 404 404 404 404"),
    # a membership (no PUT, as for organization members)
    ("GET",    "organizations/acme/projects/open/members/extra/",   None,        "404 404 200 200 200 200 200 200"),
    ("PATCH",  "organizations/acme/projects/open/members/extra/",   ROLE_COLLECTOR, "404 404 403 200 403 403 200 200"),
    ("DELETE", "organizations/acme/projects/open/members/extra/",   None,        "404 404 403 204 403 403 204 204"),
    ("PUT",    "organizations/acme/projects/open/members/extra/",   ROLE_COLLECTOR, "404 404 405 405 405 405 405 405"),
    ("GET",    "organizations/acme/projects/team/members/extra/",   None,        "404 404 200 200 200 200 200 200"),
    ("PATCH",  "organizations/acme/projects/team/members/extra/",   ROLE_COLLECTOR, "404 404 403 200 403 403 200 200"),
    ("DELETE", "organizations/acme/projects/team/members/extra/",   None,        "404 404 403 204 403 403 204 204"),
    ("GET",    "organizations/acme/projects/secret/members/extra/", None,        "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/acme/projects/secret/members/extra/", ROLE_COLLECTOR, "404 404 403 200 404 404 404 200"),
    ("DELETE", "organizations/acme/projects/secret/members/extra/", None,        "404 404 403 204 404 404 404 204"),
    ("GET",    "organizations/acme/projects/old/members/extra/",    None,        "404 404 404 200 404 404 200 200"),
    ("PATCH",  "organizations/acme/projects/old/members/extra/",    ROLE_COLLECTOR, "404 404 404 403 404 404 403 403"),
    ("DELETE", "organizations/acme/projects/old/members/extra/",    None,        "404 404 404 403 404 404 403 403"),
    ("GET",    "organizations/hush/projects/inner/members/extra/",  None,        "404 404 404 404 404 404 404 200"),
    ("PATCH",  "organizations/hush/projects/inner/members/extra/",  ROLE_COLLECTOR, "404 404 404 404 404 404 404 200"),
    ("DELETE", "organizations/hush/projects/inner/members/extra/",  None,        "404 404 404 404 404 404 404 204"),
    ("GET",    "organizations/dusty/projects/relic/members/extra/", None,        "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/dusty/projects/relic/members/extra/", ROLE_COLLECTOR, "404 404 403 403 404 404 404 403"),
    ("DELETE", "organizations/dusty/projects/relic/members/extra/", None,        "404 404 403 403 404 404 404 403"),
    ("GET",    "organizations/acme/projects/open/members/stranger/", None,       "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/acme/projects/open/members/nobody/",   None,       "404 404 404 404 404 404 404 404"),
    ("PATCH",  "organizations/acme/projects/open/members/nobody/",   ROLE_COLLECTOR, "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/acme/projects/nope/members/extra/",    None,       "404 404 404 404 404 404 404 404"),

    # -- parties: personal data, never public -------------------------------------------------------------
    ("GET",    "organizations/acme/projects/open/parties/",      None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "organizations/acme/projects/open/parties/",      PARTY,          "401 403 403 201 403 201 201 201"),
    ("PUT",    "organizations/acme/projects/open/parties/",      PARTY,          "405 405 405 405 405 405 405 405"),
    ("GET",    "organizations/acme/projects/team/parties/",      None,           "404 404 200 200 200 200 200 200"),
    ("POST",   "organizations/acme/projects/team/parties/",      PARTY,          "404 404 403 201 403 201 201 201"),
    ("PUT",    "organizations/acme/projects/team/parties/",      PARTY,          "404 404 405 405 405 405 405 405"),
    ("GET",    "organizations/acme/projects/secret/parties/",    None,           "404 404 200 200 404 404 404 200"),
    ("POST",   "organizations/acme/projects/secret/parties/",    PARTY,          "404 404 403 201 404 404 404 201"),
    ("GET",    "organizations/acme/projects/old/parties/",       None,           "404 404 404 200 404 404 200 200"),
    ("POST",   "organizations/acme/projects/old/parties/",       PARTY,          "404 404 404 403 404 404 403 403"),
    ("GET",    "organizations/hush/projects/inner/parties/",     None,           "404 404 404 404 404 404 404 200"),
    ("POST",   "organizations/hush/projects/inner/parties/",     PARTY,          "404 404 404 404 404 404 404 201"),
    ("GET",    "organizations/dusty/projects/relic/parties/",    None,           "404 404 200 200 404 404 404 200"),
    ("POST",   "organizations/dusty/projects/relic/parties/",    PARTY,          "404 404 403 403 404 404 404 403"),
    ("GET",    "organizations/acme/projects/nope/parties/",      None,           "404 404 404 404 404 404 404 404"),
    ("POST",   "organizations/acme/projects/nope/parties/",      PARTY,          "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/nope/projects/open/parties/",      None,           "404 404 404 404 404 404 404 404"),
    # a party of a public project: hidden by its own ACL from anonymous callers and strangers
    ("GET",    "organizations/acme/projects/open/parties/{p_open}/",     None,   "404 404 200 200 200 200 200 200"),
    ("PUT",    "organizations/acme/projects/open/parties/{p_open}/",     PARTY,  "404 404 403 200 403 200 200 200"),
    ("PATCH",  "organizations/acme/projects/open/parties/{p_open}/",     PARTY,  "404 404 403 200 403 200 200 200"),
    ("DELETE", "organizations/acme/projects/open/parties/{p_open}/",     None,   "404 404 403 204 403 403 204 204"),
    ("POST",   "organizations/acme/projects/open/parties/{p_open}/",     PARTY,  "404 404 405 405 405 405 405 405"),
    ("GET",    "organizations/acme/projects/team/parties/{p_team}/",     None,   "404 404 200 200 200 200 200 200"),
    ("PUT",    "organizations/acme/projects/team/parties/{p_team}/",     PARTY,  "404 404 403 200 403 200 200 200"),
    ("PATCH",  "organizations/acme/projects/team/parties/{p_team}/",     PARTY,  "404 404 403 200 403 200 200 200"),
    ("DELETE", "organizations/acme/projects/team/parties/{p_team}/",     None,   "404 404 403 204 403 403 204 204"),
    # hidden by an ancestor: the project
    ("GET",    "organizations/acme/projects/secret/parties/{p_secret}/", None,   "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/acme/projects/secret/parties/{p_secret}/", PARTY,  "404 404 403 200 404 404 404 200"),
    ("DELETE", "organizations/acme/projects/secret/parties/{p_secret}/", None,   "404 404 403 204 404 404 404 204"),
    ("GET",    "organizations/acme/projects/old/parties/{p_old}/",       None,   "404 404 404 200 404 404 200 200"),
    ("PUT",    "organizations/acme/projects/old/parties/{p_old}/",       PARTY,  "404 404 404 403 404 404 403 403"),
    ("PATCH",  "organizations/acme/projects/old/parties/{p_old}/",       PARTY,  "404 404 404 403 404 404 403 403"),
    ("DELETE", "organizations/acme/projects/old/parties/{p_old}/",       None,   "404 404 404 403 404 404 403 403"),
    # hidden by an ancestor: the organization
    ("GET",    "organizations/hush/projects/inner/parties/{p_inner}/",   None,   "404 404 404 404 404 404 404 200"),
    ("PATCH",  "organizations/hush/projects/inner/parties/{p_inner}/",   PARTY,  "404 404 404 404 404 404 404 200"),
    ("DELETE", "organizations/hush/projects/inner/parties/{p_inner}/",   None,   "404 404 404 404 404 404 404 204"),
    ("GET",    "organizations/dusty/projects/relic/parties/{p_relic}/",  None,   "404 404 200 200 404 404 404 200"),
    ("PATCH",  "organizations/dusty/projects/relic/parties/{p_relic}/",  PARTY,  "404 404 403 403 404 404 404 403"),
    ("DELETE", "organizations/dusty/projects/relic/parties/{p_relic}/",  None,   "404 404 403 403 404 404 404 403"),
    # missing: the party, or a level above it, or the party is another project's
    ("GET",    "organizations/acme/projects/open/parties/{no_id}/",      None,   "404 404 404 404 404 404 404 404"),
    ("PATCH",  "organizations/acme/projects/open/parties/{no_id}/",      PARTY,  "404 404 404 404 404 404 404 404"),
    ("DELETE", "organizations/acme/projects/open/parties/{no_id}/",      None,   "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/acme/projects/secret/parties/{p_open}/",   None,   "404 404 404 404 404 404 404 404"),
    ("DELETE", "organizations/acme/projects/secret/parties/{p_open}/",   None,   "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/acme/projects/nope/parties/{p_open}/",     None,   "404 404 404 404 404 404 404 404"),
    ("GET",    "organizations/nope/projects/open/parties/{p_open}/",     None,   "404 404 404 404 404 404 404 404"),
    ("PUT",    "organizations/nope/projects/open/parties/{p_open}/",     PARTY,  "404 404 404 404 404 404 404 404"),

    # -- every project the caller may see, flat (GET only) ------------------------------------------------
    ("GET",    "projects/",                                      None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "projects/",                                      PRJ,            "405 405 405 405 405 405 405 405"),
    ("DELETE", "projects/",                                      None,           "405 405 405 405 405 405 405 405"),

    # -- users: seen by signed-in callers; created by superusers (SPEC §2: GET PATCH DELETE — no PUT) ------
    ("GET",    "users/",                                         None,           "200 200 200 200 200 200 200 200"),
    ("POST",   "users/",                                         USER,           "401 403 403 403 403 403 403 201"),
    ("PUT",    "users/",                                         USER,           "405 405 405 405 405 405 405 405"),
    ("GET",    "users/newbie/",                                  None,           "404 200 200 200 200 200 200 200"),
    ("PATCH",  "users/newbie/",                                  NAME,           "404 403 403 403 403 403 403 200"),
    ("DELETE", "users/newbie/",                                  None,           "404 403 403 403 403 403 403 204"),
    ("PUT",    "users/newbie/",                                  NAME,           "404 405 405 405 405 405 405 405"),
    ("POST",   "users/newbie/",                                  NAME,           "404 405 405 405 405 405 405 405"),
    ("GET",    "users/nobody/",                                  None,           "404 404 404 404 404 404 404 404"),
    ("PATCH",  "users/nobody/",                                  NAME,           "404 404 404 404 404 404 404 404"),
    ("DELETE", "users/nobody/",                                  None,           "404 404 404 404 404 404 404 404"),

    # -- the caller ---------------------------------------------------------------------------------------
    ("GET",    "account/",                                       None,           "401 200 200 200 200 200 200 200"),
    ("PATCH",  "account/",                                       NAME,           "401 200 200 200 200 200 200 200"),
    ("PUT",    "account/",                                       NAME,           "405 405 405 405 405 405 405 405"),
    ("POST",   "account/",                                       NAME,           "405 405 405 405 405 405 405 405"),
    ("DELETE", "account/",                                       None,           "405 405 405 405 405 405 405 405"),
    ("GET",    "account/tokens/",                                None,           "401 200 200 200 200 200 200 200"),
    ("POST",   "account/tokens/",                                TOKEN,          "401 201 201 201 201 201 201 201"),
    ("PUT",    "account/tokens/",                                TOKEN,          "405 405 405 405 405 405 405 405"),
    ("GET",    "account/tokens/{my_token}/",                     None,           "404 200 200 200 200 200 200 200"),
    ("DELETE", "account/tokens/{my_token}/",                     None,           "404 204 204 204 204 204 204 204"),
    ("PATCH",  "account/tokens/{my_token}/",                     TOKEN,          "404 405 405 405 405 405 405 405"),
    # /account/tokens/ are the caller's own: another user's token is not there, not even for a superuser
    ("GET",    "account/tokens/{other_token}/",                  None,           "404 404 404 404 404 404 404 404"),
    ("DELETE", "account/tokens/{other_token}/",                  None,           "404 404 404 404 404 404 404 404"),
    ("GET",    "account/tokens/{no_id}/",                         None,           "404 404 404 404 404 404 404 404"),
]

# What each caller finds in a collection: the `id`s (for parties, the names) of the objects listed, or
# None when the collection's parent is hidden from the caller (404). An object is listed exactly when its
# own URL answers 200 to the same caller (SPEC §5).
ALL_USERS = "admin collector extra hushie manager member newbie stranger su viewer"
LISTS = [
    ("organizations/", dict(
        anon="acme", stranger="acme", member="acme dusty", admin="acme dusty",
        viewer="acme", collector="acme", manager="acme", su="acme dusty hush")),
    ("organizations/acme/projects/", dict(
        anon="open", stranger="open", member="open secret team", admin="old open secret team",
        viewer="open team", collector="open team", manager="old open team", su="old open secret team")),
    ("organizations/hush/projects/", dict(
        anon=None, stranger=None, member=None, admin=None, viewer=None, collector=None, manager=None, su="inner")),
    ("organizations/dusty/projects/", dict(
        anon=None, stranger=None, member="relic", admin="relic", viewer=None, collector=None, manager=None,
        su="relic")),
    ("projects/", dict(
        anon="open", stranger="open", member="open relic secret team", admin="old open relic secret team",
        viewer="open team", collector="open team", manager="old open team",
        su="inner old open relic secret team")),
    ("organizations/acme/members/", dict(
        anon="", stranger="", member="admin extra member", admin="admin extra member",
        viewer="", collector="", manager="", su="admin extra member")),
    ("organizations/dusty/members/", dict(
        anon=None, stranger=None, member="admin extra member", admin="admin extra member",
        viewer=None, collector=None, manager=None, su="admin extra member")),
    ("organizations/acme/projects/open/members/", dict(
        anon="", stranger="", member="collector extra manager viewer", admin="collector extra manager viewer",
        viewer="collector extra manager viewer", collector="collector extra manager viewer",
        manager="collector extra manager viewer", su="collector extra manager viewer")),
    ("organizations/acme/projects/secret/members/", dict(
        anon=None, stranger=None, member="extra", admin="extra", viewer=None, collector=None, manager=None,
        su="extra")),
    ("organizations/acme/projects/open/parties/", dict(
        anon="", stranger="", member="Party-open", admin="Party-open", viewer="Party-open",
        collector="Party-open", manager="Party-open", su="Party-open")),
    ("organizations/acme/projects/team/parties/", dict(
        anon=None, stranger=None, member="Party-team", admin="Party-team", viewer="Party-team",
        collector="Party-team", manager="Party-team", su="Party-team")),
    ("organizations/acme/projects/secret/parties/", dict(
        anon=None, stranger=None, member="Party-secret", admin="Party-secret", viewer=None, collector=None,
        manager=None, su="Party-secret")),
    ("organizations/acme/projects/old/parties/", dict(
        anon=None, stranger=None, member=None, admin="Party-old", viewer=None, collector=None,
        manager="Party-old", su="Party-old")),
    ("organizations/dusty/projects/relic/parties/", dict(
        anon=None, stranger=None, member="Party-relic", admin="Party-relic", viewer=None, collector=None,
        manager=None, su="Party-relic")),
    ("users/", dict(
        anon="", stranger=ALL_USERS, member=ALL_USERS, admin=ALL_USERS, viewer=ALL_USERS,
        collector=ALL_USERS, manager=ALL_USERS, su=ALL_USERS)),
]
# fmt: on

# What a URL addresses, named in its 404 (SPEC §4): an item by its own kind, a collection by its parent.
THING = {
    "organizations": "Organization",
    "projects": "Project",
    "members": "Member",
    "parties": "Party",
    "users": "User",
    "tokens": "Token",
}
# Replaces a key of a path to make a URL that never existed; valid as a slug, username or id.
NEVER = "never-existed"


# --- the world ---------------------------------------------------------------------------------------------


@dataclass
class World:
    client: Client
    keys: dict[str, str | None]
    placeholders: dict[str, str]
    tokens: dict[str, str]  # role → the id of the caller's own token
    # Answers that can not differ from one test to the next: requests for URLs that never existed, and a
    # superuser's reads of the untouched world. Asked once, they save some thousands of requests.
    memo: dict = field(default_factory=dict)

    def caller(self, role: str) -> Client:
        return self.client.as_(self.keys[role])

    def url(self, path: str, role: str) -> str:
        return API + "/" + path.format(my_token=self.tokens[role], **self.placeholders)

    def remembered(self, role: str, method: str, url: str, body=None):
        key = (role, method, url, json.dumps(body, sort_keys=True))
        if key not in self.memo:
            self.memo[key] = self.caller(role).request(method, url, json=body)
        return self.memo[key]


def build_world(factory: Factory) -> tuple[dict, dict, dict]:
    """The world of the module docstring. Returns (keys by role, URL placeholders, token ids by user)."""
    users = {name: factory.user(name, superuser=name == "su", email=f"{name}@example.org")
             for name in (*ROLES[1:], *OTHER_USERS)}
    keys: dict[str, str | None] = {"anon": None}
    keys.update({role: factory.key(users[role]) for role in ROLES[1:]})
    factory.key(users["extra"])

    acme = factory.org("acme")
    hush = factory.org("hush", access="private")
    dusty = factory.org("dusty", archived=True)
    for org in (acme, dusty):
        factory.org_member(org, users["admin"], "admin")
        factory.org_member(org, users["member"], "member")
        factory.org_member(org, users["extra"], "member")
    factory.org_member(hush, users["hushie"], "admin")
    factory.org_member(hush, users["extra"], "member")

    projects = {
        "open": factory.project(acme, "open"),
        "team": factory.project(acme, "team", access="private"),
        "secret": factory.project(acme, "secret", access="private"),
        "old": factory.project(acme, "old", archived=True),
        "inner": factory.project(hush, "inner"),
        "relic": factory.project(dusty, "relic"),
    }
    placeholders = {"no_id": "z" * 24}
    for slug, project in projects.items():
        placeholders[f"p_{slug}"] = factory.party(project, name=f"Party-{slug}").id
        factory.project_member(project, users["extra"], "viewer")
        if slug != "secret":
            for role in PROJECT_ROLES_OF_CALLERS:
                factory.project_member(project, users[role], role)

    names = {user.id: name for name, user in users.items()}
    tokens = {names[user_id]: token_id for token_id, user_id in factory.db.execute(select(Token.id, Token.user_id))}
    placeholders["other_token"] = tokens["extra"]
    return keys, placeholders, tokens


@pytest.fixture(scope="module")
def pristine_world(engine, wsgi_app):
    """One world for the whole module, in an outer transaction rolled back at its end. Every test runs in
    a savepoint of it (`world`), rolled back after the test: each test starts from the same untouched
    world, as if it had been built for it alone — without building it two thousand times."""
    connection = engine.connect()
    outer = connection.begin()
    wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    keys, placeholders, tokens = build_world(Factory(session))
    session.close()
    client = Client(TestApp(wsgi_app))
    world = World(client, keys, placeholders, {"anon": tokens["extra"], **{r: tokens[r] for r in ROLES[1:]}})
    yield connection, world
    outer.rollback()
    connection.close()


@pytest.fixture
def world(pristine_world, wsgi_app) -> World:
    connection, world = pristine_world
    # The `db` fixture of other modules binds the app to its own connection; bind it back to ours.
    wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    savepoint = connection.begin_nested()
    yield world
    if savepoint.is_active:
        savepoint.rollback()


@pytest.fixture
def db(pristine_world, world) -> Session:
    """A session on the world's connection, inside the test's savepoint (shadows conftest's `db`, whose
    connection is not the one the world lives on)."""
    connection, _ = pristine_world
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()


# --- what each answer must look like -------------------------------------------------------------------------


def key_positions(segments: list[str]) -> list[int]:
    return [i for i in range(1, len(segments)) if segments[i - 1] in THING]


def thing_of(segments: list[str]) -> str:
    """`organizations/x/projects/` addresses Organization x; `.../parties/y/` addresses a Party."""
    if segments[-2] in THING:
        return THING[segments[-2]]
    return THING[segments[-3]]


def never_existed_twins(url: str) -> list[str]:
    """The same URL with one of its keys replaced by one that never existed, for each key."""
    segments = url.removeprefix(API + "/").strip("/").split("/")
    twins = []
    for i in key_positions(segments):
        twin = list(segments)
        twin[i] = NEVER
        twins.append(API + "/" + "/".join(twin) + "/")
    return twins


def allowed(response) -> set[str]:
    return {method.strip() for method in response.headers["Allow"].split(",")}


def describe(method, url, role, response) -> str:
    return f"{method} {url} as {role}: got {response.status} {response.body[:300]!r}"


def check_answer(world: World, method: str, url: str, body, role: str, expected: int, response) -> None:
    caller = world.caller(role)
    what = describe(method, url, role, response)
    assert response.status_int == expected, f"expected {expected}; {what}"
    segments = url.removeprefix(API + "/").strip("/").split("/")
    if expected == 404:
        assert response.json == {"error": f"{thing_of(segments)} does not exist"}, what
        for twin in never_existed_twins(url):
            other = world.remembered(role, method, twin, body)
            assert other.status_int == 404, describe(method, twin, role, other)
            assert other.body == response.body, f"404 bodies differ: {what} vs {describe(method, twin, role, other)}"
            # Nor may a header tell them apart.
            assert sorted(other.headerlist) == sorted(response.headerlist), f"404 headers differ: {what}"
        assert "Allow" not in response.headers, what
    elif expected == 401:
        assert response.json == {"error": "Please sign in."}, what
        assert response.headers.get("WWW-Authenticate") == "Token", what
    elif expected == 403:
        error = response.json.get("error")
        assert isinstance(error, str) and error, what
        assert error != "Please sign in." and not error.endswith("does not exist"), what
    elif expected == 405:
        assert "Allow" in response.headers, what
        assert method not in allowed(response) and "GET" in allowed(response), what
        assert isinstance(response.json.get("error"), str), what
    elif expected == 201:
        location = response.headers.get("Location", "")
        assert location and location.endswith(response.json["resource_uri"]), what
        # The creator can read what they made, at its canonical URL.
        again = caller.get(urlsplit(location).path)
        assert again.status_int == 200, describe("GET", location, role, again)
    elif expected == 204:
        assert response.body == b"", what
    elif expected == 200:
        if segments[-1] in THING:  # a collection
            assert "objects" in response.json and "meta" in response.json, what
        else:
            assert response.json["resource_uri"] == url, what


def is_account(path: str) -> bool:
    return path.startswith("account/")


MATRIX_PARAMS = [
    pytest.param(method, path, body, role, int(status), id=f"{method} {path} [{role}]")
    for method, path, body, statuses in MATRIX
    for role, status in zip(ROLES, statuses.split(), strict=True)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), MATRIX_PARAMS)
def test_role_matrix(world, method, path, body, role, expected):
    url = world.url(path, role)
    caller = world.caller(role)
    # A superuser's view of the target, before and after, shows whether a refused write changed anything
    # (the caller's own account and tokens are out of a superuser's sight, and deleting one's own token
    # would sign the superuser out).
    watch = method != "GET" and not is_account(path)
    before = world.remembered("su", "GET", url) if watch else None

    response = caller.request(method, url, json=body)

    check_answer(world, method, url, body, role, expected, response)
    if not watch:
        return
    after = world.caller("su").get(url)
    if expected == 204:
        assert after.status_int == 404, describe("GET", url, "su after the DELETE", after)
    elif expected >= 400:
        assert (after.status_int, after.body) == (before.status_int, before.body), (
            f"a refused {method} changed {url}: {before.body[:200]!r} → {after.body[:200]!r}"
        )


def label_of(path: str, obj: dict) -> str:
    return obj["name"] if path.endswith("parties/") else obj["id"]


LIST_PARAMS = [
    pytest.param(path, role, expected[role], id=f"{path} [{role}]") for path, expected in LISTS for role in ROLES
]


@pytest.mark.parametrize(("path", "role", "expected"), LIST_PARAMS)
def test_collection_lists_what_the_caller_may_see(world, path, role, expected):
    url = world.url(path, role)
    response = world.caller(role).get(url)
    if expected is None:
        check_answer(world, "GET", url, None, role, 404, response)
        return
    assert response.status_int == 200, describe("GET", url, role, response)
    listed = sorted(label_of(path, obj) for obj in response.json["objects"])
    assert listed == sorted(expected.split()), describe("GET", url, role, response)
    assert response.json["meta"]["total_count"] == len(listed)
    # Each listed object's own URL answers 200 to the same caller.
    for obj in response.json["objects"]:
        assert world.caller(role).get(obj["resource_uri"]).status_int == 200, obj["resource_uri"]


@pytest.mark.parametrize("role", ROLES[1:])
def test_email_only_to_its_owner_and_superusers(world, role):
    caller = world.caller(role)
    other = caller.get(f"{API}/users/newbie/")
    assert other.status_int == 200
    assert ("email" in other.json) == (role == "su"), other.json
    me = caller.get(f"{API}/users/{role}/")
    assert me.status_int == 200 and me.json["email"] == f"{role}@example.org", me.json
    account = caller.get(f"{API}/account/")
    assert account.status_int == 200 and account.json["email"] == f"{role}@example.org", account.json
    listed = caller.get(f"{API}/users/").json["objects"]
    with_email = sorted(obj["username"] for obj in listed if "email" in obj)
    assert with_email == (sorted(ALL_USERS.split()) if role == "su" else [role])


@pytest.mark.parametrize("role", ROLES[1:])
def test_tokens_list_only_the_callers_own(world, role):
    response = world.caller(role).get(f"{API}/account/tokens/")
    assert response.status_int == 200
    assert [obj["id"] for obj in response.json["objects"]] == [world.tokens[role]]
    assert all("key" not in obj for obj in response.json["objects"])


# A bad token is refused before anything is looked up; a superuser's token, who would see everything.
BAD_TOKEN_REQUESTS = [
    ("GET", "organizations/acme/", None),
    ("GET", "organizations/hush/", None),
    ("GET", "organizations/nope/", None),
    ("GET", "organizations/acme/projects/open/parties/{p_open}/", None),
    ("DELETE", "organizations/acme/projects/open/", None),
    ("POST", "organizations/", ORG),
    ("PUT", "organizations/", ORG),
    ("GET", "projects/", None),
    ("GET", "users/", None),
    ("GET", "account/", None),
]


@pytest.mark.parametrize("bad", ["revoked", "expired", "unknown"])
@pytest.mark.parametrize(("method", "path", "body"), BAD_TOKEN_REQUESTS,
                         ids=[f"{method} {path}" for method, path, _ in BAD_TOKEN_REQUESTS])
def test_a_bad_token_is_refused_everywhere(world, db, bad, method, path, body):
    """SPEC §4: a bad, expired or revoked token gets 401 on any request, whatever exists there."""
    key = world.keys["su"]
    tokens = Token.__table__
    if bad == "revoked":
        db.execute(tokens.delete().where(tokens.c.id == world.tokens["su"]))
    elif bad == "expired":
        yesterday = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
        db.execute(tokens.update().where(tokens.c.id == world.tokens["su"]).values(expires=yesterday))
    else:
        key = "not-a-key-anybody-has"
    db.commit()
    response = world.client.as_(key).request(method, world.url(path, "su"), json=body)
    assert response.status_int == 401, describe(method, path, f"an {bad} token", response)
    assert response.json == {"error": "Please sign in."}
    assert response.headers.get("WWW-Authenticate") == "Token"
