"""Who may do what: the rule table (`rules`), the caller (`identity`), the policy that asks the tree's
ACLs (`policy`), the same rules as SQL over whole tables (`visibility`), passwords and keys
(`passwords`), and the limit on guessing them (`ratelimit`)."""

from .policy import SecurityPolicy


def includeme(config):
    config.set_security_policy(SecurityPolicy())
    config.include(".ratelimit")
