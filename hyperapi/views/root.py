from ..authz import Permission
from ..traversal import ApiRoot
from .common import add_view, api_path, json_response, link

TOP_LEVEL = ("organizations", "projects", "users", "account")


def api_root(request):
    body = {name: {"list_endpoint": api_path(request, name)} for name in TOP_LEVEL}
    body["_links"] = {"self": link(api_path(request)), **{name: link(api_path(request, name)) for name in TOP_LEVEL}}
    return json_response(request, body)


def declare():
    add_view(ApiRoot, "GET", api_root, Permission.VIEW)


declare()
