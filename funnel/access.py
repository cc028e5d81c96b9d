"""Who may change what: the acting user, roles, and the check every write makes.

Three roles, each allowed what the one before it is plus more:

* **viewer** — every page and filter, exports, presentation mode; changes nothing stored.
* **editor** — stage settings, probabilities, SLA targets, scoring rules, thresholds and
  scenarios, saved reviews, targets and calls.
* **admin** — imports, reset to the sample data, restoring an earlier version, saved mappings.

Every library function that writes takes ``actor`` and calls :func:`require` first, so the check
holds below the UI: a hidden widget or a crafted session cannot write either. The acting user is
the ``actor`` argument when given, else the one bound to this thread or task by :func:`acting` /
:func:`bind`, else the local OS user as admin (the CLI, scripts, tests). The app binds the
session's user at the start of every script run *and* passes it explicitly to every write, so a
code path in the app that forgot the argument still acts as the signed-in user, never as admin.

Roles come from a small mapping (see :func:`role_for`): e-mail addresses, ``@domain`` entries and
``group:NAME`` entries (OIDC group claims) per role; a signed-in user matching nothing gets the
default role (viewer unless configured).
"""
from __future__ import annotations

import contextlib
import contextvars
import getpass
import os
from dataclasses import dataclass
from typing import Iterable, Mapping

from .errors import FunnelError
from .i18n import N_, Message, list_of, msg

ROLES = ("viewer", "editor", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}

# What each kind of change needs. Library functions name one of these permissions.
PERMISSIONS = {
    "view": "viewer",
    "edit": "editor",        # stages, probabilities, SLAs, rules, thresholds, scenarios, reviews, targets, calls
    "import": "admin",       # imports (files, presets), saved mappings
    "reset": "admin",        # reset to the sample data
    "restore": "admin",      # put an earlier version of the database back
}

# A sentence per permission for PermissionDenied: what it covers and who may do it.
_WHAT = {
    "view": N_("view the data"),
    "edit": N_("change stage settings, probabilities, SLA targets, scoring rules, scenarios, reviews, targets or calls"),
    "import": N_("import data or save mappings"),
    "reset": N_("reset the database to the sample data"),
    "restore": N_("restore an earlier version of the database"),
}
#: The roles as PermissionDenied names them: the plural (who may) and the role a person has.
_ROLES_PLURAL = {"viewer": N_("viewers"), "editor": N_("editors"), "admin": N_("admins")}
_ROLE_NAMES = {"viewer": N_("viewer"), "editor": N_("editor"), "admin": N_("admin")}


class PermissionDenied(FunnelError):
    """The acting user's role may not make this change; nothing was written."""

    code = "permission_denied"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a display name, an e-mail (None for a local OS user) and a role."""

    name: str
    role: str = "viewer"
    email: str | None = None

    def __post_init__(self):
        if self.role not in _RANK:
            raise ValueError(f"unknown role {self.role!r}; use one of {', '.join(ROLES)}")

    @property
    def label(self) -> str:
        """How the audit trail names this person: e-mail when known, else the name."""
        return self.email or self.name

    def as_dict(self) -> dict:
        return {"name": self.name, "email": self.email, "role": self.role}


def local_admin() -> Actor:
    """The person at the keyboard of a local install (CLI, scripts, the app on localhost without
    sign-in): the OS user, as admin. $FUNNEL_USER names them when set."""
    try:
        name = os.environ.get("FUNNEL_USER") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = "local user"
    return Actor(name=name, role="admin")


# ---------------------------------------------------------------------------------------------
# The acting user of this thread / task

_bound: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("funnel_actor", default=None)


def bind(actor: Actor | None) -> None:
    """Make ``actor`` the acting user of the current thread (the app does this on every run)."""
    _bound.set(actor)


@contextlib.contextmanager
def acting(actor: Actor):
    """``with acting(actor): …`` — writes inside act as ``actor`` unless given another."""
    token = _bound.set(actor)
    try:
        yield actor
    finally:
        _bound.reset(token)


def resolve(actor: Actor | None = None) -> Actor:
    """The acting user: ``actor``, else the one bound to this thread, else the local admin."""
    if actor is not None:
        return actor
    bound = _bound.get()
    return bound if bound is not None else local_admin()


def can(actor: Actor | None, permission: str) -> bool:
    """May ``actor`` (resolved as :func:`resolve` does) do ``permission``?"""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    who = resolve(actor)
    return _RANK[who.role] >= _RANK[PERMISSIONS[permission]]


def who_may(permission: str) -> str:
    """'editors and admins', 'admins' — the roles allowed ``permission``, for messages."""
    return _who_may(permission).render("en")


def _who_may(permission: str) -> Message:
    """:func:`who_may` as a message."""
    need = _RANK[PERMISSIONS[permission]]
    words = [msg(_ROLES_PLURAL[r]) for r in ROLES if _RANK[r] >= need]
    if len(words) == 1:
        return words[0]
    return msg("{some} and {last}", some=list_of(words[:-1]), last=words[-1])


def require(actor: Actor | None, permission: str) -> Actor:
    """The acting user, if they may do ``permission``; else PermissionDenied with a sentence that
    says who may. Every write function calls this before it touches anything."""
    who = resolve(actor)
    if can(who, permission):
        return who
    raise PermissionDenied(msg("Only {who} may {what}; {person} is signed in as {role}.", who=_who_may(permission),
                               what=msg(_WHAT[permission]), person=who.label, role=msg(_ROLE_NAMES[who.role])),
                           hint=msg("Ask an admin to give you that role (the roles are set in {file}, {section}).",
                               file=".streamlit/secrets.toml", section="[funnelcast.roles]"))


# ---------------------------------------------------------------------------------------------
# Roles from configuration


@dataclass(frozen=True)
class RoleConfig:
    """Entries per role: 'alice@example.com', '@example.com' (a whole domain), 'group:revops'."""

    admin: tuple[str, ...] = ()
    editor: tuple[str, ...] = ()
    viewer: tuple[str, ...] = ()
    default: str = "viewer"

    @classmethod
    def from_mapping(cls, cfg: Mapping | None) -> "RoleConfig":
        cfg = dict(cfg or {})
        default = str(cfg.get("default", "viewer")).strip().lower()
        if default not in _RANK:
            raise FunnelError(msg("The default role {role} is not one of {roles}.", role=repr(default),
                                               roles=", ".join(ROLES)),
                              hint=msg("Fix {setting} in {file}.", setting="[funnelcast.roles] default",
                                  file=".streamlit/secrets.toml"), code="config_error")

        def entries(key) -> tuple[str, ...]:
            raw = cfg.get(key) or ()
            if isinstance(raw, str):
                raw = [raw]
            return tuple(str(e).strip().lower() for e in raw if str(e).strip())
        return cls(admin=entries("admin"), editor=entries("editor"), viewer=entries("viewer"), default=default)


def _matches(entry: str, email: str, domain: str, groups: set[str]) -> bool:
    if entry.startswith("group:"):
        return entry[len("group:"):] in groups
    if entry.startswith("@"):
        return bool(domain) and entry[1:] == domain
    return bool(email) and entry == email


def role_for(email: str | None, groups: Iterable[str] = (), config: RoleConfig | None = None) -> str:
    """The highest role any entry of ``config`` gives this e-mail or these groups, else the default."""
    config = config or RoleConfig()
    email = (email or "").strip().lower()
    domain = email.rsplit("@", 1)[1] if "@" in email else ""
    group_set = {str(g).strip().lower() for g in groups or ()}
    for role in reversed(ROLES):      # admin first: the highest match wins
        if any(_matches(e, email, domain, group_set) for e in getattr(config, role)):
            return role
    return config.default


def actor_from_claims(claims: Mapping, config: RoleConfig | None = None) -> Actor:
    """The Actor for a signed-in user's OIDC claims (``st.user``): e-mail, name, groups."""
    email = claims.get("email") or claims.get("preferred_username") or claims.get("sub")
    groups = claims.get("groups") or claims.get("roles") or ()
    if isinstance(groups, str):
        groups = [groups]
    name = claims.get("name") or email or "signed-in user"
    return Actor(name=str(name), email=str(email) if email else None, role=role_for(email, groups, config))
