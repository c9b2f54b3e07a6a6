import factory

from integrations.choices import Environment, SystemKind
from integrations.models import System


class SystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = System

    name = factory.Sequence(lambda n: f"System {n}")
    kind = SystemKind.ERP
    environment = Environment.SANDBOX
