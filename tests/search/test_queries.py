"""The query builder's pure logic (no engine): what goes into a request body for each kind of search."""

from services.search.queries import SearchParams, search_body, text_match


def test_ranking_bonuses_are_sent_only_when_hits_are_ranked_by_relevance():
    ranked = search_body(SearchParams(q="锂离子电池"))
    by_date = search_body(SearchParams(q="锂离子电池", sort="newest"))
    by_price = search_body(SearchParams(q="锂离子电池", sort="price"))
    bonuses = ranked["query"]["bool"]["must"][0]["bool"]
    assert bonuses["must"] == [text_match("锂离子电池")]
    assert {next(iter(clause)) for clause in bonuses["should"]} == {"match_phrase", "term"}
    # sorted by a field, the very same match without the bonuses
    assert by_date["query"]["bool"]["must"] == by_price["query"]["bool"]["must"] == [text_match("锂离子电池")]
    assert by_date["sort"][0] == {"published_at": {"order": "desc", "missing": "_last"}}


def test_latin_words_match_fuzzily_and_chinese_words_do_not():
    latin = text_match("neural netwrok")["bool"]["should"][0]["multi_match"]
    chinese = text_match("神经网络")["bool"]["should"][0]["multi_match"]
    assert latin["fuzziness"] == "AUTO"
    assert "fuzziness" not in chinese
