"""`token create`, `token list`, `token revoke`. A key is printed once, by `create`; nothing shows it
(or its hash) again."""

from __future__ import annotations

from ..models import utcnow
from ..services import tokens as token_service
from ..services import users as user_service
from . import output
from .failures import CommandError
from .users import find_user


def create(args, site, out) -> None:
    with site.transaction() as db:
        _, key = user_service.new_token(db, find_user(db, site, args.username), name=args.name)
    print(key, file=out)  # alone on its line, for scripts: KEY=$(hyperapi … token create NAME)


def list_tokens(args, site, out) -> None:
    with site.transaction() as db:
        tokens = token_service.list_for(db, find_user(db, site, args.username))
    if args.json:
        output.as_json(out, [{"id": t.id, "name": t.name, "created": output.moment(t.created),
                              "last_used": output.moment(t.last_used), "expires": output.moment(t.expires)}
                             for t in tokens])
    elif not tokens:
        print(f"{args.username} has no tokens.", file=out)
    else:
        now = utcnow()
        output.table(out, ["ID", "NAME", "CREATED", "LAST USED", "EXPIRES"],
                     [[t.id, t.name, output.short_moment(t.created), output.short_moment(t.last_used),
                       output.short_moment(t.expires) + (" (expired)" if t.expires and t.expires <= now else "")]
                      for t in tokens])


def revoke(args, site, out) -> None:
    with site.transaction() as db:
        if args.all:
            revoked = token_service.revoke_all(db, find_user(db, site, args.target))
            print(f"Revoked {revoked} token{'' if revoked == 1 else 's'} of {args.target}.", file=out)
            return
        token = token_service.get(db, args.target)
        if token is None:
            if user_service.by_username(db, args.target) is not None:
                listing = site.command("token", "list", args.target)
                raise CommandError(f"{args.target!r} is a user, not a token id",
                                   f"to revoke all their tokens add --all; `{listing}` shows their tokens' ids")
            raise CommandError(f"there is no token with the id {args.target!r}",
                               f"`{site.command('token', 'list', 'NAME')}` shows the ids of a user's tokens")
        description = f"token {token.id} ({token.name or 'no name'}) of {token.user.username}"
        token_service.revoke(db, token)
    print(f"Revoked {description}.", file=out)
