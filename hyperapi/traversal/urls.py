"""The URL of a node, for `request.resource_path` / `resource_url`, without Pyramid's segment cache.

Pyramid's own adapter quotes each path segment through `pyramid.traversal.quote_path_segment`, which
keeps every segment it has ever quoted in a module-level dict that is never emptied (its docstring
warns that arbitrary values make it "a memory leak"). Our segments are the ids of parties, resources,
tokens…: one entry per entity whose URL the process has ever written, for the process's lifetime — the
soak run saw it grow with every party created. This adapter makes the same URLs (same quoting, same
virtual-root handling) and keeps nothing; quoting a short id costs a microsecond. A node whose
`trailing_slash` is false (a file's `content`, `openapi.json`) gets none.
"""

from pyramid.encode import url_quote
from pyramid.traversal import PATH_SEGMENT_SAFE, ResourceURL, resource_path_tuple


def join_path_tuple(segments: tuple) -> str:
    return segments and "/".join(url_quote(str(segment), PATH_SEGMENT_SAFE) for segment in segments) or "/"


class UncachedResourceURL(ResourceURL):
    def __init__(self, resource, request):
        physical_path_tuple = resource_path_tuple(resource)
        physical_path = join_path_tuple(physical_path_tuple)
        if physical_path_tuple != ("",) and getattr(resource, "trailing_slash", True):
            physical_path_tuple = physical_path_tuple + ("",)
            physical_path = physical_path + "/"
        virtual_path, virtual_path_tuple = physical_path, physical_path_tuple
        vroot_path = request.environ.get(self.VH_ROOT_KEY)
        if vroot_path is not None:  # trim a virtual root off the front, as Pyramid does
            vroot_path = vroot_path.rstrip("/")
            if vroot_path and physical_path.startswith(vroot_path):
                numels = len(tuple(vroot_path.split("/")))
                virtual_path_tuple = ("",) + physical_path_tuple[numels:]
                virtual_path = physical_path[len(vroot_path):]
        self.virtual_path = virtual_path
        self.physical_path = physical_path
        self.virtual_path_tuple = virtual_path_tuple
        self.physical_path_tuple = physical_path_tuple


def includeme(config):
    config.add_resource_url_adapter(UncachedResourceURL)
