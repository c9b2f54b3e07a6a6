"""Rendering generated people as raw source records, clean or corrupted, and the whole data set."""

import random

from synth import COUNTRY_NAMES, LEGAL, LOCALES, NICKNAMES, STREET_TYPES, Generator, Person, typo

MONTHS = str.split("January February March April May June July August September October November December")


def phone_text(rng: random.Random, p: Person) -> str:
    n = p.phone
    if p.country == "US":
        a, b, c = n[2:5], n[5:8], n[8:]
        return rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"{a}{b}{c}",
                           f"1-{a}-{b}-{c}", n])  # fmt: skip
    national = "0" + n[3:]
    if p.country == "GB":
        return rng.choice([f"{national[:5]} {national[5:]}", f"+44 {n[3:7]} {n[7:]}", n, national])
    return rng.choice([f"{national[:4]} {national[4:]}", f"+49 {n[3:6]} {n[6:]}", f"{national[:4]}/{national[4:]}", n])


def date_text(rng: random.Random, country: str, dob: tuple[int, int, int]) -> str:
    y, m, d = dob
    iso = f"{y:04d}-{m:02d}-{d:02d}"
    if country == "US":
        return rng.choice([iso, f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{MONTHS[m - 1]} {d}, {y}"])
    if country == "GB":
        return rng.choice([iso, f"{d:02d}/{m:02d}/{y}", f"{d} {MONTHS[m - 1][:3]} {y}"])
    return rng.choice([iso, f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.{y}"])


def street_text(rng: random.Random, p: Person, abbreviate: bool) -> str:
    name, kind, number, unit = p.street
    if p.country == "DE":
        suffix = rng.choice(["straße", "str.", "strasse"]) if abbreviate else kind
        return f"{name}{suffix} {number}"
    if abbreviate:
        kind = dict(STREET_TYPES).get(kind, kind) + rng.choice(["", "."])
    line = f"{number} {name} {kind}"
    if unit:
        line += rng.choice([f" Apt {unit}", f", Apt. {unit}", f" #{unit}", f" Unit {unit}"])
    return line


def clean_record(rng: random.Random, p: Person) -> dict:
    """The record as its first source sent it: complete, in that source's usual formats."""
    legal = rng.choice(LEGAL[p.country])
    return {
        "first_name": p.first,
        "last_name": p.last,
        "company": f"{p.company} {legal}" if p.company else "",
        "email": p.email or "",
        "phone": phone_text(rng, p),
        "street": street_text(rng, p, abbreviate=False),
        "city": p.city[0],
        "postcode": p.postcode,
        "region": p.city[1],
        "country": rng.choice(COUNTRY_NAMES[p.country]),
        "date_of_birth": date_text(rng, p.country, p.dob),
        "tax_id": p.tax_id or "",
    }


def duplicate_record(g: Generator, p: Person) -> dict:
    """The same person as another source sent it, with that source's slips and gaps."""
    rng = g.rng
    r = clean_record(rng, p)
    r["street"] = street_text(rng, p, abbreviate=rng.random() < 0.6)
    if p.first in NICKNAMES and rng.random() < 0.15:
        r["first_name"] = rng.choice(NICKNAMES[p.first])
    _name_slips(rng, r)
    if p.email and rng.random() < 0.12:
        r["email"] = g.email(p.first, p.last, p.country)  # another mailbox
    elif r["email"] and rng.random() < 0.04:
        local, domain = r["email"].split("@")
        r["email"] = f"{typo(rng, local)}@{domain}" if rng.random() < 0.5 else f"{local}@{typo(rng, domain)}"
    if rng.random() < 0.08:
        r["phone"] = phone_text(rng, Person(**{**p.__dict__, "phone": g.phone(p.country, p.city)}))
    if rng.random() < 0.07:  # moved house
        street, city, postcode = g.address(p.country)
        moved = Person(**{**p.__dict__, "street": street, "city": city, "postcode": postcode})
        r.update(street=street_text(rng, moved, False), city=city[0], postcode=postcode, region=city[1])
    _value_slips(rng, p, r)
    for field in ("email", "phone", "street", "city", "postcode", "region", "country", "date_of_birth", "company"):
        if rng.random() < 0.12:
            r[field] = ""
    if rng.random() < 0.08:  # a guest checkout: name and email only
        r = {k: (v if k in ("first_name", "last_name", "email") else "") for k, v in r.items()}
        r["email"] = r["email"] or (p.email or "")
    return r


def _name_slips(rng: random.Random, r: dict) -> None:
    if rng.random() < 0.12:
        r["first_name"] = typo(rng, r["first_name"])
    if rng.random() < 0.12:
        r["last_name"] = typo(rng, r["last_name"])
    if rng.random() < 0.04:
        r["first_name"], r["last_name"] = r["last_name"], r["first_name"]
    if rng.random() < 0.15:
        case = rng.choice([str.upper, str.lower])
        r["first_name"], r["last_name"] = case(r["first_name"]), case(r["last_name"])
    if rng.random() < 0.3:
        from unidecode import unidecode

        r["first_name"], r["last_name"] = unidecode(r["first_name"]), unidecode(r["last_name"])


def _value_slips(rng: random.Random, p: Person, r: dict) -> None:
    y, m, d = p.dob
    roll = rng.random()
    if roll < 0.03:
        r["date_of_birth"] = date_text(rng, p.country, (y + rng.choice([-1, 1, -10, 10]), m, d))  # a digit slip
    elif roll < 0.05 and d <= 12 and d != m:
        r["date_of_birth"] = date_text(rng, p.country, (y, d, m))  # day and month swapped
    if rng.random() < 0.03 and r["postcode"]:
        r["postcode"] = typo(rng, r["postcode"])
    if rng.random() < 0.05:
        r["city"] = typo(rng, r["city"])


def build(records: int, seed: int = 7) -> tuple[list[dict], list[str], list[int]]:
    """About ``records`` raw records: (rows with an ``id``, each row's locale, each row's true person)."""
    g = Generator(seed)
    rng = g.rng
    people: list[Person] = []
    while len(people) < records / 1.45:
        p = g.person()
        people.append(p)
        roll = rng.random()
        if roll < 0.14:
            people.extend(g.household(p))
        elif roll < 0.16:
            people.append(g.junior(p))
        elif roll < 0.19:
            people.append(g.namesake(p))
    rows, locales, truth = [], [], []
    for p in people:
        copies = rng.choices([0, 1, 2, 3], [0.62, 0.26, 0.08, 0.04])[0]
        for copy in range(copies + 1):
            row = clean_record(rng, p) if copy == 0 else duplicate_record(g, p)
            rows.append(row)
            locales.append(LOCALES[p.country])
            truth.append(p.entity)
    order = list(range(len(rows)))
    rng.shuffle(order)
    out_rows = [{"id": f"c{i + 1}", **rows[j]} for i, j in enumerate(order)]
    return out_rows, [locales[j] for j in order], [truth[j] for j in order]
