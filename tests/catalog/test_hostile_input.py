"""Odd and hostile input to the catalogue pages and API: a 4xx with a reason, never a 500."""

from __future__ import annotations

import pytest

from apps.catalog.selectors import (
    MAX_QUERY_LENGTH,
    parse_target_query,
    split_prefixed_id,
    target_list,
)
from apps.core.errors import InvalidInput
from apps.core.pagination import MAX_OFFSET
from tests.factories import TargetFactory, TCEFactory

BEYOND_BIGINT = "99999999999999999999"


def test_it_reads_prefixed_ids_in_one_linear_pass() -> None:
    # A million separator characters: a backtracking pattern would take hours; one pass takes ms.
    assert split_prefixed_id("kic" + " " * 1_000_000 + "x") is None
    assert split_prefixed_id("KIC" + " " * 1_000_000 + "11442793") == ("kic", "11442793")
    assert split_prefixed_id("tic_25155310") == ("tic", "25155310")
    assert split_prefixed_id("kplr - 0011442793 ") == ("kplr", "11442793")
    assert split_prefixed_id("epic²") is None


def test_it_treats_unicode_digits_as_a_name_not_a_number() -> None:
    for text in ("²", "١٢٣", "１２３", "kic ²"):
        parsed = parse_target_query(text)
        assert parsed.identifier is None and parsed.text == text


def test_it_refuses_a_search_text_above_the_cap() -> None:
    parse_target_query("x" * MAX_QUERY_LENGTH)
    for text in ("9" * 5000, "kic" + " " * 4000 + "x", "x" * 100_000):
        with pytest.raises(InvalidInput, match=f"at most {MAX_QUERY_LENGTH} characters"):
            parse_target_query(text)
    with pytest.raises(InvalidInput, match="NUL"):
        parse_target_query("kic\x001")


@pytest.mark.django_db
def test_it_finds_nothing_rather_than_failing_on_odd_queries() -> None:
    TargetFactory(identifier="11442793", name="Kepler-90")
    assert list(target_list(q="²")) == []
    assert list(target_list(q="00011442793"))[0].name == "Kepler-90"


@pytest.mark.django_db
def test_it_answers_the_target_list_page_with_a_reason(client) -> None:  # noqa: ANN001
    assert client.get("/targets/", {"q": "²"}).status_code == 200
    page = client.get("/targets/", {"q": "9" * 5000})
    assert page.status_code == 200 and f"at most {MAX_QUERY_LENGTH} characters" in page.content.decode()
    assert client.get("/tces/", {"q": "kic" + " " * 4000 + "x"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"q": "9" * 5000},
        {"q": "kic" + " " * 4000 + "x"},
        {"q": "kic\x001"},
        {"mission": "\x00"},
        {"disposition": "P\x00C"},
        {"mag_min": "nan"},
        {"teff_max": "inf"},
        {"offset": str(MAX_OFFSET + 1)},
        {"offset": BEYOND_BIGINT},
    ],
)
def test_it_answers_422_to_hostile_target_filters(client, query: dict) -> None:  # noqa: ANN001
    response = client.get("/api/targets", query)
    assert response.status_code == 422, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"target_id": BEYOND_BIGINT},
        {"source": "\x00"},
        {"period_min": "-inf"},
        {"snr_min": "nan"},
        {"q": "x" * 10_000},
        {"offset": BEYOND_BIGINT},
    ],
)
def test_it_answers_422_to_hostile_tce_filters(client, query: dict) -> None:  # noqa: ANN001
    assert client.get("/api/tces", query).status_code == 422


@pytest.mark.django_db
def test_it_answers_the_unicode_digit_search_in_the_api(client) -> None:  # noqa: ANN001
    TargetFactory()
    response = client.get("/api/targets", {"q": "²"})
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.django_db
def test_it_answers_404_for_ids_beyond_bigint_in_paths(client) -> None:  # noqa: ANN001
    TCEFactory()
    for path in (
        f"/api/targets/{BEYOND_BIGINT}",
        f"/api/tces/{BEYOND_BIGINT}",
        f"/api/lightcurves/{BEYOND_BIGINT}",
        f"/api/jobs/{BEYOND_BIGINT}",
        f"/targets/{BEYOND_BIGINT}/",
        f"/tces/{BEYOND_BIGINT}/",
        f"/jobs/{BEYOND_BIGINT}/",
    ):
        assert client.get(path).status_code == 404, path
