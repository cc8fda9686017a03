"""Files: where the bytes of resources live (`storage`, joined to the request's transaction) and what
an upload is allowed to be (`uploads`)."""

from .storage import FileTransaction, storage_from_settings
from .uploads import UploadPolicy


def includeme(config):
    settings = config.get_settings()
    storage = storage_from_settings(settings)
    config.registry["hyperapi.storage"] = storage

    def files(request) -> FileTransaction:
        return FileTransaction(storage, request.tm)

    def upload_policy(request) -> UploadPolicy:
        return UploadPolicy.from_settings(request.registry.settings)

    config.add_request_method(files, "files", reify=True)
    config.add_request_method(upload_policy, "upload_policy", reify=True)
