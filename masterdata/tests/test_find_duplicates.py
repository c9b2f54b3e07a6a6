"""The find_duplicates command: end to end on small files, without a database, and its errors.

No test here has the ``db`` fixture: pytest-django refuses any database access
from them, so every passing test also proves the command touched no database.
"""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER_HEADER = "id,first_name,last_name,company,email,phone,street,city,postcode,region,country,date_of_birth,tax_id"
CUSTOMERS = f"""{CUSTOMER_HEADER}
c1,Robert,Smith,,Robert.Smith@Example.com,(415) 823-4567,12 Main Street,Springfield,62701,IL,USA,05/17/1980,
c2,Bob,Smiht,,robert.smith@example.com,,12 Main St.,Springfield,62701,IL,US,1980-05-17,
c3,Mary,Smith,,mary.smith@example.com,415.823.4567,12 Main St,Springfield,62701,IL,US,01/02/1982,
c4,Robert,Smith,,rsmith@other.org,617-555-0199,77 Beacon St,Boston,02108,MA,US,03/03/1975,
c5,Rob,Smith,,robert.smith@example.com,,,,,,,,
c6,Smith,Robert,,,+1 415 823 4567,,,,,,1980-05-17,
c7,Anna,Lee,,anna@example.org,,,,,,US,13/45/2020,
"""
PRODUCT_HEADER = "id,sku,name,description,unit,gtin,price,currency,weight"
PRODUCTS = f"""{PRODUCT_HEADER}
p1,AB-1234,Steel bolt M8 x 40,Zinc plated,pcs,4006381333931,0.20,EUR,0.02
p2,ab 1234,Bolt steel M8x40,,piece,04006381333931,0.2,eur,
p3,ZZ-9,Garden hose 20 m,,,,19.99,EUR,1.5
"""


def write(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("find_duplicates", *args, stdout=out, stderr=err)
    return list(csv.DictReader(io.StringIO(out.getvalue()))), err.getvalue()


def pairs(rows):
    return {frozenset((r["left_id"], r["right_id"])): r for r in rows}


def test_customers_end_to_end(tmp_path):
    rows, err = run("--entity", "customer", "--csv", str(write(tmp_path, CUSTOMERS)), "--locale", "en_US")
    found = pairs(rows)
    assert found[frozenset(("c1", "c2"))]["decision"] == "link"  # typo, nickname, other formats
    assert found[frozenset(("c1", "c6"))]["decision"] in ("link", "review")  # swapped names, same phone
    assert frozenset(("c1", "c5")) in found  # sparse guest checkout, same email
    assert frozenset(("c1", "c3")) not in found  # household
    assert frozenset(("c1", "c4")) not in found  # namesake in another city
    for row in rows:
        assert 0 <= float(row["score"]) <= 1
        assert row["decision"] in ("link", "review")
    assert "c7" in err and "date_of_birth" in err  # reported, and the row still matched


def test_output_header_and_nothing_else_when_no_duplicates(tmp_path):
    path = write(tmp_path, f"{CUSTOMER_HEADER}\na,Ann,Lee,,,,,,,,,,\nb,Bo,Chan,,,,,,,,,,\n")
    out = io.StringIO()
    call_command("find_duplicates", "--csv", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue() == "left_id,right_id,score,decision\n"


def test_min_score_reports_weaker_pairs_as_review(tmp_path):
    path = write(tmp_path, CUSTOMERS)
    default, _ = run("--csv", str(path))
    lowered, _ = run("--csv", str(path), "--min-score", "0.01")
    assert len(lowered) > len(default)
    assert all(float(r["score"]) >= 0.01 for r in lowered)


def test_columns_in_any_order(tmp_path):
    lines = CUSTOMERS.strip().splitlines()
    reader = list(csv.reader(lines))
    reordered = "\n".join(",".join(reversed(row)) for row in reader) + "\n"
    assert (
        pairs(run("--csv", str(write(tmp_path, reordered)))[0]).keys()
        == pairs(run("--csv", str(write(tmp_path, CUSTOMERS, "b.csv")))[0]).keys()
    )


def test_products_with_one_gtin_and_other_sku_formatting(tmp_path):
    rows, _ = run("--entity", "product", "--csv", str(write(tmp_path, PRODUCTS)))
    assert [(r["left_id"], r["right_id"], r["decision"]) for r in rows] == [("p1", "p2", "link")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--csv", "/nonexistent/file.csv"], "no such file"),
        (["--entity", "spaceship", "--csv", "x.csv"], "unknown entity"),
        (["--csv", "{wrong}"], "wrong header"),
        (["--csv", "{empty}"], "empty"),
        (["--csv", "{dup}"], "appears twice"),
        (["--csv", "{products}"], "wrong header"),
        (["--csv", "{wrong}", "--min-score", "2"], "min-score"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, args, message):
    files = {
        "wrong": write(tmp_path, "id,name,mail\n1,a,b\n", "wrong.csv"),
        "empty": write(tmp_path, "", "empty.csv"),
        "dup": write(tmp_path, f"{CUSTOMER_HEADER}\n1,A,B,,,,,,,,,,\n1,C,D,,,,,,,,,,\n", "dup.csv"),
        "products": write(tmp_path, PRODUCTS, "products.csv"),
    }
    args = [a.format(**files) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("find_duplicates", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_runs_with_the_database_unreachable(tmp_path):
    """As a real process, with DATABASE_URL pointing at a port where nothing listens: exit 0, pairs on stdout."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:9/none",
        "DJANGO_SECRET_KEY": "test-only",
        "DJANGO_DEBUG": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "find_duplicates", "--csv", str(write(tmp_path, CUSTOMERS))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("left_id,right_id,score,decision\n")
    assert "c1,c2," in result.stdout or "c2,c1," in result.stdout


def test_a_missing_file_exits_non_zero_with_the_reason_on_stderr():
    env = {**os.environ, "DJANGO_SECRET_KEY": "test-only", "DJANGO_DEBUG": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "find_duplicates", "--csv", "/nonexistent.csv"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "no such file" in result.stderr and result.stdout == ""
