"""The three matchers, each run the way a competent user would run it, returning scored pairs.

Every runner takes a ``Dataset`` and its cleaned rows (Junction's cleansing, so
all tools see the same values) and returns ``{(id, id): score}`` for the pairs
it predicts, scores in [0, 1], down to a low floor so the benchmark can also
report each tool's best possible threshold.
"""

import logging

from datasets import Dataset, pair
from unidecode import unidecode

FLOOR = 0.01


def junction(dataset: Dataset, cleaned: list[dict], floor: float | None = None) -> dict:
    """Junction's matcher exactly as find_duplicates runs it (``floor`` None: the review threshold)."""
    from masterdata.matching import find_pairs

    found = find_pairs("customer", cleaned, min_score=floor)
    if dataset.linkage:
        group = dict(zip((r["id"] for r in dataset.rows), dataset.groups, strict=True))
        found = [p for p in found if group[p.left_id] != group[p.right_id]]
    return {pair(p.left_id, p.right_id): (p.score, p.decision) for p in found}


def _fold(value) -> str | None:
    if value is None:
        return None
    text = " ".join(unidecode(str(value)).lower().replace("-", " ").replace("'", "").split())
    return text or None


def customer_frame(cleaned: list[dict]):
    """Cleaned rows as the data frame a Splink or recordlinkage user prepares: lowercased, accents folded."""
    import pandas as pd

    frame = pd.DataFrame(cleaned)
    for column in ("first_name", "last_name", "street", "city", "company", "region"):
        frame[column] = frame[column].map(_fold)
    frame["tax_id"] = frame["tax_id"].map(lambda v: "".join(ch for ch in v if ch.isalnum()) if v else None)
    frame["postcode"] = frame["postcode"].map(lambda v: v.replace(" ", "").upper() if v else None)
    frame["name_concat"] = (frame["first_name"].fillna("") + " " + frame["last_name"].fillna("")).str.strip()
    frame["name_concat"] = frame["name_concat"].where(frame["name_concat"] != "", None)
    frame = frame.rename(columns={"id": "unique_id"}).astype(object)
    return frame.where(frame.notna(), None)


def splink(dataset: Dataset, cleaned: list[dict]) -> dict:
    """Splink 5 on DuckDB: Fellegi-Sunter, u by random sampling, m by EM.

    FEBRL sets use the configuration of Splink's own FEBRL examples on the
    original columns; the generated customers get a configuration in the same
    spirit for their fields (names with swapped-name and term-frequency levels,
    birth date, email, phone, address).
    """
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    if dataset.name.startswith("febrl"):
        frames, settings, rules = _splink_febrl(dataset, cl, block_on, SettingsCreator)
    else:
        frames, settings, rules = _splink_customer(cleaned, cl, block_on, SettingsCreator)
    db = DuckDBAPI()
    linker = Linker([db.register(f) for f in frames], settings)
    linker.training.estimate_probability_two_random_records_match(rules["deterministic"], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in rules["em"]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=FLOOR).as_pandas_dataframe()
    left, right = predictions["unique_id_l"].astype(str), predictions["unique_id_r"].astype(str)
    return {pair(a, b): p for a, b, p in zip(left, right, predictions["match_probability"], strict=True)}


def _splink_febrl(dataset: Dataset, cl, block_on, settings_creator):
    frames = dataset.source if dataset.linkage else (dataset.source,)
    prepared = []
    for frame in frames:
        f = frame.reset_index().rename(columns={"rec_id": "unique_id"})
        for column in ("date_of_birth", "soc_sec_id", "postcode", "street_number"):
            f[column] = f[column].astype(str).str.strip().replace({"nan": None, "": None})
        prepared.append(f.astype(object).where(f.notna(), None))
    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = settings_creator(
        link_type="link_only" if dataset.linkage else "dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ],
    )
    rules = {
        "deterministic": [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")],
        "em": [block_on("date_of_birth"), block_on("postcode")],
    }
    return prepared, settings, rules


def _splink_customer(cleaned: list[dict], cl, block_on, settings_creator):
    frame = customer_frame(cleaned)
    blocking = [
        block_on("first_name", "last_name"),
        "l.first_name = r.last_name and l.last_name = r.first_name",
        block_on("last_name", "date_of_birth"),
        block_on("first_name", "date_of_birth"),
        block_on("email"),
        block_on("phone"),
        block_on("postcode", "substr(last_name, 1, 2)"),
        block_on("tax_id"),
    ]
    settings = settings_creator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "last_name", forename_surname_concat_col_name="name_concat"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, invalid_dates_as_null=True),
            cl.EmailComparison("email"),
            cl.DamerauLevenshteinAtThresholds("phone", [1, 2]),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("city", [0.92]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("tax_id", [1]),
            cl.JaroWinklerAtThresholds("company", [0.92]),
        ],
    )
    rules = {
        "deterministic": [block_on("email"), block_on("first_name", "last_name", "date_of_birth")],
        "em": [block_on("first_name", "last_name"), block_on("date_of_birth"), block_on("email")],
    }
    return [frame], settings, rules


def recordlinkage(dataset: Dataset, cleaned: list[dict]) -> dict:
    """recordlinkage 0.16: union of blocking passes, binary comparisons, unsupervised ECM classifier."""
    import pandas as pd
    import recordlinkage as rl

    frame = customer_frame(cleaned).set_index("unique_id")
    frame["dob"] = frame["date_of_birth"]
    indexer = rl.Index()
    for columns in (["first_name", "last_name"], ["last_name", "dob"], ["first_name", "dob"], ["postcode"], ["tax_id"]):
        indexer.block(columns)
    if not dataset.name.startswith("febrl"):
        indexer.block("email")
        indexer.block("phone")
    if dataset.linkage:
        group = dict(zip((r["id"] for r in dataset.rows), dataset.groups, strict=True))
        a = frame[[group[i] == "a" for i in frame.index]]
        b = frame[[group[i] == "b" for i in frame.index]]
        candidates, frames = indexer.index(a, b), (a, b)
    else:
        candidates, frames = indexer.index(frame), (frame,)
    candidates = candidates.drop_duplicates()  # the blocking passes overlap
    compare = rl.Compare()
    compare.string("first_name", "first_name", method="jarowinkler", threshold=0.85, label="first")
    compare.string("last_name", "last_name", method="jarowinkler", threshold=0.85, label="last")
    compare.exact("dob", "dob", label="dob")
    compare.string("street", "street", method="jarowinkler", threshold=0.85, label="street")
    compare.exact("postcode", "postcode", label="postcode")
    compare.string("city", "city", method="jarowinkler", threshold=0.85, label="city")
    compare.string("tax_id", "tax_id", method="levenshtein", threshold=0.85, label="tax_id")
    if not dataset.name.startswith("febrl"):
        compare.exact("email", "email", label="email")
        compare.exact("phone", "phone", label="phone")
    features = compare.compute(candidates, *frames)
    classifier = rl.ECMClassifier(binarize=0.5)
    classifier.fit(features)
    probability = pd.Series(classifier.prob(features), index=features.index)
    kept = probability[probability >= FLOOR]
    return {pair(str(a), str(b)): float(p) for (a, b), p in kept.items()}
