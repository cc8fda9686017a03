"""Projects: an organization's (`…/projects/[{prj}/]`), and every one the caller may see (`/projects/`)."""

from ..auth.rules import Permission
from ..representations import organizations, projects
from ..schemas import project_schema
from ..services import projects as service
from ..traversal import AllProjects, ProjectContainer, ProjectNode
from .answers import collection_answer
from .viewset import READONLY, ViewSet


def create(request, container: ProjectContainer, data):
    return service.create(request.db, container.organization, data)


def update(request, node: ProjectNode, data):
    service.update(request.db, node.organization, node.row, data)


def delete(request, node: ProjectNode):
    service.delete(request.db, request.files, node.row)


def organization_spellings(request):
    """A form may name the new project's organization: it can only be this one."""
    return {"organization": organizations.spellings(request, request.context.__parent__)}


def includeme(config):
    ViewSet(
        container=ProjectContainer,
        item=ProjectNode,
        represent=projects.represent,
        listing=projects.LISTING,
        schema=project_schema,
        create=create,
        update=update,
        delete=delete,
        readonly=READONLY | {"organization"},
        create_readonly_values=organization_spellings,
    ).register(config)
    config.add_api_collection(AllProjects, projects.LISTING, projects.represent, selectable=False)
    config.add_api_view(AllProjects, "GET", collection_answer, Permission.VIEW)
