import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_public_sees_published_patents_only(cast, api):
    published = factories.patent(cast.university)
    factories.patent(cast.university, status="draft")
    response = api(None).get("/api/v1/patents/")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [published.pk]
