from ..authz import Permission
from ..traversal import ApiRoot, Selection, SetNode
from .common import add_view, api_path, link, render, request_shape, set_response
from .errors import not_found

TOP_LEVEL = ("organizations", "projects", "users", "account")


def api_root(request):
    fmt, _ = request_shape(request)
    body = {name: {"list_endpoint": api_path(request, name)} for name in TOP_LEVEL}
    body["_links"] = {"self": link(api_path(request)), **{name: link(api_path(request, name)) for name in TOP_LEVEL}}
    return render(request, body, fmt=fmt)


def no_such_set(request):
    raise not_found(request)


def declare():
    add_view(ApiRoot, "GET", api_root, Permission.VIEW)
    add_view(Selection, "GET", set_response, Permission.VIEW)
    add_view(SetNode, "GET", no_such_set, Permission.VIEW)


declare()
