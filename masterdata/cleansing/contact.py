"""Email addresses (lowercase, validated with Django's EmailValidator, no DNS
look-up) and phone numbers (E.164 with ``phonenumbers``)."""

from email.utils import parseaddr

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from masterdata.cleansing.base import Context, Reject, rule, short
from masterdata.cleansing.geo import country_code

_validate_email = EmailValidator(allowlist=[])  # "jane@localhost" is no customer address


@rule("email.extract")
def extract_email(text: str, ctx: Context) -> str | None:
    """The address is taken out of "Jane Doe <jane@example.com>" and
    "mailto:jane@example.com" forms, and stray spaces around "@" are dropped."""
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if "<" in text:
        text = parseaddr(text)[1] or text
    return text.replace(" @", "@").replace("@ ", "@").strip()


@rule("email.lowercase")
def lowercase_email(text: str, ctx: Context) -> str | None:
    """Email addresses are stored in lower case, so one mailbox has one spelling."""
    return text.lower()


def _email_problem(text: str) -> str:
    if "@" not in text:
        return "it has no @"
    local, _, domain = text.rpartition("@")
    if not local:
        return "nothing before the @"
    if not domain:
        return "no domain after the @"
    if " " in text:
        return "it contains a space"
    if "." not in domain:
        return f"the domain {short(domain)} has no dot"
    return "the address is malformed"


@rule("email.valid")
def valid_email(text: str, ctx: Context) -> str | None:
    """An address that is not a valid email address is an error, with the reason
    ("no domain after the @", …). The mailbox itself is not checked."""
    try:
        _validate_email(text)
    except ValidationError:
        raise Reject(f"{short(text)} is not a valid email address: {_email_problem(text)}") from None
    return text


def phone_region(ctx: Context) -> str | None:
    """The region a phone number is read in: the record's cleaned country, else
    the locale's country, else none (then only "+…" numbers can be read). A
    country that failed cleansing is not used."""
    country = ctx.values.get("country")
    return country if country and country_code(country) == country else ctx.locale.territory


@rule("phone.e164")
def phone_e164(text: str, ctx: Context) -> str | None:
    """Phone numbers become E.164 ("+4930123456"), read in the record's country
    (or the source locale's); an unreadable or invalid number is an error. An
    extension cannot be kept in E.164, so dropping one is a warning."""
    region = phone_region(ctx)
    if region is None and text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        where = f"in {region}" if region else "without a country (add the country or a +prefix)"
        raise Reject(f"{short(text)} cannot be read as a phone number {where}") from None
    if not phonenumbers.is_valid_number(number):
        code = phonenumbers.region_code_for_number(number) or region or "any country"
        raise Reject(f"{short(text)} is not a valid phone number for {code}")
    if number.extension:
        ctx.warn(f"extension {number.extension} dropped (E.164 has no extensions)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
