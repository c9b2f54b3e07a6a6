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
