"""Request bodies, one Colander schema per entity.

Each schema function returns the *full* schema (used for create and for PUT, which replaces every
writable field: absent optional fields fall back to their defaults). `for_mode` derives the PATCH
schema from it by keeping only the fields that were sent — each still validated in full, so
`{"name": ""}` is refused rather than dropped.
"""

from __future__ import annotations

import colander

from ..models import ACCESS_CHOICES, ORGANIZATION_ROLES, PARTY_TYPES, PROJECT_ROLES
from .fieldtypes import (
    Bool,
    Choice,
    CountryCode,
    DateTimeUTC,
    HCardList,
    JSONObject,
    Text,
    URLList,
    field,
    regex_validator,
)

USERNAME_PATTERN = r"[a-z0-9_.-]{1,150}"
SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def _mapping(*children: colander.SchemaNode) -> colander.SchemaNode:
    schema = colander.SchemaNode(colander.Mapping(unknown="raise"))
    for child in children:
        schema.add(child)
    return schema


def _named(name, node):
    node.name = name
    return node


def _description():
    return _named("description", field(Text(max_length=10000), default="", description="Free text."))


def _slug(scope: str):
    return _named(
        "slug",
        field(
            Text(max_length=100, allow_empty=False),
            validator=regex_validator(SLUG_PATTERN, "Use lowercase letters, digits and single hyphens."),
            unique=True,
            description=f"The key in its URL, unique {scope}; made from the name when not given "
                        "(with -2, -3… on a clash).",
        ),
    )


def _name(what: str, **kw):
    return _named("name", field(Text(max_length=200, allow_empty=False), required=True,
                                description=f"The {what}'s name.", **kw))


def _urls():
    return _named("urls", field(URLList(), default=[], description="Web addresses (http or https)."))


def _contacts():
    return _named("contacts", field(HCardList(), default=[], description="Contacts, as h-cards."))


def _access(what: str):
    return _named("access", field(Choice(ACCESS_CHOICES), default="public",
                                  description=f"Who may see the {what}: everyone (public) or its members."))


def _archived(what: str, help_text: str = ""):
    return _named("archived", field(Bool(), default=False, description=help_text or
                                    f"An archived {what} is read-only until it is un-archived."))


def _country():
    return _named("country", field(CountryCode(), default="",
                                   description='ISO 3166-1 alpha-2 country code, or "" for none.'))


def organization_schema() -> colander.SchemaNode:
    return _mapping(
        _name("organization", unique=True),
        _slug("among organizations"),
        _description(),
        _urls(),
        _contacts(),
        _access("organization"),
        _archived("organization"),
    )


def project_schema() -> colander.SchemaNode:
    return _mapping(
        _name("project"),
        _slug("within its organization"),
        _description(),
        _country(),
        _urls(),
        _contacts(),
        _access("project"),
        _archived("project"),
    )


def party_schema() -> colander.SchemaNode:
    return _mapping(
        _named("name", field(Text(max_length=200, allow_empty=False), required=True,
                             description="The party's name (a person, a group or a corporation).")),
        _named("type", field(Choice(PARTY_TYPES), default="IN",
                             description="IN individual, GR group, CO corporation.")),
        _description(),
        _country(),
        _contacts(),
        _named("attributes", field(JSONObject(), default={}, description="Any further facts, as a JSON object.")),
        _archived("party"),
    )


def _email():
    return _named(
        "email",
        field(Text(max_length=254), default=None, validator=regex_validator(_EMAIL, "Enter a valid email address."),
              unique=True, description="Shown only to the user and to superusers."),
    )


def _password(required=False):
    def strong_enough(node, value):
        if len(value) < strong_enough.min_length:
            raise colander.Invalid(node, "Use at least 10 characters.")

    strong_enough.min_length = 10

    return _named(
        "password",
        field(Text(max_length=1024, allow_empty=False), required=required, validator=strong_enough,
              description="At least 10 characters; stored as an argon2 hash, never shown."),
    )


def user_create_schema() -> colander.SchemaNode:
    return _mapping(
        _named(
            "username",
            field(
                Text(max_length=150, allow_empty=False),
                required=True,
                validator=regex_validator(USERNAME_PATTERN, "Use lowercase letters, digits and . _ - only."),
                unique=True,
                description="The key in the user's URL.",
            ),
        ),
        _named("full_name", field(Text(max_length=200), default="")),
        _email(),
        _password(required=True),
        _named("is_superuser", field(Bool(), default=False)),
    )


def user_update_schema() -> colander.SchemaNode:
    return _mapping(
        _named("full_name", field(Text(max_length=200), default="")),
        _email(),
        _password(),
        _named("is_superuser", field(Bool(), default=False)),
    )


def account_schema() -> colander.SchemaNode:
    return _mapping(
        _named("full_name", field(Text(max_length=200), default="")),
        _email(),
        _password(),
        _named("current_password", field(Text(max_length=1024))),
    )


def login_schema() -> colander.SchemaNode:
    return _mapping(
        _named("username", field(Text(max_length=150, allow_empty=False), required=True)),
        _named("password", field(Text(max_length=1024, allow_empty=False), required=True)),
    )


def token_schema() -> colander.SchemaNode:
    return _mapping(
        _named("name", field(Text(max_length=200), default="", description="What the token is for.")),
        _named("expires", field(DateTimeUTC(), default=None, description="When it stops working; none: never.")),
    )


def _member_schema(roles) -> colander.SchemaNode:
    return _mapping(
        _named("username", field(Text(max_length=150, allow_empty=False), required=True)),
        _named("role", field(Choice(roles), required=True)),
    )


def organization_member_schema() -> colander.SchemaNode:
    return _member_schema(ORGANIZATION_ROLES)


def project_member_schema() -> colander.SchemaNode:
    return _member_schema(PROJECT_ROLES)


def member_update_schema_for(roles):
    def schema():
        return _mapping(_named("role", field(Choice(roles), required=True)))

    return schema


CREATE, REPLACE, PATCH = "create", "replace", "patch"


def for_mode(schema: colander.SchemaNode, mode: str, sent: set[str]) -> colander.SchemaNode:
    if mode == PATCH:
        for child in list(schema.children):
            if child.name not in sent:
                del schema[child.name]
    return schema


def resource_schema() -> colander.SchemaNode:
    """A resource's metadata; its file travels beside it as a file part of a multipart form."""
    return _mapping(
        _named("name", field(Text(max_length=200, allow_empty=False),
                             description="The resource's name; the file's name when not given.")),
        _description(),
        _archived("resource", "An archived resource is seen only by those who may edit it."),
    )


def attach_schema() -> colander.SchemaNode:
    """Attach a resource that exists (instead of uploading one): its id, and nothing else."""
    return _mapping(_named("id", field(Text(max_length=24, allow_empty=False), required=True)))
