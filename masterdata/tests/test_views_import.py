"""CSV import from the browser: the form and its field errors, the job page's
polling progress bar, and the summary once the rows are in.

The import runs synchronously here (``services.imports.run_import``); a real
worker runs it in ``test_import_worker.py``.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from guardian.shortcuts import assign_perm

from accounts.tests.factories import UserFactory
from audit.signals import request_seal
from masterdata.choices import JobStatus
from masterdata.models import ImportJob
from masterdata.services.imports import run_import
from masterdata.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("masterdata:import")
CSV = """id,first_name,last_name,email,phone,country,date_of_birth
1,Anna,Müller,anna@example.com,030 1234567,DE,04.03.1985
2,Anna,Müller,ANNA@example.com,+49 30 1234567,Germany,1985-03-04
3,Bob,Stone,not-an-email,,US,1990-01-01
4,Chloé,Martin,chloe@example.fr,01 23 45 67 89,France,
"""


def upload(content: str | bytes, name: str = "customers.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def job_url(job, partial=False):
    return reverse("masterdata:importjob_progress" if partial else "masterdata:importjob_detail", args=[job.pk])


def post_import(client, system, content=CSV, **extra):
    data = {"system": system.pk, "entity": "customer", "locale": "de_DE", "file": upload(content), **extra}
    return client.post(IMPORT, data)


def test_anonymous_is_sent_to_login(client):
    response = client.get(IMPORT)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_only_roles_that_may_import_get_the_form(client_for, personas):
    system = SystemFactory()
    for role in ("steward", "engineer", "admin"):
        assert client_for(personas[role]).get(IMPORT).status_code == 200, role
    for role in ("viewer", "auditor", "nobody"):
        client = client_for(personas[role])
        assert client.get(IMPORT).status_code == 403, role
        assert post_import(client, system).status_code == 403, role
    assert not ImportJob.objects.exists()


def test_steward_starts_an_import_and_lands_on_the_job_page(client_for, personas, django_capture_on_commit_callbacks):
    system = SystemFactory(name="Legacy CRM")
    client = client_for(personas["steward"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_import(client, system)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert (job.system, job.entity, job.locale, job.filename, job.total) == (
        system,
        "customer",
        "de_DE",
        "customers.csv",
        4,
    )
    assert job.created_by == personas["steward"] and job.content == CSV
    # The worker is asked only once the job row is committed (the audit trail's sealer asks too).
    assert len([c for c in callbacks if c is not request_seal]) == 1

    page = client.get(response["Location"]).content.decode()
    assert "is queued: 4 rows to import" in page
    assert "0 of 4 rows" in page
    assert f'hx-get="{job_url(job, partial=True)}"' in page and 'hx-trigger="every 1s"' in page


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("", "file is empty"),
        ("first_name,last_name\nAda,Lovelace\n", "include “id”"),
        ("id,colour,size\n1,red,XL\n", "No column matches a customer field"),
        (b"id,first_name\n1,\xff\xfe\n", "not UTF-8"),
    ],
)
def test_a_bad_file_is_reported_on_the_file_field(client_for, personas, content, error):
    system = SystemFactory()
    response = post_import(client_for(personas["steward"]), system, content=content)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["file"] and error in errors["file"][0]
    assert b"is-invalid" in response.content and b"Nothing was imported yet" in response.content
    assert not ImportJob.objects.exists()


def test_required_fields_are_reported_each_on_its_field(client_for, personas):
    response = client_for(personas["steward"]).post(IMPORT, {"entity": "planet"})
    errors = response.context["form"].errors
    assert set(errors) == {"system", "entity", "file"}


def test_systems_offered_are_those_the_user_may_view(client_for, personas):
    visible, hidden = SystemFactory(name="Granted ERP"), SystemFactory(name="Hidden HR")
    user = UserFactory(username="importer")
    user.user_permissions.add(Permission.objects.get(codename="add_importjob"))
    assign_perm("view_system", user, visible)
    client = client_for(user)
    page = client.get(IMPORT).content.decode()
    assert "Granted ERP" in page and "Hidden HR" not in page
    response = post_import(client, hidden)
    assert "Select a valid choice" in response.context["form"].errors["system"][0]
    assert not ImportJob.objects.exists()


def test_progress_partial_polls_while_running(client_for, personas):
    job = ImportJob.objects.create(
        system=SystemFactory(),
        entity="customer",
        filename="big.csv",
        content="id\n",
        total=200,
        processed=50,
        status=JobStatus.RUNNING,
        counts={"created": 30, "linked": 20},
        created_by=personas["steward"],
    )
    response = client_for(personas["steward"]).get(job_url(job, partial=True), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html  # only the fragment
    assert 'hx-trigger="every 1s"' in html and "50 of 200 rows" in html and 'aria-valuenow="25"' in html
    assert 'data-testid="count-created">30<' in html and "Importing" in html


def test_finished_job_shows_the_summary_with_reasons_and_stops_polling(client_for, personas):
    system = SystemFactory(name="Legacy CRM")
    client = client_for(personas["steward"])
    post_import(client, system)
    job = run_import(ImportJob.objects.get())

    assert job.status == JobStatus.DONE and job.processed == 4
    html = client.get(job_url(job, partial=True)).content.decode()
    assert "hx-trigger" not in html and "Done" in html
    for result in ("created", "linked", "review", "quarantined"):
        assert f'data-testid="count-{result}">{job.counts.get(result, 0)}<' in html
    assert job.counts["quarantined"] == 1
    problem = job.problems[0]
    assert (problem["row"], problem["external_id"]) == (4, "3")
    assert "email" in problem["reason"] and escape(problem["reason"]) in html
    assert "Quarantined rows and why" in html
    # The import form lists the job among the person's recent imports.
    assert "customers.csv" in client.get(IMPORT).content.decode()


def test_an_import_of_several_pages_counts_every_row_and_lists_problems_in_file_order(personas, monkeypatch):
    from masterdata.models import GoldenRecord
    from masterdata.services import imports

    monkeypatch.setattr(imports, "PAGE", 3)  # 7 rows: pages of 3, 3 and 1
    rows = [f"{n},Ada{n},Lovelace{n},ada{n}@example.com" for n in range(1, 6)]
    rows.insert(1, ",No,Id,x@example.com")  # line 3: no id, reported without waiting for its page
    rows.append("7,Eve,Null,not-an-email")  # line 8: quarantined in the last page
    content = "id,first_name,last_name,email\n" + "\n".join(rows) + "\n"
    job = ImportJob.objects.create(
        system=SystemFactory(),
        entity="customer",
        filename="p.csv",
        content=content,
        total=7,
        created_by=personas["steward"],
    )

    job = run_import(job)

    assert (job.status, job.processed, job.counts["created"], job.counts["quarantined"]) == (JobStatus.DONE, 7, 5, 2)
    assert [(p["row"], p["external_id"]) for p in job.problems] == [(3, ""), (8, "7")]
    assert GoldenRecord.objects.filter(entity="customer").count() == 5


def test_job_page_is_404_for_those_who_may_not_view_jobs(client_for, personas):
    job = ImportJob.objects.create(system=SystemFactory(), entity="customer", filename="x.csv", content="id\n")
    for role in ("viewer", "nobody"):
        assert client_for(personas[role]).get(job_url(job)).status_code == 404
        assert client_for(personas[role]).get(job_url(job, partial=True)).status_code == 404
    assert client_for(personas["auditor"]).get(job_url(job)).status_code == 200
