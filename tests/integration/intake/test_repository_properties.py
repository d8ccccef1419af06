"""A property of every repository method: it never returns another tenant's document, whatever the
ids, locations and filters asked for; and a repository without a tenant cannot be used."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.repository import indexes
from services.intake.repository.intakes import Intakes
from services.intake.repository.patients import Patients
from services.intake.repository.referrals import Referrals
from shared.paging import PageRequest
from shared.tenancy import MissingTenant

TENANTS = ("clinic-a", "clinic-b", "clinic-c")
LOCATIONS = ("main", "uptown")
REPOSITORIES = (Patients, Referrals, Intakes)


def _documents(tenant: str, n: int) -> dict[str, dict]:
    location = LOCATIONS[n % 2]
    shared = {"tenant_id": tenant, "version": 1}
    return {
        indexes.PATIENTS: {
            **shared,
            "_id": f"pat-{n}",
            "location_ids": [location],
            "match_keys": [f"k{n % 3}", f"pid:{n}"],
        },
        indexes.REFERRALS: {
            **shared,
            "_id": f"ref-{n}",
            "location_id": location,
            "partner_id": "p",
            "partner_referral_id": f"R{n % 3}",
            "patient_id": f"pat-{n}",
        },
        indexes.INTAKES: {
            **shared,
            "_id": f"int-{n}",
            "location_id": location,
            "referral_id": f"ref-{n}",
            "patient_id": f"pat-{n}",
        },
    }


@pytest.fixture
def seeded_db(db):
    """Three tenants whose documents share ids, keys and partner references with each other."""
    for i, tenant in enumerate(TENANTS):
        for n in range(
            i * 4, i * 4 + 6
        ):  # overlapping ranges: the same ids exist in two tenants' ranges
            for collection, document in _documents(tenant, n).items():
                db[collection].update_one(
                    {"_id": document["_id"]}, {"$setOnInsert": document}, upsert=True
                )
    return db


ids = st.sampled_from([f"{p}-{n}" for p in ("pat", "ref", "int") for n in range(14)])
locations = st.none() | st.sets(st.sampled_from(LOCATIONS + ("elsewhere",)))
filters = st.dictionaries(
    st.sampled_from(["tenant_id", "_id", "patient_id", "location_id", "partner_id"]),
    st.sampled_from(TENANTS)
    | ids
    | st.sampled_from(LOCATIONS)
    | st.just({"$exists": True})
    | st.just({"$ne": "clinic-a"}),
    max_size=3,
)


def calls(repo):
    """Every read method of the repository, as strategies of zero-argument calls."""
    options = [
        st.builds(lambda i, loc: lambda: [repo.get(i, loc)], ids, locations),
        st.builds(
            lambda loc, where, page: lambda: repo.page(loc, where, PageRequest(page, 5)).items,
            locations,
            filters,
            st.integers(1, 3),
        ),
    ]
    if isinstance(repo, Patients):
        options.append(
            st.builds(
                lambda keys: lambda: repo.candidates(keys),
                st.lists(st.sampled_from(["k0", "k1", "k2", "pid:3"]), max_size=3),
            )
        )
    if isinstance(repo, Referrals):
        options.append(
            st.builds(
                lambda r: lambda: [repo.by_partner_reference("p", r)],
                st.sampled_from(["R0", "R1", "R2"]),
            )
        )
        options.append(st.builds(lambda i: lambda: [repo.get_full(i)], ids))
    return st.one_of(options)


def test_no_repository_method_ever_returns_another_tenants_document(seeded_db):
    @settings(max_examples=120, deadline=None)
    @given(data=st.data(), tenant=st.sampled_from(TENANTS), kind=st.sampled_from(REPOSITORIES))
    def check(data, tenant, kind):
        repo = kind(seeded_db, tenant)
        call = data.draw(calls(repo))
        for document in call():
            assert document is None or document["tenant_id"] == tenant

    check()


@pytest.mark.parametrize("kind", REPOSITORIES)
@pytest.mark.parametrize("tenant", [None, ""])
def test_a_repository_without_a_tenant_fails(db, kind, tenant):
    with pytest.raises(MissingTenant):
        kind(db, tenant)


def test_a_repository_may_not_move_a_document_to_another_tenant(seeded_db):
    repo = Patients(seeded_db, "clinic-a")
    with pytest.raises(ValueError, match="tenant_id"):
        repo.update({"_id": "pat-0"}, {"$set": {"tenant_id": "clinic-b"}})
    with pytest.raises(ValueError, match="another tenant"):
        repo.insert({"_id": "new", "tenant_id": "clinic-b"})
