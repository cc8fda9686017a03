from .. import collections as q
from .. import responses, visibility
from ..authz import Permission
from ..errors import APIError
from ..models import OrganizationMember, ProjectMember, Token, User
from ..schemas import account_schema, login_schema, token_schema, user_create_schema, user_update_schema
from ..services import users as service
from ..traversal import Account, Login, TokenContainer, TokenNode, UserContainer, UserNode
from . import members
from .common import (
    CREATE,
    PATCH,
    READONLY,
    Body,
    Entity,
    add_view,
    api_path,
    collection_response,
    created_response,
    isoformat,
    json_response,
    link,
    object_response,
    path,
    render,
    request_shape,
    tracked_fields,
    version_etag,
)

LISTING = q.Listing(
    name="user",
    fields={
        "username": q.text(User.username),
        "full_name": q.text(User.full_name),
        "is_superuser": q.boolean(User.is_superuser),
        "created": q.moment(User.created),
    },
    search=(User.username, User.full_name),
    ordering={"username": User.username, "full_name": User.full_name, "created": User.created},
    default_ordering=("username",),
    tiebreaker=User.id,
    relations={
        # Following a membership reaches only the memberships the caller may see: a stranger learns
        # nothing about who belongs to a private organization.
        "memberships": q.Relation(lambda: members.ORGANIZATION_MEMBERSHIPS, User.id, OrganizationMember.user_id,
                                  visibility.organization_memberships),
        "project_memberships": q.Relation(lambda: members.PROJECT_MEMBERSHIPS, User.id, ProjectMember.user_id,
                                          visibility.project_memberships),
    },
    output=("id", "resource_uri", "username", "full_name", "is_superuser", "email", "created", "last_updated",
            "version", "_links"),
    described={
        "id": q.Out("string", "The username."),
        "username": q.Out("string", "Unique; the key in the user's URL."),
        "full_name": q.Out("string", "The user's full name."),
        "is_superuser": q.Out("boolean", "A superuser may do everything."),
        "email": q.Out("string", "Shown only to the user and to superusers.", nullable=True, optional=True),
    },
)


def represent_user(request, user: User, href: str, up: str) -> dict:
    identity = request.identity
    body = {
        "id": user.username,
        "resource_uri": href,
        "username": user.username,
        "full_name": user.full_name,
        "is_superuser": user.is_superuser,
        **tracked_fields(user),
        "_links": {"self": link(href), "up": link(up)},
    }
    # An email address is personal: only its owner and superusers see it.
    if identity is not None and (identity.is_superuser or identity.user_id == user.id):
        body["email"] = user.email
    return body


def represent(request, node: UserNode, depth: int = 0) -> dict:
    return represent_user(request, node.row, path(request, node), path(request, node.__parent__))


USERS = Entity(
    container=UserContainer,
    item=UserNode,
    represent=represent,
    listing=LISTING,
    schema=user_update_schema,
    create_schema=user_create_schema,
    create=lambda request, container, data: service.create(request.db, data),
    update=lambda request, node, data: service.update(request.db, node.row, data, by=request.identity.user),
    delete=lambda request, node: service.delete(request.db, node.row),
    readonly=READONLY | {"username"},
    replaceable=False,
)


# --- the caller: /account/, its tokens, and signing in ----------------------------------------------


def represent_account(request) -> dict:
    user = request.identity.user
    href = api_path(request, "account")
    body = represent_user(request, user, href, api_path(request))
    body["_links"].update(
        {"user": link(api_path(request, "users", user.username)), "tokens": link(href + "tokens/")}
    )
    return body


def account_current(request):
    values = represent_account(request)
    values.pop("email")  # the caller may change it
    return values


def get_account(request):
    fmt, _ = request_shape(request)
    return render(request, represent_account(request), fmt=fmt, etag=version_etag(request.identity.user))


def update_account(request):
    user = request.identity.user
    service.update_account(request.db, user, dict(request.validated))
    return json_response(request, represent_account(request), etag=version_etag(user))


def represent_token(request, node: TokenNode, depth: int = 0, key: str | None = None) -> dict:
    token = node.row
    href = path(request, node)
    body = {
        "id": token.id,
        "resource_uri": href,
        "name": token.name,
        "created": isoformat(token.created),
        "last_used": isoformat(token.last_used),
        "expires": isoformat(token.expires),
        "_links": {"self": link(href), "up": link(path(request, node.__parent__))},
    }
    if key is not None:
        body["key"] = key
    return body


TOKEN_LISTING = q.Listing(
    name="token",
    fields={"name": q.text(Token.name), "created": q.moment(Token.created),
            "last_used": q.moment(Token.last_used, nullable=True), "expires": q.moment(Token.expires, nullable=True)},
    ordering={"created": Token.created, "name": Token.name, "last_used": Token.last_used},
    default_ordering=("created",),
    tiebreaker=Token.id,
    output=("id", "resource_uri", "name", "created", "last_used", "expires", "_links"),
    described={
        "last_used": q.Out("datetime", "When it last signed a request in (to the minute).", nullable=True),
        "expires": q.Out("datetime", "When it stops working; null: never.", nullable=True),
    },
)


def list_tokens(request):
    return collection_response(request, request.context, TOKEN_LISTING, represent_token)


def create_token(request):
    data = request.validated
    token, key = service.new_token(request.db, request.identity.user, data.get("name", ""), data.get("expires"))
    node = request.context.wrap(token)
    return created_response(request, node, lambda request, node, depth: represent_token(request, node, key=key))


def get_token(request):
    return object_response(request, request.context, represent_token, TOKEN_LISTING)


def delete_token(request):
    request.db.delete(request.context.row)
    request.db.flush()
    return responses.no_content()


def login(request):
    settings = request.registry.settings
    data = request.validated
    with request.login_attempt(data["username"]) as attempt:  # 429 while limited, before any password check
        result = service.login(request.db, data["username"], data["password"], settings["hyperapi.login_token_ttl"])
        if result is None:
            attempt.failed()
            raise APIError(401, "Unable to sign in with this username and password.",
                           headers={"WWW-Authenticate": "Token"})
    token, key = result
    tokens = request.context.__parent__["tokens"]
    node = tokens.wrap(token)
    body = {"token": key, "username": data["username"], **represent_token(request, node)}
    return json_response(request, body, status=201, headers={"Location": request.host_url + path(request, node)})


def declare():
    USERS.declare()
    add_view(Account, "GET", get_account, Permission.ACCOUNT)
    add_view(Account, "PATCH", update_account, Permission.ACCOUNT,
             Body(account_schema, PATCH, READONLY | {"username", "is_superuser"}, account_current))
    add_view(Login, "POST", login, Permission.CREATE, Body(login_schema, CREATE))
    add_view(TokenContainer, "GET", list_tokens, Permission.ACCOUNT, listing=TOKEN_LISTING)
    add_view(TokenContainer, "POST", create_token, Permission.ACCOUNT,
             Body(token_schema, CREATE, READONLY | {"key", "last_used"}))
    add_view(TokenNode, "GET", get_token, Permission.VIEW)
    add_view(TokenNode, "DELETE", delete_token, Permission.DELETE)


declare()
