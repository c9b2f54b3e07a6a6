"""``manage.py find_duplicates``: the matcher on a CSV file, without a database.

Stateless by design, so anyone can try the matcher on a file: it reads the
file, cleanses every row, finds the duplicate pairs and prints them. It runs no
system checks and opens no database connection, so it works where the
database is unreachable.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from masterdata.entities import SCHEMAS
from masterdata.matching import find_pairs, thresholds
from masterdata.matching.csvfile import CsvError, cleanse_rows, columns, read_rows, write_pairs

HELP = """Find duplicate records in a CSV file and print the pairs as CSV on stdout:
left_id,right_id,score,decision - one row per pair scoring at least the entity's review threshold
(or --min-score), score in [0, 1], decision "link" (at or above the automatic-link threshold) or
"review". Problems cleansing found are reported on stderr; those rows are matched on their other fields.

Input columns (header required, any order, any value may be empty, raw formats welcome):
  customer:  id,first_name,last_name,company,email,phone,street,city,postcode,region,country,date_of_birth,tax_id
  product:   id,sku,name,description,unit,gtin,price,currency,weight
  supplier:  id,name,tax_id,email,phone,street,city,postcode,region,country
  location:  id,code,name,location_type,street,city,postcode,region,country
"""


def score_value(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = HELP
    requires_system_checks = []  # the checks may touch the database; this command must not

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        kwargs.setdefault("formatter_class", RawDescriptionHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--entity", default="customer", help=f"one of {', '.join(SCHEMAS)} (default customer)")
        parser.add_argument("--csv", required=True, dest="path", help="the CSV file to read")
        parser.add_argument("--min-score", type=score_value, help="report pairs from this score (0-1) up")
        parser.add_argument("--locale", help="the source's locale for ambiguous dates, e.g. en_US or de_DE")

    def handle(self, *args, entity, path, min_score=None, locale=None, **options):
        started = time.perf_counter()
        try:
            expected = columns(entity)
            rows = read_rows(entity, path)
        except CsvError as exc:
            raise CommandError(str(exc)) from None
        records, problems = cleanse_rows(entity, rows, locale)
        for problem in problems:
            self.stderr.write(f"warning: {problem}")
        pairs = find_pairs(entity, records, min_score=min_score)
        count = write_pairs(pairs, self.stdout)
        if options.get("verbosity", 1) > 1:
            limits = thresholds(entity)
            self.stderr.write(
                f"{len(records)} records ({len(expected) - 1} fields), {count} pairs "
                f"(review from {min_score if min_score is not None else limits.review}, link from {limits.link}) "
                f"in {time.perf_counter() - started:.1f} s"
            )
