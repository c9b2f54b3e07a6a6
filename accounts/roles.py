"""The five roles and their permission matrix.

``MATRIX`` is the single source of truth: migrations create the groups,
``sync_role_permissions`` gives them exactly these model permissions after
every ``migrate``, ``docs/roles.md`` shows the same table, and
``accounts/tests/test_roles.py`` fails if any of the three disagree or a
model has no row. Object-level grants (per connector, per system) come on top,
through django-guardian.
"""

from django.db import models


class Role(models.TextChoices):
    ADMINISTRATOR = "Administrator"
    INTEGRATION_ENGINEER = "Integration engineer"
    DATA_STEWARD = "Data steward"
    AUDITOR = "Auditor"
    VIEWER = "Viewer"


VIEW = ("view",)
MANAGE = ("view", "add", "change", "delete")

A, E, S, AU, V = Role.ADMINISTRATOR, Role.INTEGRATION_ENGINEER, Role.DATA_STEWARD, Role.AUDITOR, Role.VIEWER

# "app_label.model_name" -> {role: actions}. A role absent from a row has no permission on it.
MATRIX: dict[str, dict[str, tuple[str, ...]]] = {
    "integrations.system": {A: MANAGE, E: MANAGE, S: VIEW, AU: VIEW, V: VIEW},
    "integrations.systemuserobjectpermission": {A: MANAGE, AU: VIEW},
    "integrations.systemgroupobjectpermission": {A: MANAGE, AU: VIEW},
    # Engineers create connectors and flows, and see and change those granted to them
    # (their own, or their group's) through django-guardian: see docs/roles.md.
    "integrations.connector": {A: MANAGE, E: ("add",), AU: VIEW, V: VIEW},
    "integrations.connectoruserobjectpermission": {A: MANAGE, AU: VIEW},
    "integrations.connectorgroupobjectpermission": {A: MANAGE, AU: VIEW},
    "integrations.flow": {A: MANAGE, E: ("add",), AU: VIEW, V: VIEW},
    "integrations.flowuserobjectpermission": {A: MANAGE, AU: VIEW},
    "integrations.flowgroupobjectpermission": {A: MANAGE, AU: VIEW},
    # Runs and outcomes are shown for the flows a person may view.
    "integrations.run": {A: VIEW, E: VIEW, AU: VIEW, V: VIEW},
    "integrations.recordoutcome": {A: VIEW, E: VIEW, AU: VIEW},
    "integrations.delivery": {A: VIEW, AU: VIEW},
    "integrations.inboundevent": {A: VIEW, AU: VIEW},
    # Reconciliations are shown for the connectors a person may view; starting one takes
    # add here and change on the connector (it asks the target for every key it holds).
    "integrations.reconciliation": {A: ("view", "add"), E: ("view", "add"), AU: VIEW, V: VIEW},
    # Written by workers after a merge; shown with the merge to the people who see golden records.
    "integrations.targetchange": {A: VIEW, E: VIEW, S: VIEW, AU: VIEW},
    "monitoring.heartbeat": {A: VIEW, E: VIEW, AU: VIEW},
    # Alerts are shown about the flows and connectors a person may view (monitoring/alerts.py);
    # acknowledging one takes change on the alert and on its flow or connector.
    "monitoring.alert": {A: ("view", "change"), E: ("view", "change"), AU: VIEW, V: VIEW},
    "masterdata.goldenrecord": {A: MANAGE, E: VIEW, S: ("view", "change"), AU: VIEW, V: VIEW},
    "masterdata.sourcerecord": {A: MANAGE, E: VIEW, S: VIEW, AU: VIEW, V: VIEW},
    "masterdata.duplicatecandidate": {A: MANAGE, E: VIEW, S: ("view", "change"), AU: VIEW},
    "masterdata.merge": {A: MANAGE, S: ("view", "add", "change"), AU: VIEW},
    "masterdata.survivorshiprule": {A: MANAGE, E: VIEW, S: MANAGE, AU: VIEW},
    "masterdata.importjob": {A: MANAGE, E: ("view", "add"), S: ("view", "add"), AU: VIEW},
    # Applying the survivorship rules to the stored golden records (a worker's job, one per entity at a time).
    "masterdata.ruleapplication": {A: ("view", "add"), E: VIEW, S: ("view", "add"), AU: VIEW},
    "masterdata.blockingkey": {A: VIEW},
    "auditlog.logentry": {A: VIEW, AU: VIEW},
    "auth.user": {A: MANAGE, AU: VIEW},
    "auth.group": {A: MANAGE, AU: VIEW},
    "guardian.userobjectpermission": {A: MANAGE, AU: VIEW},
    "guardian.groupobjectpermission": {A: MANAGE, AU: VIEW},
    # The audit trail's hash chain (audit/chain.py): written only by the sealer and purge command.
    "audit.auditpending": {A: VIEW, AU: VIEW},
    "audit.auditseal": {A: VIEW, AU: VIEW},
    "audit.auditanchor": {A: VIEW, AU: VIEW},
    "audit.chaincheck": {A: VIEW, AU: VIEW},
    # Everyone manages their own API tokens on the Security page; these rows are about
    # everyone's: administrators list and revoke them, auditors see them (never the secret).
    "accounts.apitoken": {A: ("view", "delete"), AU: VIEW},
    # Login lockouts (django-axes): administrators unlock by deleting an attempt.
    "axes.accessattempt": {A: ("view", "delete"), AU: VIEW},
    "axes.accesslog": {A: VIEW, AU: VIEW},
}

# Django admin is for administrators only.
STAFF_ROLES = {Role.ADMINISTRATOR}


def permissions_for(role: str) -> set[str]:
    """``{"app_label.codename", ...}`` that ``role`` holds according to the matrix."""
    perms = set()
    for label, grants in MATRIX.items():
        app_label, model_name = label.split(".")
        for action in grants.get(role, ()):
            perms.add(f"{app_label}.{action}_{model_name}")
    return perms


def sync_role_permissions(apps=None, verbosity=1, **kwargs):
    """Create the role groups if missing and set their permissions to exactly the matrix."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = permissions_for(role)
        found = [
            p
            for p in Permission.objects.select_related("content_type").filter(
                codename__in={w.split(".")[1] for w in wanted}
            )
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        missing = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        if missing:
            raise LookupError(f"Role matrix names permissions that do not exist: {sorted(missing)}")
        group.permissions.set(found)
