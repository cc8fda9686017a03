"""The data model. It knows nothing of Pyramid: the web layer wraps these rows in traversal nodes."""

from .history import ACTIONS, HistoryEntry  # noqa: F401
from .meta import Base, isoformat, metadata, random_id, utcnow  # noqa: F401
from .organization import ACCESS_CHOICES, ORGANIZATION_ROLES, Organization, OrganizationMember  # noqa: F401
from .party import PARTY_TYPES, Party  # noqa: F401
from .project import PROJECT_ROLES, Project, ProjectMember  # noqa: F401
from .resource import ENTITY_TYPES, Resource, ResourceAttachment, ResourceFile, target_of  # noqa: F401
from .user import Token, User  # noqa: F401
