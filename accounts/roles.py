"""Roles and what each may do, defined once; API permissions and dashboard views ask here."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Capability(StrEnum):
    READ = "read"  # see the company's data sources, chatbots, conversations, analytics
    MANAGE_CONTENT = "manage_content"  # upload and manage data sources and chatbots
    MANAGE_INTEGRATIONS = "manage_integrations"  # widget/iframe/API integrations: origins, rotate, revoke
    MANAGE_KEYS = "manage_keys"  # company API keys
    MANAGE_WEBHOOKS = "manage_webhooks"  # webhook endpoints, their secrets and delivery logs
    MANAGE_MEMBERS = "manage_members"  # invite, remove, change roles
    MANAGE_COMPANY = "manage_company"  # company name, logo, plan
    CHANGE_OWNER = "change_owner"
    DELETE_COMPANY = "delete_company"


_MEMBER = {Capability.READ, Capability.MANAGE_CONTENT}
_ADMIN = _MEMBER | {Capability.MANAGE_INTEGRATIONS, Capability.MANAGE_KEYS, Capability.MANAGE_WEBHOOKS,
                    Capability.MANAGE_MEMBERS, Capability.MANAGE_COMPANY}
_OWNER = _ADMIN | {Capability.CHANGE_OWNER, Capability.DELETE_COMPANY}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.MEMBER: frozenset(_MEMBER),
}


def role_allows(role: str, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())


# The roles an invitation or a role change may give; ownership moves only by a transfer.
ASSIGNABLE_ROLES = [(role.value, role.label) for role in (Role.ADMIN, Role.MEMBER)]
