from django.db import models


class SystemKind(models.TextChoices):
    ERP = "erp", "ERP"
    CRM = "crm", "CRM"
    ECOMMERCE = "ecommerce", "E-commerce"
    WMS = "wms", "Warehouse (WMS)"
    POS = "pos", "Point of sale"
    LOGISTICS = "logistics", "Logistics carrier"
    BI = "bi", "BI / analytics"
    ACCOUNTING = "accounting", "Accounting"
    FIELD_APP = "field_app", "Field app"
    OTHER = "other", "Other"


class Environment(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    PRODUCTION = "production", "Production"


class FlowEntity(models.TextChoices):
    """What a flow carries: master data (cleansed and matched) or transactional records."""

    CUSTOMER = "customer", "Customer"
    PRODUCT = "product", "Product"
    SUPPLIER = "supplier", "Supplier"
    LOCATION = "location", "Location"
    INVENTORY_LEVEL = "inventory_level", "Inventory level"
    SALES_ORDER = "sales_order", "Sales order"


MASTER_ENTITIES = frozenset({"customer", "product", "supplier", "location"})


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    PUSH = "push", "Inbound push"
    MANUAL = "manual", "Manual"


class Stage(models.TextChoices):
    """The rollout of a flow. Only pilot and live write to targets."""

    DRAFT = "draft", "Draft"
    TEST = "test", "Test (dry run)"
    PILOT = "pilot", "Pilot"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"


class CircuitState(models.TextChoices):
    CLOSED = "closed", "Closed (delivering)"
    OPEN = "open", "Open (paused after failures)"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    EXTRACTING = "extracting", "Extracting"
    DELIVERING = "delivering", "Delivering"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with problems"
    FAILED = "failed", "Failed"


class OutcomeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Waiting to retry"
    DELIVERED = "delivered", "Delivered"
    PLANNED = "planned", "Planned (dry run)"
    QUARANTINED = "quarantined", "Quarantined"
    DEAD = "dead", "Dead-lettered"
    DISCARDED = "discarded", "Discarded"


class Action(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged"


class ReconciliationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ChangeAction(models.TextChoices):
    """What a merge (or its undoing) changes at a target that holds one of the golden records."""

    ARCHIVE = "archive", "Archive"
    RESTORE = "restore", "Restore"
    UPDATE = "update", "Update"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
