"""``indicator_convention`` through the API: a sweep submitted with ``talib`` (JSON or form) is
stored with that convention in its spec, and a different spec_id; a bad value is a 4xx naming
the field."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradesweep.specs import SweepSpec
from tradesweep.store import Job

Caller = Any
URL = "/api/v1/strategy/sweep"


def _spec(sessions: sessionmaker[Session], job_id: str) -> SweepSpec:
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return SweepSpec.from_dict(job.parameters["spec"])


def test_a_talib_sweep_is_stored_with_its_convention(
    sweep_json: dict[str, Any],
    sweep_form: dict[str, Any],
    acme: Caller,
    sessions: sessionmaker[Session],
) -> None:
    plain = acme.client.post(URL, json=sweep_json)
    talib = acme.client.post(URL, json={**sweep_json, "indicator_convention": "talib"})
    form = acme.client.post(URL, data={**sweep_form, "indicator_convention": "talib"})
    assert {r.status_code for r in (plain, talib, form)} == {202}, talib.text
    assert _spec(sessions, plain.json()["job_id"]).indicator_convention == "pandas"
    spec = _spec(sessions, talib.json()["job_id"])
    assert spec.indicator_convention == "talib"
    assert spec.spec_id != _spec(sessions, plain.json()["job_id"]).spec_id
    assert _spec(sessions, form.json()["job_id"]).spec_id == spec.spec_id


def test_an_unknown_convention_is_a_4xx_naming_the_field(
    sweep_json: dict[str, Any], acme: Caller
) -> None:
    response = acme.client.post(URL, json={**sweep_json, "indicator_convention": "ta-lib"})
    assert 400 <= response.status_code < 500
    body = response.json()
    assert set(body) >= {"error", "message", "details"}
    assert "indicator_convention" in response.text
