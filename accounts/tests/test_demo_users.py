import stat
import time

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from accounts.management.commands.seed_demo_users import DEMO_USERS, credentials_path, read_credentials

pytestmark = pytest.mark.django_db


def sign_in(username, password):
    # django-axes checks every authenticate() against lockouts, so it needs the request.
    return authenticate(RequestFactory().post("/login/"), username=username, password=password)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_refuses_in_production_mode(settings, var_dir):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("seed_demo_users")
    assert not credentials_path().exists()


def test_creates_one_user_per_role_with_private_random_passwords(settings, var_dir, capsys):
    settings.DEBUG = True
    call_command("seed_demo_users")
    out = capsys.readouterr().out
    path = credentials_path()
    assert str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = read_credentials(path)
    assert set(credentials) == set(DEMO_USERS)
    assert len(set(credentials.values())) == len(DEMO_USERS), "passwords must differ"
    for username, role in DEMO_USERS.items():
        assert username in out
        user = sign_in(username, credentials[username])
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [role.value]
        assert user.is_staff == (username == "admin")
        assert not user.is_superuser


def test_rerun_keeps_existing_passwords(settings, var_dir):
    settings.DEBUG = True
    call_command("seed_demo_users")
    first = read_credentials(credentials_path())
    call_command("seed_demo_users")
    assert read_credentials(credentials_path()) == first
    assert sign_in("auditor", first["auditor"]) is not None


def test_the_demo_administrator_has_totp_and_demo_totp_prints_its_code(settings, var_dir, capsys):
    from django.contrib.auth import get_user_model

    from accounts import two_factor
    from accounts.tests.otp import code_for

    settings.DEBUG = True
    call_command("seed_demo_users")
    assert "make demo-code" in capsys.readouterr().out
    admin = get_user_model().objects.get(username="admin")
    device = two_factor.totp_device(admin)
    assert device is not None and two_factor.totp_device(get_user_model().objects.get(username="viewer")) is None
    assert stat.S_IMODE((var_dir / "demo-totp.txt").stat().st_mode) == 0o600

    call_command("seed_demo_users")  # a rerun keeps the key the person added to their app
    assert two_factor.totp_device(admin).key == device.key
    before = time.time()
    call_command("demo_totp")
    out = capsys.readouterr().out
    assert any(f"admin: {code_for(device, at)}" in out for at in (before, time.time()))  # either side of a step


def test_demo_totp_refuses_in_production_mode(settings, var_dir):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_totp")
