import stat

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.management.commands.seed_demo_users import DEMO_USERS, credentials_path, read_credentials

pytestmark = pytest.mark.django_db


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
        user = authenticate(username=username, password=credentials[username])
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
    assert authenticate(username="auditor", password=first["auditor"]) is not None
