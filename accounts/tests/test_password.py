"""Everyone can change their own password, with field-level errors."""

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = reverse("password_change")


def test_viewer_changes_own_password(client_for, personas):
    client = client_for(personas["viewer"])
    new = "a-much-longer-passphrase-2026"
    response = client.post(URL, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    personas["viewer"].refresh_from_db()
    assert personas["viewer"].check_password(new)


def test_wrong_old_and_weak_new_password_get_field_errors(client_for, personas):
    response = client_for(personas["viewer"]).post(
        URL, {"old_password": "wrong", "new_password1": "12345", "new_password2": "12345"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "old_password" in errors and "new_password2" in errors
    personas["viewer"].refresh_from_db()
    assert personas["viewer"].check_password(PASSWORD)


def test_anonymous_is_sent_to_login(client):
    assert client.get(URL)["Location"].startswith(reverse("login"))
