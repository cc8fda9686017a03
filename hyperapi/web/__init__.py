"""What every request meets around the views: limits, CORS, the credential check, the last-resort
answer to any error, and the exception views that turn every error into the SPEC's error body."""


def includeme(config):
    config.include(".tweens")
    config.include(".limits")
    config.include(".cors")
    config.include(".exception_views")
