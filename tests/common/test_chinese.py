"""The shared segmenter (pure logic): the index, the queries and subscription matching all split text here."""

from market.common.chinese import has_latin, search_words, segment, words


def test_domain_words_stay_whole_and_search_mode_adds_their_parts():
    found = search_words("一种锂离子电池正极材料")
    assert {"锂离子电池", "正极材料", "离子", "电池"} <= set(found)
    assert words("一种锂离子电池正极材料") == ["一种", "锂离子电池", "正极材料"]


def test_punctuation_goes_inside_tokens_too_and_plain_words_pass_unchanged():
    assert words("一种RGB-D相机，及其标定方法。") == ["一种", "RGBD", "相机", "及其", "标定", "方法"]
    assert "深度" in search_words("基于深度_学习的（锂电池）")
    assert all(token.isalnum() for token in search_words("基于深度_学习的（锂电池）"))
    assert words("  ，。！") == [] and segment("") == ""


def test_search_words_are_lowercase_and_latin_is_detected():
    assert segment("CMOS图像传感器") == "cmos 图像 传感 感器 传感器"
    assert has_latin("CMOS图像传感器") and not has_latin("图像传感器")
