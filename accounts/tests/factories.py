import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import STAFF_ROLES, Role

PASSWORD = "correct-horse-battery-staple"  # test-only; meets the password validators


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """``UserFactory(role=Role.AUDITOR)`` puts the user in that role's group.

        Administrators also get the TOTP device their role requires (accounts/tests/otp.py).
        """
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
            self.is_staff = extracted in STAFF_ROLES
        if create:
            self.save()
        if create and extracted == Role.ADMINISTRATOR:
            from accounts.tests.otp import give_totp

            give_totp(self)
