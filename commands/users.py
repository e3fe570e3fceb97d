"""``user``: who may sign in to the app, and their roles (add, list, remove, set-role, passwd, unlock)."""

from __future__ import annotations

import argparse
import sys

from commands._common import EXIT_BAD_INPUT, EXIT_OK, audit, print_json
from geo.errors import GridAtlasError
from geo.users import UserError


def _read_new_password(stdin=None) -> str:
    """The new password, typed twice: prompted without echo on a terminal, else two lines on standard input."""
    import getpass

    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("password: ")
        second = getpass.getpass("password again: ")
    else:
        lines = stdin.read().splitlines()
        if len(lines) < 2:
            raise UserError("give the password twice on standard input (two lines), e.g. "
                            "printf '%s\\n%s\\n' \"$PW\" \"$PW\" | python cli.py user add NAME --role ROLE",
                            code="user.password_twice")
        first, second = lines[0], lines[1]
    if first != second:
        raise UserError("the two passwords differ; nothing was changed", code="user.password_mismatch")
    return first


def _cmd_user(args: argparse.Namespace) -> int:
    from geo.users import UserStore

    store = UserStore()

    def record(action: str, target: str, detail: str = "") -> None:
        audit(action, target=target, detail=detail, role="admin")

    try:
        if args.user_command == "list":
            print_json({"users": [{"name": u.name, "role": u.role, "email": u.email, "created_at": u.created_at,
                                   "locked_until": u.locked_until if u.locked() else None} for u in store.list()],
                        "open": not store.has_users()})
            return EXIT_OK
        if args.user_command == "add":
            user = store.add(args.name, _read_new_password(), args.role, email=args.email)
            record("user_add", user.name, f"role {user.role}")
        elif args.user_command == "remove":
            before = store.get(args.name)
            store.remove(args.name)
            record("user_remove", args.name.strip(), f"role {before.role}" if before else "")
        elif args.user_command == "set-role":
            before = store.get(args.name)
            user = store.set_role(args.name, args.role)
            record("user_role", user.name, f"{before.role} -> {user.role}" if before else user.role)
        elif args.user_command == "passwd":
            user = store.set_password(args.name, _read_new_password())
            record("user_password", user.name)
        elif args.user_command == "unlock":
            user = store.unlock(args.name)
            record("user_unlock", user.name)
    except GridAtlasError as err:  # in the chosen language (err.<code> in i18n/strings/auth.py)
        from i18n import error_text

        print(f"error: {error_text(err, lang=args.lang)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print_json({"user": args.name.strip(), "done": args.user_command,
                "role": getattr(store.get(args.name), "role", None), "users": len(store.list())})
    return EXIT_OK


def add_user(sub: argparse._SubParsersAction) -> None:
    from geo.users import ROLES

    p = sub.add_parser("user", help="users who may sign in to the app, and their roles (kept in GRIDATLAS_HOME)")
    users = p.add_subparsers(dest="user_command", required=True)
    add = users.add_parser("add", help="add a user; the password is read from standard input, twice, never "
                                       "from an argument")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--email", default=None, help="e-mail that single sign-on (st.login) matches")
    users.add_parser("list", help="every user with role and lock, as JSON")
    rm = users.add_parser("remove", help="remove a user (not the last admin)")
    rm.add_argument("name")
    sr = users.add_parser("set-role", help="change a user's role (applies at the user's next click)")
    sr.add_argument("name")
    sr.add_argument("role", choices=ROLES)
    pw = users.add_parser("passwd", help="set a new password (from standard input, twice); ends the user's sessions")
    pw.add_argument("name")
    ul = users.add_parser("unlock", help="lift a lock-out after repeated wrong passwords")
    ul.add_argument("name")
    p.set_defaults(func=_cmd_user)
