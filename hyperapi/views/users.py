"""People: users (`/users/`), the caller's own account (`/account/`), its tokens, and signing in."""

from ..auth.rules import Permission
from ..renderers import Answer
from ..representations import users
from ..representations.links import path
from ..schemas import CREATE, PATCH, account_schema, login_schema, token_schema, user_create_schema, user_update_schema
from ..services import tokens
from ..services import users as service
from ..traversal import Account, Login, TokenContainer, TokenNode, UserContainer, UserNode
from ..web.errors import APIError
from .answers import collection_answer, created, deleted, object_answer, shape_of
from .bodies import Body
from .viewset import READONLY, ViewSet


def create_user(request, container: UserContainer, data):
    return service.create(request.db, data)


def update_user(request, node: UserNode, data):
    service.update(request.db, node.row, data, by=request.identity.user)


def delete_user(request, node: UserNode):
    service.delete(request.db, node.row)


# --- the caller: /account/, its tokens, and signing in ----------------------------------------------


def account_current(request):
    values = users.represent_account(request)
    values.pop("email")  # the caller may change it
    return values


def get_account(request):
    shape_of(request)
    return Answer(users.represent_account(request))


def update_account(request):
    user = request.identity.user
    service.update_account(request.db, user, dict(request.validated))
    return Answer(users.represent_account(request))


def create_token(request):
    data = request.validated
    token, key = service.new_token(request.db, request.identity.user, data.get("name", ""), data.get("expires"))
    node = request.context.wrap(token)
    return created(request, node, lambda request, node, depth: users.represent_token(request, node, key=key))


def get_token(request):
    return object_answer(request, request.context, users.represent_token, users.TOKEN_LISTING)


def delete_token(request):
    tokens.revoke(request.db, request.context.row)
    return deleted()


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
    node = request.context.__parent__["tokens"].wrap(token)
    request.response.status_code = 201
    body = {"token": key, "username": data["username"], **users.represent_token(request, node)}
    return Answer(body, headers={"Location": request.host_url + path(request, node)})


def includeme(config):
    ViewSet(
        container=UserContainer,
        item=UserNode,
        represent=users.represent,
        listing=users.LISTING,
        schema=user_update_schema,
        create_schema=user_create_schema,
        create=create_user,
        update=update_user,
        delete=delete_user,
        readonly=READONLY | {"username"},
        replaceable=False,
    ).register(config)
    config.add_api_view(Account, "GET", get_account, Permission.ACCOUNT)
    config.add_api_view(Account, "PATCH", update_account, Permission.ACCOUNT,
                        Body(account_schema, PATCH, READONLY | {"username", "is_superuser"}, account_current))
    config.add_api_view(Login, "POST", login, Permission.CREATE, Body(login_schema, CREATE))
    config.add_api_collection(TokenContainer, users.TOKEN_LISTING, users.represent_token, selectable=False)
    config.add_api_view(TokenContainer, "GET", collection_answer, Permission.ACCOUNT)
    config.add_api_view(TokenContainer, "POST", create_token, Permission.ACCOUNT,
                        Body(token_schema, CREATE, READONLY | {"key", "last_used"}))
    config.add_api_view(TokenNode, "GET", get_token, Permission.VIEW)
    config.add_api_view(TokenNode, "DELETE", delete_token, Permission.DELETE)
