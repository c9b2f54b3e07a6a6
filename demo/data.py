"""The demo landscape's data: people, products, warehouses and stores, generated from a fixed seed.

Every system of the demo draws from the same small world, the way real
systems of one company do: the CRM and the shop know many of the same people
(spelled their own way), the WMS counts the products the shop sells. The CRM
export is deliberately dirty: duplicates typed twice with variations, values
in every format sources really send, and a few records no rule can save.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from faker import Faker
from unidecode import unidecode

SEED = 2026
COUNTRIES = {"DE": "de_DE", "AT": "de_AT", "GB": "en_GB", "FR": "fr_FR", "NL": "nl_NL"}
WAREHOUSES = {"WH-BER": "Berlin warehouse", "WH-HAM": "Hamburg warehouse"}
STORES = {"S-01": "Store Berlin Mitte", "S-02": "Store Hamburg Altona"}
# Nicknames a CRM clerk types instead of the full first name.
NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "Elizabeth": "Liz",
    "Katharina": "Kathi",
    "Alexander": "Alex",
    "Johannes": "Hannes",
    "Margaret": "Maggie",
    "Thomas": "Tom",
    "Michael": "Mike",
    "Christine": "Chris",
}
STREET_ABBREVIATIONS = (("straße", "str."), ("Straße", "Str."), ("Road", "Rd"), ("Street", "St"), ("rue", "r."))


@dataclass
class Person:
    key: str  # stable across systems, never sent: the demo's own truth
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    postcode: str
    country: str
    company: str = ""
    date_of_birth: str = ""


@dataclass
class Product:
    sku: str
    name: str
    unit: str
    price: Decimal
    gtin: str
    weight: Decimal


@dataclass
class World:
    people: list[Person] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)


def phone(rng: random.Random, country: str) -> str:
    """A mobile number valid for ``country`` (Faker's own are often not), written the local way."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    while True:
        number = phonenumbers.parse(digits[:3] + "".join(str(rng.randrange(10)) for _ in digits[3:]), country)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def email(first: str, last: str, domain: str) -> str:
    local = ".".join(re.sub(r"[^a-z0-9]", "", unidecode(part).lower()) for part in (first, last))
    return f"{local}@{domain}"


def gtin13(rng: random.Random) -> str:
    """A GTIN-13 with a correct check digit (weights 1, 3 from the left)."""
    body = "400" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


PRODUCT_LINES = [
    ("Espresso beans", "kg", "18.90", "1.0"),
    ("Filter coffee", "kg", "12.50", "1.0"),
    ("Green tea", "pc", "6.20", "0.1"),
    ("Oat milk", "l", "2.10", "1.0"),
    ("Ceramic mug", "pc", "9.90", "0.35"),
    ("Travel mug", "pc", "19.90", "0.3"),
    ("Pour-over kettle", "pc", "49.00", "0.9"),
    ("Burr grinder", "pc", "129.00", "2.4"),
    ("Paper filters", "pc", "3.90", "0.2"),
    ("Cold brew jar", "pc", "24.50", "1.1"),
    ("Cocoa powder", "kg", "8.40", "0.5"),
    ("Chai syrup", "l", "11.00", "0.8"),
]


def build(seed: int = SEED) -> World:
    """The same world every time for the same seed."""
    rng = random.Random(seed)
    fakers = {country: Faker(locale) for country, locale in COUNTRIES.items()}
    for position, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + position)
    world = World()
    for n in range(1, 121):
        country = rng.choice(list(COUNTRIES))
        fake = fakers[country]
        first = rng.choice([*NICKNAMES, fake.first_name(), fake.first_name()])
        last = fake.last_name()
        world.people.append(
            Person(
                key=f"P{n:03d}",
                first_name=first,
                last_name=last,
                email=email(first, last, fake.free_email_domain()),
                phone=phone(rng, country),
                street=fake.street_address(),
                city=fake.city(),
                postcode=fake.postcode(),
                country=country,
                company=fake.company() if rng.random() < 0.3 else "",
                date_of_birth=fake.date_of_birth(minimum_age=18, maximum_age=85).isoformat(),
            )
        )
    for n, (name, unit, price, weight) in enumerate(PRODUCT_LINES, 1):
        world.products.append(
            Product(f"SKU-{n:04d}", name, unit, Decimal(price), gtin13(rng), Decimal(weight)),
        )
    return world


# --- The CRM export: dirty on purpose ---------------------------------------------

CRM_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "street",
    "city",
    "postcode",
    "country",
    "date_of_birth",
]


def crm_rows(world: World, seed: int = SEED) -> list[dict]:
    """The CRM's customer export: everyone once, some twice (typed again with variations),
    households (same surname and address, another person), and three rows no rule can save."""
    rng = random.Random(seed + 1)
    rows, number = [], 1000

    def row(person: Person, **changes) -> dict:
        nonlocal number
        number += 1
        values = {
            "id": f"CRM-{number}",
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company": person.company,
            "email": person.email,
            "phone": person.phone,
            "street": person.street,
            "city": person.city,
            "postcode": person.postcode,
            "country": person.country,
            "date_of_birth": person.date_of_birth,
        }
        values.update(changes)
        return values

    for person in world.people:
        rows.append(row(person, **dirty(rng, person)))
    for person in rng.sample(world.people[:60], 14):  # typed twice, differently
        rows.append(row(person, **retyped(rng, person)))
    names = Faker(COUNTRIES["DE"])
    names.seed_instance(seed)
    for person in world.people[60:64]:  # a household: same surname and address, another person
        # A spouse or grown-up child: another first name, another birthday.
        birthday = names.date_of_birth(minimum_age=18, maximum_age=85).isoformat()
        rows.append(row(person, first_name=names.first_name(), email="", phone="", date_of_birth=birthday))
    for code, store in STORES.items():  # the account each store's anonymous sales are booked to
        rows.append(
            {"id": f"CRM-WALKIN-{code}", "company": f"Walk-in customers {store}", "country": "DE", "city": store[6:]}
        )
    rows.append(row(world.people[70], email="no-email-given@", id="CRM-BAD-1"))
    rows.append(row(world.people[71], date_of_birth="31.02.1980", id="CRM-BAD-2"))
    rows.append(row(world.people[72], country="Atlantis", id="CRM-BAD-3"))
    rng.shuffle(rows)
    return rows


def dirty(rng: random.Random, person: Person) -> dict:
    """The everyday noise of a CRM: casing, spacing, country names, date formats."""
    changes = {}
    if rng.random() < 0.2:
        changes["last_name"] = person.last_name.upper()
    if rng.random() < 0.2:
        changes["email"] = f"  {person.email.title()} "
    if rng.random() < 0.3:
        names = {"DE": "Germany", "AT": "Österreich", "GB": "United Kingdom", "FR": "France", "NL": "Netherlands"}
        changes["country"] = names[person.country]
    if rng.random() < 0.3 and person.date_of_birth:
        year, month, day = person.date_of_birth.split("-")
        changes["date_of_birth"] = f"{day}.{month}.{year}" if person.country != "GB" else f"{day}/{month}/{year}"
    return changes


def retyped(rng: random.Random, person: Person) -> dict:
    """A second CRM entry for someone already there: a nickname, a typo, an abbreviated street."""
    changes: dict = {"first_name": NICKNAMES.get(person.first_name, person.first_name)}
    street = person.street
    for long, short in STREET_ABBREVIATIONS:
        street = street.replace(long, short)
    changes["street"] = street
    if rng.random() < 0.5:
        changes["email"] = ""  # the clerk did not ask
    if rng.random() < 0.4:  # taken at a trade fair: a name and a town, nothing to be sure by
        changes.update(street="", postcode="", phone="", email="", date_of_birth="")
    if rng.random() < 0.4 and len(person.last_name) > 4:
        i = rng.randrange(1, len(person.last_name) - 1)
        changes["last_name"] = (
            person.last_name[:i] + person.last_name[i + 1] + person.last_name[i] + person.last_name[i + 2 :]
        )
    return changes


# --- The shop -------------------------------------------------------------------


def shop_customers(world: World) -> list[dict]:
    """The shop's own customer accounts: many are CRM customers too, under the shop's ids."""
    customers = []
    for n, person in enumerate(world.people[:40], 1):
        customers.append(
            {
                "id": f"SHOP-{n:04d}",
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "phone": person.phone,
                "street": person.street,
                "city": person.city,
                "postcode": person.postcode,
                "country": person.country,
            }
        )
    return customers


def catalog_rows(world: World) -> list[dict]:
    """The shop's product catalog export, the products' source of truth in this landscape."""
    return [
        {
            "sku": p.sku,
            "name": p.name,
            "unit": p.unit,
            "gtin": p.gtin,
            "price": str(p.price),
            "currency": "EUR",
            "weight": str(p.weight),
        }
        for p in world.products
    ]
