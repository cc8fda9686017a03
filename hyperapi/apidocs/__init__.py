"""The API described, from the declarations that run it: each collection's `schema/` (`describe`)
and the OpenAPI document (`openapi`)."""
