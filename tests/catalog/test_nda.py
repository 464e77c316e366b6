"""Confidential achievement details behind a non-disclosure agreement: who reads them, how accepting the NDA
is recorded, and that no list, queue or event ever carries them."""

import pytest

from market.catalog.models import NdaAcceptance
from market.events.models import OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db

SECRET = "包覆层厚度 5 nm，烧结温度 750 ℃，保温 12 小时。"
NDA_TEXT = "仅用于评估合作，不得向第三方披露。"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """The cast's dozen users would cost seconds per test with the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def achievement(cast):
    return factories.achievement(cast.university, confidential_details=SECRET, nda_text=NDA_TEXT)


def detail_path(achievement) -> str:
    return f"/api/v1/achievements/{achievement.pk}/"


@pytest.mark.parametrize("role", ["anonymous", "orgless", "ent_member", "inst_member", "broker"])
def test_without_nda_details_are_withheld(cast, api, achievement, role: str) -> None:
    client = api(None if role == "anonymous" else getattr(cast, role))
    response = client.get(detail_path(achievement))
    assert response.status_code == 200
    body = response.json()
    assert (body["confidential_details"], body["confidential_access"]) == (None, False)
    assert (body["nda_required"], body["nda_text"]) == (True, NDA_TEXT)
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize("role", ["uni_member", "uni_admin", "platform_admin"])
def test_owners_and_reviewers_always_read_details(cast, api, achievement, role: str) -> None:
    body = api(getattr(cast, role)).get(detail_path(achievement)).json()
    assert (body["confidential_details"], body["confidential_access"]) == (SECRET, True)
    assert not NdaAcceptance.objects.exists()


def test_accepting_the_nda_reveals_details_and_is_recorded_once(cast, api, achievement) -> None:
    client = api(cast.ent_member)

    first = client.post(f"{detail_path(achievement)}nda/")
    second = client.post(f"{detail_path(achievement)}nda/")

    for response in (first, second):
        assert response.status_code == 200
        assert (response.json()["confidential_details"], response.json()["confidential_access"]) == (
            SECRET,
            True,
        )
    [acceptance] = NdaAcceptance.objects.all()
    assert (acceptance.user, acceptance.achievement_id, acceptance.nda_text) == (
        cast.ent_member,
        achievement.pk,
        NDA_TEXT,
    )
    [event] = OutboxEvent.objects.all()
    assert (event.type, event.key) == ("market.achievement.nda_accepted.v1", f"achievement:{achievement.pk}")
    assert (event.data["user_id"], event.data["organization_id"]) == (cast.ent_member.pk, cast.enterprise.pk)
    assert SECRET not in str(event.data)

    later = client.get(detail_path(achievement)).json()
    assert (later["confidential_details"], later["confidential_access"]) == (SECRET, True)


def test_acceptance_is_personal_not_shared_with_colleagues(cast, api, achievement) -> None:
    assert api(cast.ent_member).post(f"{detail_path(achievement)}nda/").status_code == 200
    colleague = api(cast.ent_admin).get(detail_path(achievement)).json()
    assert (colleague["confidential_details"], colleague["confidential_access"]) == (None, False)


def test_orgless_users_may_accept_too(cast, api, achievement) -> None:
    response = api(cast.orgless).post(f"{detail_path(achievement)}nda/")
    assert response.status_code == 200
    assert OutboxEvent.objects.get().data["organization_id"] is None


def test_anonymous_cannot_accept(api, achievement) -> None:
    response = api(None).post(f"{detail_path(achievement)}nda/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not NdaAcceptance.objects.exists()
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "withdrawn", "closed"])
def test_nda_on_an_unpublished_achievement(cast, api, status: str) -> None:
    """Outsiders cannot see an unpublished achievement at all (404); those who can see it learn that only
    published achievements take NDAs (409). Neither records anything."""
    hidden = factories.achievement(cast.university, status=status, nda_text=NDA_TEXT)
    path = f"{detail_path(hidden)}nda/"

    outsider = api(cast.ent_member).post(path)
    assert outsider.status_code == 404
    assert outsider.json()["error"]["code"] == "not_found"
    for insider in (cast.uni_member, cast.platform_admin):
        response = api(insider).post(path)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "not_published"

    assert not NdaAcceptance.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_nda_on_an_achievement_without_one_conflicts(cast, api) -> None:
    open_achievement = factories.achievement(cast.university, nda_text="", confidential_details="")
    response = api(cast.ent_member).post(f"{detail_path(open_achievement)}nda/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_nda"
    assert api(None).get(detail_path(open_achievement)).json()["nda_required"] is False
    assert not NdaAcceptance.objects.exists()


@pytest.mark.parametrize("role", ["anonymous", "ent_member", "uni_member", "platform_admin"])
def test_lists_never_carry_confidential_details(cast, api, achievement, role: str) -> None:
    factories.achievement(cast.university, status="pending", confidential_details=SECRET, nda_text=NDA_TEXT)
    user = None if role == "anonymous" else getattr(cast, role)
    client = api(user)
    if user is not None:
        assert client.post(f"{detail_path(achievement)}nda/").status_code == 200

    pages = [client.get("/api/v1/achievements/")]
    if role == "platform_admin":
        pages.append(client.get("/api/v1/review/achievements/"))

    for page in pages:
        assert page.status_code == 200
        assert page.json()["results"]
        for item in page.json()["results"]:
            assert "confidential_details" not in item
        assert SECRET not in page.content.decode()


def test_events_never_carry_confidential_details(cast, api) -> None:
    body = {
        "name": "高镍正极包覆工艺",
        "field": "材料科学与工程",
        "trl": 5,
        "stage": "pilot",
        "pricing_method": "negotiated",
        "teaser": "循环寿命提升 30%。",
        "confidential_details": SECRET,
        "nda_text": NDA_TEXT,
    }
    owner = api(cast.uni_member)
    pk = owner.post("/api/v1/achievements/", body, format="json").json()["id"]
    owner.patch(f"/api/v1/achievements/{pk}/", {"confidential_details": SECRET + "补充"}, format="json")
    owner.post(f"/api/v1/achievements/{pk}/submit/")
    api(cast.platform_admin).post(f"/api/v1/review/achievements/{pk}/approve/")

    events = list(OutboxEvent.objects.filter(key=f"achievement:{pk}"))
    assert len(events) == 4
    for event in events:
        assert SECRET not in str(event.data)
        assert NDA_TEXT not in str(event.data)


def test_the_owner_sees_who_accepted_and_no_one_else_does(cast, achievement) -> None:
    """The owner's members and reviewers see the acceptances of its achievements, newest first; another
    organization (even one whose member accepted) and anonymous visitors see none of them."""
    from market.catalog.selectors import nda_acceptance_list
    from market.catalog.services import achievement_accept_nda

    other = factories.achievement(cast.institute, nda_text=NDA_TEXT)
    first = achievement_accept_nda(achievement=achievement, user=cast.ent_member)
    second = achievement_accept_nda(achievement=achievement, user=cast.ent2_member)
    elsewhere = achievement_accept_nda(achievement=other, user=cast.ent_member)

    assert list(nda_acceptance_list(user=cast.uni_member)) == [second, first]
    assert list(nda_acceptance_list(user=cast.inst_member)) == [elsewhere]
    assert set(nda_acceptance_list(user=cast.platform_admin)) == {first, second, elsewhere}
    for outsider in (cast.ent_member, cast.orgless, None):
        assert list(nda_acceptance_list(user=outsider)) == []
