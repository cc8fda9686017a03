"""The browsable API (SPEC §6): the same URLs, drawn as HTML pages for a browser.

A GET that asks for `text/html` (`Accept`, or `format=html`) gets a page of the very representation
the JSON would carry: its fields, every link the caller may follow made clickable, a collection's
pagination and the filter inputs its `Listing` declares, and forms to create, edit, upload and delete
— each only where the caller holds the permission the API's own view will check.

How it fits the rest:

- Pages are drawn by Jinja2 with autoescaping on for every template, so every value (party names and
  attributes are user data) is text, never markup. A strict `Content-Security-Policy` (scripts only
  from this app, no inline script, no inline style) keeps a stored `<script>` inert twice over.
- Forms come from what the API registered: for the context's type, the methods declared through
  `config.add_api_view` with their permission and their Colander schema. A form is drawn when
  `request.has_permission(<that permission>, context)` holds — the same check the view makes.
- A link is drawn as a link only when its target answers the caller: its path is traversed from the
  root and the permission of that node's GET view is asked, so a link the caller could not follow is
  plain text (or, for a sub-collection, absent).
- Sign-in stays header-only. The token lives in the tab's `sessionStorage`; `static/app.js` fetches
  every page and sends every form with `Authorization: Token …` and swaps the document. No cookie is
  ever set, so there is no session to ride and nothing for CSRF to forge, exactly as for any client.
- Errors a browser asked for are drawn as pages here too, by a tween: same status and headers, the
  page built only from the error body and the URL (never from the traversed context), so a hidden
  entity's 404 page is byte for byte a missing one's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import colander
import jinja2
from pyramid.location import lineage
from pyramid.response import Response

from ..listing import Listing
from ..renderers import Answer, finish
from ..renderers.negotiation import wants_html
from ..representations.links import path
from ..schemas import fieldtypes as schema_types
from ..traversal import base
from ..traversal.resources import NestedResourceNode

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("hyperapi.browsable", "templates"),
    autoescape=True,  # every template, whatever its name: nothing reaches a page unescaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Fields holding what people typed: never turned into links, whatever they look like.
USER_DATA = frozenset({"name", "description", "attributes", "contacts", "full_name", "original_file"})
# Columns of a collection's table that say little in a row.
QUIET_COLUMNS = frozenset({"resource_uri", "_links", "version", "description", "sha256"})
OPERATOR_ORDER = ("exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
                  "gt", "gte", "lt", "lte", "in", "isnull")
PREFERRED_OPERATOR = {"text": "icontains", "datetime": "gte", "integer": "gte"}


# --- links ----------------------------------------------------------------------------------------


def node_at(request, href: str):
    """The node of the tree an API path names, or None (nothing there)."""
    prefix = request.script_name + "/api/"
    address = urlsplit(href).path
    if not address.startswith(prefix):
        return None
    node = request.root
    try:
        for segment in address[len(request.script_name):].split("/"):
            if segment:
                node = node[unquote(segment)]
    except KeyError:
        return None
    return node


def can_get(request, node) -> bool:
    get = request.registry.api_views.methods(type(node)).get("GET")
    return get is not None and bool(request.has_permission(str(get.permission), node))


def followable(request, href) -> bool:
    """Whether a GET of `href` would answer this caller (memoized per request)."""
    if not isinstance(href, str):
        return False
    memo = request.__dict__.setdefault("_hyperapi_followable", {})
    address = urlsplit(href).path
    if address not in memo:
        node = node_at(request, href)
        memo[address] = node is not None and can_get(request, node)
    return memo[address]


def is_download(href: str) -> bool:
    return urlsplit(href).path.rstrip("/").endswith("/content")


def external_url(value) -> bool:
    return isinstance(value, str) and urlsplit(value).scheme in ("http", "https") and " " not in value


def page_links(request, context, body, collection: bool) -> list[tuple[str, str]]:
    """(rel, href) of the links to show: the representation's own, then the node's sub-collections,
    each only if the caller may follow it."""
    found: list[tuple[str, str]] = []
    own = body.get("_links", {})
    if collection:  # its pages are drawn as the pager; its schema and the API's document as links
        own = {rel: value for rel, value in own.items() if rel in ("describedby", "service-desc")}
    for rel, value in own.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and followable(request, item.get("href")):
                found.append((rel, item["href"]))
    if collection or not own:
        parent = context.__parent__
        if parent is not None and followable(request, path(request, parent)):
            found.append(("up", path(request, parent)))
    for name in getattr(type(context), "children", {}):
        if issubclass(type(context).children[name], (base.SetNode, base.CollectionSchema)):
            continue  # a collection's own `set/` and `schema/`: not places to browse to
        child = context[name]
        if can_get(request, child):
            found.append((name, path(request, child)))
    seen, unique = set(), []
    for rel, href in found:
        if href.rstrip("/") not in seen:  # `…/content` and `…/content/` are one resource
            seen.add(href.rstrip("/"))
            unique.append((rel, href))
    return unique


def breadcrumbs(request, context) -> list[tuple[str, str]]:
    """(text, href) from the API root down to the context (every ancestor of a page is visible)."""
    trail = []
    for node in lineage(context):
        if node.__parent__ is None or node.__parent__.__parent__ is None:
            break  # the site root and /api/ are no pages
        row = getattr(node, "row", None)
        text = getattr(row, "name", None) or getattr(row, "username", None) or node.__name__
        if node.__parent__.__parent__.__parent__ is None:
            text = "API"
        trail.append((str(text), path(request, node)))
    return list(reversed(trail))


# --- forms ----------------------------------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # text | textarea | password | bool | choice | json | file
    required: bool = False
    value: str = ""
    checked: bool = False
    choices: tuple = ()
    hint: str = ""


@dataclass
class Form:
    title: str
    method: str
    action: str
    fields: list[FormField] = field(default_factory=list)
    multipart: bool = False
    submit: str = "Save"
    next: str = ""  # where to go after a 204


def _field(node: colander.SchemaNode, current: dict | None) -> FormField:
    typ = node.typ
    required = node.missing is colander.required
    if current is None:  # a create form shows the defaults the API would apply
        value = None if node.missing in (colander.drop, colander.required) else node.missing
    else:
        value = current.get(node.name)
    if isinstance(typ, schema_types.Bool):
        return FormField(node.name, "bool", checked=bool(value))
    if isinstance(typ, schema_types.Choice):
        return FormField(node.name, "choice", required, value="" if value is None else str(value),
                         choices=typ.choices)
    if isinstance(typ, schema_types.JSONValue):
        text = "" if value is None else json.dumps(value, ensure_ascii=False, indent=1)
        hint = {schema_types.URLList: '["https://example.org"]',
                schema_types.HCardList: '[{"type": ["h-card"], "properties": {"name": ["A"]}}]'}.get(type(typ), "{}")
        return FormField(node.name, "json", required, value=text, hint=hint)
    if isinstance(typ, schema_types.DateTimeUTC):
        return FormField(node.name, "text", required, value=value or "", hint="2030-01-01T00:00:00Z")
    if node.name in ("password", "current_password"):
        return FormField(node.name, "password", required)
    long_text = isinstance(typ, schema_types.Text) and (typ.max_length or 0) > 1000
    text = "" if value is None else str(value)
    hint = "ISO 3166 code, like UG" if isinstance(typ, schema_types.CountryCode) else ""
    return FormField(node.name, "textarea" if long_text else "text", required, value=text, hint=hint)


def _form_for(request, context, body, method: str, spec) -> Form:
    here = path(request, context)
    if method == "DELETE":
        detach = isinstance(context, NestedResourceNode)  # under an entity, a DELETE detaches
        return Form("Detach from here" if detach else "Delete", "DELETE", here,
                    submit="Detach" if detach else "Delete", next=path(request, context.__parent__))
    schema = spec.schema()
    current = None if method == "POST" else body
    fields = [_field(child, current) for child in schema.children]
    fields = [FormField(name, "file", method == "POST") for name in sorted(spec.files)] + fields
    label = getattr(context, "label", "entry")
    if method == "POST":
        noun = getattr(getattr(context, "item_class", None), "label", label).lower()
        title = f"Upload a new {noun}" if spec.files else f"Create a new {noun}"
        submit = "Upload" if spec.files else "Create"
    else:
        title, submit = f"Edit this {label.lower()}", "Save"
    return Form(title, method, here, fields, multipart=bool(spec.files), submit=submit)


def forms(request, context, body) -> list[Form]:
    """The forms of the writes registered for this node that the caller may make."""
    out = []
    for method, declared in request.registry.api_views.methods(type(context)).items():
        if method not in ("POST", "PATCH", "DELETE") or not request.has_permission(str(declared.permission), context):
            continue
        out.append(_form_for(request, context, body, method, declared.body))
    order = {"POST": 0, "PATCH": 1, "DELETE": 2}
    return sorted(out, key=lambda form: order[form.method])


# --- collections ----------------------------------------------------------------------------------


@dataclass
class Filter:
    name: str
    kind: str
    operators: list[str]
    operator: str
    value: str
    choices: tuple = ()


def filters(request, listing: Listing) -> list[Filter]:
    """One input per declared field, with its allowed operators, filled from the query string."""
    out = []
    for name, declared in listing.fields.items():
        operators = sorted(declared.allowed(), key=OPERATOR_ORDER.index)
        preferred = PREFERRED_OPERATOR.get(declared.kind, "exact")
        operator, value = preferred if preferred in operators else operators[0], ""
        for op in operators:
            key = name if op == "exact" else f"{name}__{op}"
            if key in request.GET:
                operator, value = op, request.GET.getall(key)[-1]
                break
        choices = ("true", "false") if declared.kind == "bool" else declared.choices
        out.append(Filter(name, declared.kind, operators, operator, value, tuple(choices)))
    return out


def ordering_choices(listing: Listing) -> list[str]:
    return [prefix + name for name in listing.ordering for prefix in ("", "-")]


def columns(objects: list[dict]) -> list[str]:
    """The scalar fields of the listed objects, in the order of their representation."""
    seen: list[str] = []
    for obj in objects:
        for key, value in obj.items():
            if key not in seen and key not in QUIET_COLUMNS and not isinstance(value, (dict, list)):
                seen.append(key)
    return seen


# --- pages ----------------------------------------------------------------------------------------


def signed_in(request) -> bool:
    """Whether the request carried credentials (they were accepted, or this is a 401)."""
    return "Authorization" in request.headers


def _username(request) -> str | None:
    identity = request.identity
    return identity.user.username if identity is not None else None


def static(request, name: str) -> str:
    return request.static_path(f"hyperapi.browsable:static/{name}")


def title_of(request, context, body, collection: bool) -> str:
    if collection:
        plural = getattr(context, "plural", "resources").capitalize()
        owner = context.__parent__
        row = getattr(owner, "row", None)
        owner_name = getattr(row, "name", None) or getattr(row, "username", None)
        return f"{plural} of {owner_name}" if owner_name else plural
    if isinstance(context, base.Item):
        name = body.get("name") or body.get("username") or body.get("id") or context.__name__
        return f"{context.label} {name}"
    return getattr(context, "label", "hyperapi") if context.__parent__ is not None else "hyperapi"


def _finish(request, response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def page(request, answer: Answer) -> str:
    """The HTML page of a GET's representation."""
    context = request.context
    body, collection, links, listing = answer.body, answer.collection, answer.links, answer.listing
    view = {
        "request_path": request.path,
        "title": title_of(request, context, body, collection),
        "breadcrumbs": breadcrumbs(request, context),
        "signed_in": signed_in(request),
        "username": _username(request),
        "links": page_links(request, context, body, collection),
        "forms": forms(request, context, body) if not isinstance(context, base.Selection) else [],
        "collection": collection,
        "body": body,
        "static": lambda name: static(request, name),
        "follow": lambda href: followable(request, href),
        "is_download": is_download,
        "external": external_url,
        "user_data": USER_DATA,
        "api_root": request.script_name + "/api/v1/",
        "error": None,
    }
    if collection:
        objects = body.get("objects", [])
        meta = body.get("meta")
        view.update(objects=objects, columns=columns(objects), meta=meta, pages=links or {},
                    rest={k: v for k, v in body.items() if k not in ("objects", "meta")})
        if listing is not None and meta is not None:
            view.update(filters=filters(request, listing), searchable=bool(listing.search),
                        search=request.GET.get("search", ""), orderings=ordering_choices(listing),
                        ordering=request.GET.get("ordering", ""), limit=meta["limit"])
        else:
            view.update(filters=[], searchable=False, search="", orderings=[], ordering="", limit=None)
    return TEMPLATES.get_template("page.jinja2").render(view)


def html_renderer_factory(info):
    """The `html` format: the page of an `Answer`, with the headers every negotiated answer carries."""

    def render(value, system) -> bytes:
        request = system["request"]
        answer = value if isinstance(value, Answer) else Answer(value)
        data = page(request, answer).encode("utf-8")
        response = request.response
        response.content_type = "text/html"
        response.charset = "utf-8"
        finish(request, response, data, answer, negotiated=True)
        _finish(request, response)
        return data

    return render


# --- errors ---------------------------------------------------------------------------------------


def error_page(request, response: Response) -> Response:
    """An error response (our JSON body) as a page: same status, same headers, the body drawn from
    the error alone — nothing here looks at the traversed context or the caller's rows."""
    try:
        error = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(error, dict) or not isinstance(error.get("error"), str):
        return response
    text = TEMPLATES.get_template("error.jinja2").render(
        title=f"{response.status_int} {error['error']}",
        error=error,
        status=response.status,
        signed_in=signed_in(request),
        username=None,
        static=lambda name: static(request, name),
        api_root=request.script_name + "/api/v1/",
    )
    page_response = Response(text, status=response.status, content_type="text/html", charset="utf-8")
    for name, value in response.headerlist:
        if name.lower() not in ("content-type", "content-length"):
            page_response.headers.add(name, value)
    page_response.headers["Vary"] = "Authorization, Accept"
    return _finish(request, page_response)


def error_page_factory(handler, registry):
    """Outermost: every error the layers below made (views, credentials, limits, the last resort)
    reaches a browser as a page. JSON stays for every client that did not ask for HTML."""

    def error_pages(request):
        response = handler(request)
        if response.status_int < 400 or response.content_type != "application/json":
            return response
        if not wants_html(request):
            return response
        try:
            return error_page(request, response)
        except Exception:  # a page that cannot be drawn must not cost the client its answer
            log.exception("could not draw the error page of %s", request.path_info)
            return response

    return error_pages


def includeme(config):
    config.add_renderer("html", html_renderer_factory)
    config.add_static_view(name="static", path="hyperapi.browsable:static", cache_max_age=3600)
    config.add_tween("hyperapi.browsable.pages.error_page_factory", over="hyperapi.web.tweens.last_resort_factory")
