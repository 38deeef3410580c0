"""The quality report on the seed archive: what it lists, and that each link fixes it."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from articles import quality
from articles.models import Article, Entity, Mention, Outlet

pytestmark = pytest.mark.django_db


def subjects(findings) -> set[str]:
    return {finding.subject for finding in findings}


def entity(name: str, kind: str, **fields) -> Entity:
    found, _ = Entity.objects.update_or_create(
        name=name,
        kind=kind,
        defaults={"slug": f"{name}-{kind}".lower().replace(" ", "-"), **fields},
    )
    return found


@pytest.fixture
def curator_client(client):
    user = User.objects.create_user("curator", password="a-long-test-password", is_staff=True)
    user.groups.add(Group.objects.get(name="curators"))
    client.force_login(user)
    return client


def test_a_country_or_city_of_another_kind_is_a_kind_conflict():
    entity("Moldova", "organisation")
    entity("Siauliai", "person")
    entity("Kharkiv", "place")  # right: not listed

    found = subjects(quality.kind_conflicts())

    assert {"Moldova (organisation)", "Siauliai (person)"} <= found
    assert "Kharkiv (place)" not in found


def test_a_name_used_under_two_kinds_is_a_kind_conflict_for_both():
    entity("Tallinn Pledge", "organisation")
    entity("Tallinn Pledge", "event")

    conflicts = {f.subject: f.detail for f in quality.kind_conflicts()}

    assert conflicts["Tallinn Pledge (organisation)"] == "also named as an event"
    assert conflicts["Tallinn Pledge (event)"] == "also named as an organisation"


def test_titles_in_aliases_and_words_in_names_point_to_a_kind():
    entity("Rinkevics", "organisation", aliases=["President Rinkevics"])
    entity("Beijing Olympics", "place")

    conflicts = {f.subject: f.detail for f in quality.kind_conflicts()}

    assert "a person's title" in conflicts["Rinkevics (organisation)"]
    assert "an event's word" in conflicts["Beijing Olympics (place)"]


def test_transliterations_and_organisation_forms_are_probable_duplicates():
    andrei, andrey = entity("Andrei Turchak", "person"), entity("Andrey Turchak", "person")
    afp, agency = entity("AFP", "organisation"), entity("AFP news agency", "organisation")
    entity("Andriy Yermak", "person")  # another man: not grouped with Turchak

    duplicates = {f.subject: f.fix_url for f in quality.probable_duplicates()}

    turchak = duplicates["Andrei Turchak (person) / Andrey Turchak (person)"]
    assert turchak.endswith(f"?id__in={andrei.pk},{andrey.pk}")
    afp_url = duplicates["AFP (organisation) / AFP news agency (organisation)"]
    assert afp_url.endswith(f"?id__in={afp.pk},{agency.pk}")
    assert not any("Yermak" in subject and "Turchak" in subject for subject in duplicates)


def test_the_duplicates_link_selects_them_for_the_merge_action(curator_client):
    andrei, andrey = entity("Andrei Turchak", "person"), entity("Andrey Turchak", "person")
    (finding,) = [f for f in quality.probable_duplicates() if "Turchak" in f.subject]

    page = curator_client.get(finding.fix_url)

    assert page.status_code == 200
    assert {e.pk for e in page.context["cl"].result_list} == {andrei.pk, andrey.pk}


def test_a_multi_word_name_found_once_in_one_article_is_listed():
    article = Article.objects.filter(sections__isnull=False).first()
    section = article.sections.first()
    byline = entity("Hudson and Rauhala", "person")
    Mention.objects.create(entity=byline, section=section, article=article, count=1)
    most_mentioned = Entity.objects.filter(name__contains=" ").order_by("-mentions__count").first()

    found = subjects(quality.one_off_multiword_entities())

    assert "Hudson and Rauhala (person)" in found
    assert f"{most_mentioned.name} ({most_mentioned.kind})" not in found
    assert not any(len(subject.split(" (")[0].split()) < 2 for subject in found)


def test_outlets_without_a_canonical_name_are_listed_and_the_seeds_are_not():
    guessed = Outlet.objects.create(name="Financialpost", slug="financialpost")
    Article.objects.filter(pk=Article.objects.first().pk).update(outlet=guessed)

    findings = quality.outlets_without_canonical_name()

    assert [f.subject for f in findings] == ["Financialpost"]
    assert findings[0].fix_url == f"/admin/articles/outlet/{guessed.pk}/change/"


def test_a_curator_who_renames_an_outlet_gives_it_its_canonical_name(curator_client):
    guessed = Outlet.objects.create(name="Financialpost", slug="financialpost")
    Article.objects.filter(pk=Article.objects.first().pk).update(outlet=guessed)
    url = f"/admin/articles/outlet/{guessed.pk}/change/"

    response = curator_client.post(
        url, {"name": "Financial Post", "slug": "financialpost", "domain": "financialpost.com"}
    )

    assert response.status_code == 302
    guessed.refresh_from_db()
    assert guessed.is_canonical
    assert quality.outlets_without_canonical_name() == []


def test_the_admin_page_lists_every_section_with_links(curator_client):
    entity("Moldova", "organisation")

    page = curator_client.get("/admin/quality/")

    assert page.status_code == 200
    text = page.content.decode()
    for title in (
        "Entity kind conflicts",
        "Probable duplicate entities",
        "One-off multi-word entities",
        "Outlets without a canonical name",
    ):
        assert title in text
    moldova = Entity.objects.get(name="Moldova", kind="organisation")
    assert f'href="/admin/articles/entity/{moldova.pk}/change/"' in text


def test_the_admin_page_is_for_staff_only(client):
    assert client.get("/admin/quality/").status_code == 302  # to the sign-in page
    User.objects.create_user("reader", password="a-long-test-password")
    client.login(username="reader", password="a-long-test-password")
    assert client.get("/admin/quality/").status_code == 302


def test_entity_names_are_escaped_on_the_admin_page(curator_client):
    entity("<script>alert(1)</script> Ministry", "place")
    text = curator_client.get("/admin/quality/").content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ministry" in text


def test_the_command_prints_the_report_with_links():
    entity("Moldova", "organisation")
    out = StringIO()

    call_command("quality_report", "--base-url", "https://archive.example.org/", stdout=out)

    text = out.getvalue()
    assert "Entity kind conflicts (" in text
    assert "Outlets without a canonical name (" in text
    moldova = Entity.objects.get(name="Moldova", kind="organisation")
    assert f"fix: https://archive.example.org/admin/articles/entity/{moldova.pk}/change/" in text
