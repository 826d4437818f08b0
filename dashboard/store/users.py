"""The users: names, argon2 password hashes, roles, a disabled flag and a session generation, in one Redis
hash (``keys.USERS``, name -> JSON of ``User``).

Writers: ``python run.py user ...`` (``dashboard/cli.py``) and the web role once, for the first admin
(``ensure_first_admin``). Passwords are hashed with argon2-cffi's ``PasswordHasher`` at its standard
parameters (RFC 9106's low-memory profile); a hash made with other parameters is replaced at the next
successful check. Every change that must end a user's existing sessions (a new password, disabling, new
roles) raises ``generation``: a session records the generation it was made under and is void once it
differs. Names are lower-case (``Wang`` is ``wang``). Roles are checked against the geography by the
caller (``dashboard.domain.access.parse_roles``) and stored in their written form.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.domain.access import Role, check_roles, role_of
from dashboard.store import keys

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10  # the default; auth.min_password_length in the config
MAX_PASSWORD = 1024  # longer is refused: hashing must stay cheap to ask for
FIRST_ADMIN = "admin"
ADMIN_PASSWORD_ENV = "CB_ADMIN_PASSWORD"


class UserError(ValueError):
    """A request about users that cannot be done; ``field`` names the input that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        """``field``: name, password, roles; ``message``: one line saying what is wrong."""
        super().__init__(message)
        self.field = field


class NoSuchUser(UserError):
    """The user name is not known."""

    def __init__(self, name: str) -> None:
        """Name the unknown user."""
        super().__init__("name", f"no user {name!r}")


@dataclass(frozen=True)
class User:
    """One user as stored."""

    name: str
    password_hash: str
    roles: tuple[str, ...]
    disabled: bool
    created_ms: int
    changed_ms: int
    generation: int  # raised by every change that ends existing sessions

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> User:
        """A stored user back."""
        d = json.loads(raw)
        return cls(
            name=str(d["name"]),
            password_hash=str(d["password_hash"]),
            roles=tuple(str(r) for r in d["roles"]),
            disabled=bool(d["disabled"]),
            created_ms=int(d["created_ms"]),
            changed_ms=int(d["changed_ms"]),
            generation=int(d["generation"]),
        )

    def role_set(self) -> tuple[Role, ...]:
        """The roles as domain objects (``dashboard.domain.access.Access`` takes them)."""
        return tuple(role_of(r) for r in self.roles)

    def public(self) -> dict[str, Any]:
        """Everything but the hash (what a listing shows)."""
        d = asdict(self)
        del d["password_hash"]
        d["roles"] = list(self.roles)
        return d


def normal_name(name: str) -> str:
    """A user name as stored (lower-case), or UserError naming the rule."""
    n = name.strip().lower()
    if not NAME_RE.match(n):
        raise UserError(
            "name", f"bad user name {name!r}: 1-64 of a-z 0-9 . _ -, starting with a letter or digit"
        )
    return n


def check_password(name: str, password: str, min_length: int = MIN_PASSWORD) -> None:
    """A password good enough to set: at least ``min_length`` characters (not counting spaces at either
    end), at most MAX_PASSWORD, not the user's name; UserError otherwise (the password is never shown)."""
    if not password.strip():
        raise UserError("password", "the password is empty")
    if len(password.strip()) < min_length:
        raise UserError("password", f"the password is too short: at least {min_length} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError("password", f"the password is too long: at most {MAX_PASSWORD} characters")
    if password.strip().lower() == name.lower():
        raise UserError("password", "the password must not be the user's name")


class Users:
    """The users in Redis (a client with ``decode_responses=True``)."""

    def __init__(
        self, client: redis.Redis, hasher: PasswordHasher | None = None, min_password: int = MIN_PASSWORD
    ) -> None:
        """``hasher``: argon2's standard one by default (tests pass a cheaper one)."""
        self.client: Any = client  # redis-py's stubs type transaction() callbacks as returning None
        self.hasher = hasher or PasswordHasher()
        self.min_password = min_password
        self._dummy: str | None = None  # a hash to verify against for unknown names (same time taken)

    def get(self, name: str) -> User | None:
        """The user, or None."""
        raw = self.client.hget(keys.USERS, normal_name(name))
        return User.from_json(str(raw)) if raw is not None else None

    def all(self) -> list[User]:
        """Every user, by name."""
        raw: dict[str, str] = self.client.hgetall(keys.USERS)
        return sorted((User.from_json(v) for v in raw.values()), key=lambda u: u.name)

    def count(self) -> int:
        """How many users there are."""
        return int(self.client.hlen(keys.USERS))

    def add(self, name: str, password: str, roles: Sequence[Role], now_ms: int) -> User:
        """A new user; UserError when the name is taken, a role set or the password is not acceptable."""
        name = normal_name(name)
        check_roles(roles)
        check_password(name, password, self.min_password)
        user = User(name, self.hasher.hash(password), tuple(map(str, sorted(set(roles)))), False,
                    now_ms, now_ms, 1)  # fmt: skip
        if not self.client.hsetnx(keys.USERS, name, user.to_json()):
            raise UserError("name", f"user {name!r} exists already")
        return user

    def set_password(self, name: str, password: str, now_ms: int) -> User:
        """A new password; the user's sessions end."""
        name = normal_name(name)
        check_password(name, password, self.min_password)
        hashed = self.hasher.hash(password)
        return self._update(name, lambda u: _changed(u, now_ms, password_hash=hashed))

    def set_disabled(self, name: str, disabled: bool, now_ms: int) -> User:
        """Disable (their sessions end and they cannot sign in) or enable a user."""
        return self._update(normal_name(name), lambda u: _changed(u, now_ms, disabled=disabled))

    def set_roles(self, name: str, roles: Sequence[Role], now_ms: int) -> User:
        """Replace a user's roles; their sessions end (they sign in again under the new scope)."""
        check_roles(roles)
        written = tuple(map(str, sorted(set(roles))))
        return self._update(normal_name(name), lambda u: _changed(u, now_ms, roles=written))

    def verify(self, name: str, password: str, now_ms: int) -> User | None:
        """The user when the password is theirs and they are enabled, else None (an unknown name takes as
        long as a wrong password). A hash of older parameters is replaced by one of the current ones."""
        try:
            user = self.get(name)
        except UserError:
            user = None
        if user is None or len(password) > MAX_PASSWORD:
            self._verify(self._dummy_hash(), password[:MAX_PASSWORD])
            return None
        if not self._verify(user.password_hash, password) or user.disabled:
            return None
        if self.hasher.check_needs_rehash(user.password_hash):
            fresh = self.hasher.hash(password)
            old = user.password_hash
            try:
                user = self._update(
                    user.name, lambda u: replace(u, password_hash=fresh) if u.password_hash == old else u
                )
            except NoSuchUser:
                return None
        return user

    def ensure_first_admin(self, password: str | None, now_ms: int) -> str | None:
        """When there is no user at all, create ``admin`` (role admin) with ``password``, else a generated
        one; return the password set (to show once), or None when there were users already. Safe when
        several web processes start at once: one of them creates it."""
        if password is not None:
            check_password(FIRST_ADMIN, password, self.min_password)
        chosen = password if password is not None else secrets.token_urlsafe(15)  # 20 characters
        user = User(FIRST_ADMIN, self.hasher.hash(chosen), ("admin",), False, now_ms, now_ms, 1)

        def create(pipe: Any) -> bool:
            if pipe.hlen(keys.USERS):
                return False
            pipe.multi()
            pipe.hset(keys.USERS, FIRST_ADMIN, user.to_json())
            return True

        created = self.client.transaction(create, keys.USERS, value_from_callable=True)
        return chosen if created else None

    def _update(self, name: str, change: Callable[[User], User]) -> User:
        """Read, change and write one user under WATCH (a concurrent change makes it try again)."""

        def tx(pipe: Any) -> User:
            raw = pipe.hget(keys.USERS, name)
            if raw is None:
                raise NoSuchUser(name)
            old = User.from_json(raw)
            new = change(old)
            pipe.multi()
            if new != old:
                pipe.hset(keys.USERS, name, new.to_json())
            return new

        result: User = self.client.transaction(tx, keys.USERS, value_from_callable=True)
        return result

    def _verify(self, hashed: str, password: str) -> bool:
        """Whether ``password`` matches ``hashed`` (a malformed hash matches nothing)."""
        try:
            return bool(self.hasher.verify(hashed, password))
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        """A hash of nothing anyone knows, made once."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy


def _changed(user: User, now_ms: int, **fields: Any) -> User:
    """The user with ``fields`` changed, the change time set and the session generation raised (no
    change when the fields are as they were: enabling an enabled user ends no session)."""
    new = replace(user, **fields)
    if new == user:
        return user
    return replace(new, changed_ms=now_ms, generation=user.generation + 1)
