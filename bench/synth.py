"""A synthetic customer file with ground truth and the corruptions real sources make.

People live in the US, the UK and Germany. Each person may be sent again by
another source with: typos, nicknames ("Bob" for "Robert"), first and last
names swapped, fields missing, a guest-checkout record with only a name and an
email, other phone and date formats, abbreviated addresses, another email or
phone, a new address. Hard negatives are built in: households (same surname,
address and often landline; different first names and birth dates, twins
included), fathers and sons with the same name at one address, and namesakes
(same name, another city, birth date and email). Seeded, so every run builds
the same file.
"""

import random
import string
from dataclasses import dataclass

FIRST = {
    "US": "James Robert John Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony "
    "Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Edward Ronald Timothy Jason Jeffrey Ryan "
    "Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander "
    "Patrick Frank Raymond Jack Dennis Jerry Tyler Aaron Jose Henry Adam Douglas Nathan Peter Zachary Kyle "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty Margaret Sandra "
    "Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah Stephanie Rebecca Sharon Laura "
    "Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela Nicole Emma Samantha Katherine Christine "
    "Debra Rachel Catherine Carolyn Janet Ruth Maria Heather Diane Virginia Julie Joyce Victoria Olivia Kelly "
    "Christina Lauren Joan Evelyn Judith Megan Cheryl Andrea Hannah Martha Jacqueline Frances Gloria Ann",
    "GB": "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Henry Leo Alfie Joshua Freddie "
    "Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Olivia Amelia Isla Ava Emily Isabella Mia "
    "Poppy Ella Lily Sophie Grace Evie Charlotte Jessica Ruby Sophia Alice Florence Freya Chloe Siobhan "
    "Niamh Eilidh Aoife Sean Ciaran",
    "DE": "Lukas Leon Finn Jonas Paul Felix Maximilian Elias Ben Noah Luis Jürgen Günter Jörg Björn Stefan "
    "Matthias Andreas Wolfgang Klaus Hans Uwe Dieter Ralf Sabine Ursula Monika Petra Renate Jürgen Brigitte "
    "Anja Katrin Susanne Andrea Birgit Claudia Nicole Stefanie Julia Lena Hannah Emma Mia Sophie Lea Lara "
    "Marie Anna Zoë Chloé Amélie Ömer Çelik",
}
LAST = {
    "US": "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
    "Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly "
    "Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes "
    "Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
    "Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander "
    "Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina "
    "Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy "
    "Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon "
    "Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose "
    "Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver "
    "Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart "
    "Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado "
    "Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval "
    "O'Brien O'Connor McCarthy Kowalski Nowak Zielinski Abernathy Vanderbilt Fitzgerald Montgomery",
    "GB": "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodgers "
    "Ahmed Singh Hughes Edwards Turner Hill Cooper Ward Morris Moore Clark Harrison Scott Young Morgan Baker "
    "Ó Súilleabháin MacDonald Campbell Stewart Murray Fraser Sinclair Llewellyn Pritchard",
    "DE": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
    "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz "
    "Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters "
    "Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth "
    "Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer "
    "Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler",
}
CITIES = {
    "US": [
        ("New York", "NY", "100", "212"), ("Brooklyn", "NY", "112", "718"), ("Los Angeles", "CA", "900", "213"),
        ("San Francisco", "CA", "941", "415"), ("San Diego", "CA", "921", "619"), ("Chicago", "IL", "606", "312"),
        ("Houston", "TX", "770", "713"), ("Dallas", "TX", "752", "214"), ("Austin", "TX", "787", "512"),
        ("Phoenix", "AZ", "850", "602"), ("Philadelphia", "PA", "191", "215"), ("Pittsburgh", "PA", "152", "412"),
        ("Seattle", "WA", "981", "206"), ("Portland", "OR", "972", "503"), ("Denver", "CO", "802", "303"),
        ("Boston", "MA", "021", "617"), ("Atlanta", "GA", "303", "404"), ("Miami", "FL", "331", "305"),
        ("Orlando", "FL", "328", "407"), ("Detroit", "MI", "482", "313"), ("Minneapolis", "MN", "554", "612"),
        ("St. Louis", "MO", "631", "314"), ("Nashville", "TN", "372", "615"), ("Charlotte", "NC", "282", "704"),
        ("Columbus", "OH", "432", "614"), ("Cleveland", "OH", "441", "216"), ("Baltimore", "MD", "212", "410"),
        ("Las Vegas", "NV", "891", "702"), ("Salt Lake City", "UT", "841", "801"), ("Springfield", "IL", "627", "217"),
        ("Springfield", "MA", "011", "413"), ("Portland", "ME", "041", "207"), ("Kansas City", "MO", "641", "816"),
        ("Milwaukee", "WI", "532", "414"), ("Albuquerque", "NM", "871", "505"), ("Sacramento", "CA", "958", "916"),
    ],
    "GB": [
        ("London", "", "SW1", "20"), ("London", "", "N1", "20"), ("Manchester", "", "M1", "161"),
        ("Birmingham", "", "B1", "121"), ("Leeds", "", "LS1", "113"), ("Glasgow", "", "G1", "141"),
        ("Edinburgh", "", "EH1", "131"), ("Bristol", "", "BS1", "117"), ("Liverpool", "", "L1", "151"),
        ("Cardiff", "", "CF10", "29"), ("Belfast", "", "BT1", "28"), ("Oxford", "", "OX1", "1865"),
    ],
    "DE": [
        ("Berlin", "BE", "101", "30"), ("Hamburg", "HH", "201", "40"), ("München", "BY", "803", "89"),
        ("Köln", "NW", "506", "221"), ("Frankfurt am Main", "HE", "603", "69"), ("Stuttgart", "BW", "701", "711"),
        ("Düsseldorf", "NW", "402", "211"), ("Leipzig", "SN", "041", "341"), ("Dresden", "SN", "010", "351"),
        ("Nürnberg", "BY", "904", "911"), ("Bremen", "HB", "281", "421"), ("Hannover", "NI", "301", "511"),
    ],
}  # fmt: skip
STREETS = str.split(
    "Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Sunset Lincoln Jackson Church Highland River "
    "Franklin Jefferson Madison Walnut Chestnut Spruce Willow Meadow Forest Ridge Valley Spring Mill Center "
    "Union Market Water Bridge King Queen Victoria Albert Station Green Broad Garden Kingsway Harbor Lakeview"
)
STREET_TYPES = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"), ("Lane", "Ln"),
                ("Boulevard", "Blvd"), ("Court", "Ct"), ("Place", "Pl"), ("Terrace", "Tce")]  # fmt: skip
DE_STREETS = str.split("Haupt Bahnhof Garten Schul Kirch Berg Wald Dorf Ring Linden Birken Goethe Schiller Mozart Bach")
DOMAINS = {
    "US": ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "comcast.net"],
    "GB": ["gmail.com", "btinternet.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "sky.com"],
    "DE": ["gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de", "posteo.de"],
}
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Vandelay",
             "Soylent", "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Monarch", "Nakatomi", "Oscorp"]  # fmt: skip
LEGAL = {"US": ["Inc.", "Inc", "Incorporated", "LLC", "Corp."], "GB": ["Ltd", "Ltd.", "Limited", "PLC"],
         "DE": ["GmbH", "AG", "GmbH & Co. KG"]}  # fmt: skip
COUNTRY_NAMES = {"US": ["US", "USA", "United States", "us"], "GB": ["GB", "UK", "United Kingdom", "gb"],
                 "DE": ["DE", "Germany", "Deutschland", "de"]}  # fmt: skip
LOCALES = {"US": "en_US", "GB": "en_GB", "DE": "de_DE"}
NICKNAMES = {
    "Robert": ["Bob", "Rob", "Bobby"], "William": ["Bill", "Will", "Billy"], "James": ["Jim", "Jimmy"],
    "John": ["Jack", "Johnny"], "Michael": ["Mike", "Mikey"], "Richard": ["Rick", "Dick", "Rich"],
    "Joseph": ["Joe", "Joey"], "Thomas": ["Tom", "Tommy"], "Charles": ["Charlie", "Chuck"],
    "Christopher": ["Chris"], "Daniel": ["Dan", "Danny"], "Matthew": ["Matt"], "Anthony": ["Tony"],
    "Donald": ["Don"], "Steven": ["Steve"], "Stephen": ["Steve"], "Andrew": ["Andy", "Drew"],
    "Joshua": ["Josh"], "Kenneth": ["Ken", "Kenny"], "Edward": ["Ed", "Eddie", "Ted"], "Timothy": ["Tim"],
    "Jeffrey": ["Jeff"], "Nicholas": ["Nick"], "Jonathan": ["Jon"], "Benjamin": ["Ben"], "Samuel": ["Sam"],
    "Gregory": ["Greg"], "Alexander": ["Alex"], "Patrick": ["Pat"], "Raymond": ["Ray"], "Zachary": ["Zach"],
    "Elizabeth": ["Liz", "Beth", "Betty"], "Patricia": ["Pat", "Patty", "Trish"], "Jennifer": ["Jen", "Jenny"],
    "Margaret": ["Maggie", "Peggy", "Meg"], "Susan": ["Sue", "Susie"], "Jessica": ["Jess"],
    "Kimberly": ["Kim"], "Deborah": ["Deb", "Debbie"], "Rebecca": ["Becky"], "Katherine": ["Kate", "Kathy"],
    "Catherine": ["Cathy", "Kate"], "Christine": ["Chris", "Chrissy"], "Victoria": ["Vicky", "Tori"],
    "Samantha": ["Sam"], "Pamela": ["Pam"], "Kathleen": ["Kathy", "Kate"], "Frances": ["Fran"],
    "Judith": ["Judy"], "Cynthia": ["Cindy"], "Jacqueline": ["Jackie"], "Andrea": ["Andi"], "Dorothy": ["Dot"],
}  # fmt: skip
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class Person:
    entity: int
    country: str
    first: str
    last: str
    dob: tuple[int, int, int]
    email: str | None
    phone: str  # E.164
    street: tuple[str, str, int, str | None]  # name, type, number, unit
    city: tuple[str, str, str, str]
    postcode: str
    company: str | None = None
    tax_id: str | None = None


class Generator:
    """Builds people, their households and namesakes, then the records sources send about them."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.first = {c: v.split() for c, v in FIRST.items()}
        self.last = {c: self._zipf(v.split()) for c, v in LAST.items()}
        self.used_phones: set[str] = set()
        self.used_emails: set[str] = set()
        self.next_entity = 0

    def _zipf(self, names: list[str]) -> tuple[list[str], list[float]]:
        return names, [1 / (rank + 1) ** 0.8 for rank in range(len(names))]

    def _entity(self) -> int:
        self.next_entity += 1
        return self.next_entity

    def country(self) -> str:
        return self.rng.choices(["US", "GB", "DE"], [0.7, 0.15, 0.15])[0]

    def dob(self, low=1940, high=2004) -> tuple[int, int, int]:
        return (self.rng.randint(low, high), self.rng.randint(1, 12), self.rng.randint(1, 28))

    def phone(self, country: str, city) -> str:
        while True:
            if country == "US":
                number = f"+1{city[3]}{self.rng.randint(200, 999)}{self.rng.randint(0, 9999):04d}"
            elif country == "GB":
                number = f"+447{self.rng.randint(400, 999)}{self.rng.randint(0, 999999):06d}"
            else:
                number = f"+49{self.rng.choice(['151', '160', '170', '176'])}{self.rng.randint(0, 99999999):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def address(self, country: str):
        city = self.rng.choice(CITIES[country])
        if country == "DE":
            street = (self.rng.choice(DE_STREETS), "straße", self.rng.randint(1, 120), None)
            postcode = city[2] + f"{self.rng.randint(0, 99):02d}"
        elif country == "GB":
            street = (self.rng.choice(STREETS), self.rng.choice(STREET_TYPES[:3])[0], self.rng.randint(1, 250), None)
            letters = "".join(self.rng.choices(POSTCODE_LETTERS, k=2))
            postcode = f"{city[2]} {self.rng.randint(1, 9)}{letters}"
        else:
            unit = str(self.rng.randint(1, 40)) if self.rng.random() < 0.15 else None
            street = (self.rng.choice(STREETS), self.rng.choice(STREET_TYPES)[0], self.rng.randint(1, 9999), unit)
            postcode = city[2] + f"{self.rng.randint(0, 99):02d}"
        return street, city, postcode

    def email(self, first: str, last: str, country: str) -> str:
        f, la = _ascii(first).lower(), _ascii(last).lower().replace("'", "").replace(" ", "")
        n = self.rng.randint(1, 99)
        local = self.rng.choice([f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}.{la}{n}", f"{f}{n}", f"{la}.{f}",
                                 f"{f}_{la}", f"{f[0]}.{la}{n}"])  # fmt: skip
        email = f"{local}@{self.rng.choice(DOMAINS[country])}"
        while email in self.used_emails:  # a mailbox belongs to one person
            email = email.replace("@", str(self.rng.randint(0, 9)) + "@")
        self.used_emails.add(email)
        return email

    def person(self, country: str | None = None, last: str | None = None, first: str | None = None) -> Person:
        country = country or self.country()
        first = first or self.rng.choice(self.first[country])
        last = last or self.rng.choices(*self.last[country])[0]
        street, city, postcode = self.address(country)
        p = Person(self._entity(), country, first, last, self.dob(), None, self.phone(country, city), street, city,
                   postcode)  # fmt: skip
        p.email = self.email(first, last, country) if self.rng.random() < 0.92 else None
        if self.rng.random() < 0.1:
            p.company = self.rng.choice(COMPANIES)
        if country == "US" and self.rng.random() < 0.2:
            p.tax_id = f"{self.rng.randint(1, 665):03d}{self.rng.randint(1, 99):02d}{self.rng.randint(1, 9999):04d}"
        return p

    def household(self, head: Person) -> list[Person]:
        """Co-residents: same surname, address and often landline; other first names and birth dates."""
        members = []
        taken = {head.first[:3]} | set(NICKNAMES.get(head.first, []))
        for _ in range(self.rng.choice([1, 1, 2, 3])):
            m = self.person(head.country, last=head.last)
            while m.first[:3] in taken or m.first in taken:  # no two members called alike
                m.first = self.rng.choice(self.first[head.country])
            taken |= {m.first[:3]} | set(NICKNAMES.get(m.first, []))
            m.street, m.city, m.postcode = head.street, head.city, head.postcode
            if self.rng.random() < 0.4:
                m.phone = head.phone  # a shared landline
            roll = self.rng.random()
            if roll < 0.08:
                m.dob = head.dob  # twins
            elif roll < 0.5:
                m.dob = (head.dob[0] + self.rng.randint(20, 35), m.dob[1], m.dob[2])  # a child
            m.email = self.email(m.first, m.last, m.country) if self.rng.random() < 0.85 else head.email
            members.append(m)
        return members

    def junior(self, head: Person) -> Person:
        """A son with his father's name at his father's address, born 20 to 35 years later."""
        j = self.person(head.country, last=head.last, first=head.first)
        j.street, j.city, j.postcode = head.street, head.city, head.postcode
        j.dob = (head.dob[0] + self.rng.randint(20, 35), j.dob[1], j.dob[2])
        return j

    def namesake(self, p: Person) -> Person:
        """Another person with the same name elsewhere."""
        return self.person(p.country, last=p.last, first=p.first)


def _ascii(text: str) -> str:
    from unidecode import unidecode

    return unidecode(text)


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: a letter inserted, dropped, replaced, or two swapped."""
    if len(text) < 3:
        return text
    i = rng.randint(1, len(text) - 2)
    kind = rng.choice("idrt")
    if kind == "i":
        return text[:i] + rng.choice(KEYBOARD) + text[i:]
    if kind == "d":
        return text[:i] + text[i + 1 :]
    if kind == "r":
        return text[:i] + rng.choice(KEYBOARD) + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))
