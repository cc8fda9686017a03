"""`user add`, `user list`, `user passwd`."""

from __future__ import annotations

import colander

from ..schemas import user_create_schema
from ..services import users as user_service
from ..services.exceptions import DomainError
from . import output, passwords
from .failures import CommandError


def find_user(db, site, username: str):
    user = user_service.by_username(db, username)
    if user is None:
        raise CommandError(f"there is no user {username!r}", f"`{site.command('user', 'list')}` shows who there is")
    return user


def add(args, site, out) -> None:
    data = {"username": args.username, "is_superuser": args.superuser, "full_name": args.full_name}
    if args.email:
        data["email"] = args.email
    # Everything but the password is checked before anybody is asked to type one.
    without_password = user_create_schema()
    del without_password["password"]
    validated(without_password, data)
    with site.transaction() as db:
        if user_service.by_username(db, args.username) is not None:
            raise CommandError(f"there is already a user {args.username!r}",
                               "choose another username, or give them a new password with "
                               f"`{site.command('user', 'passwd', args.username)}`")
    data["password"] = passwords.read(args, f"Password for {args.username}: ")
    data = validated(user_create_schema(), data)
    with site.transaction() as db:
        try:
            user = user_service.create(db, data)
        except DomainError as exc:
            raise refused(exc, data) from exc
        print(f"Created user {user.username}{' (superuser)' if user.is_superuser else ''}.", file=out)


def list_users(args, site, out) -> None:
    with site.transaction() as db:
        users = [{"username": u.username, "full_name": u.full_name, "is_superuser": u.is_superuser, "email": u.email}
                 for u in user_service.list_all(db)]
    if args.json:
        output.as_json(out, users)
    elif not users:
        print(f"No users yet; add one with `{site.command('user', 'add', 'NAME')}`.", file=out)
    else:
        output.table(out, ["USERNAME", "FULL NAME", "SUPERUSER", "EMAIL"],
                     [[u["username"], u["full_name"], "yes" if u["is_superuser"] else "no", u["email"] or ""]
                      for u in users])


def passwd(args, site, out) -> None:
    with site.transaction() as db:
        find_user(db, site, args.username)
    password = passwords.read(args, f"New password for {args.username}: ")
    validated(user_create_schema()["password"], password)
    with site.transaction() as db:
        revoked = user_service.set_password(db, find_user(db, site, args.username), password)
    if revoked:
        tokens = "1 token: whoever used it" if revoked == 1 else f"{revoked} tokens: whoever used them"
        print(f"Changed the password of {args.username} and revoked {tokens} must sign in again.", file=out)
    else:
        print(f"Changed the password of {args.username} (who had no tokens to revoke).", file=out)


def validated(schema: colander.SchemaNode, data):
    try:
        return schema.deserialize(data)
    except colander.Invalid as exc:
        raise CommandError(_fields(exc.asdict(), data if isinstance(data, dict) else {})) from None


def refused(exc: DomainError, data: dict) -> CommandError:
    """A service's refusal (a taken username or email, a reserved word), in the command's words."""
    return CommandError(_fields(exc.errors, data) if exc.errors else exc.message)


def _fields(errors: dict, data: dict) -> str:
    parts = []
    for field, message in errors.items():
        value = data.get(field) if field != "password" else None  # a password is never repeated
        shown = f" {value!r}" if isinstance(value, str) and value else ""
        parts.append(f"invalid {field.replace('_', ' ')}{shown}: {message}")
    return "; ".join(parts)
