"""Chinese segmentation for the index and the queries. Stock Elasticsearch has no Chinese word segmenter
without plugins, so jieba runs here and its tokens go to whitespace-analyzed fields next to the `cjk`
bigram fields: bigrams give recall for any substring, words give precision for real terms."""

import logging
import re
import threading
from functools import cache

import jieba

#: domain terms jieba's general dictionary splits wrongly; added once, before the first segmentation
DOMAIN_WORDS = (
    "锂离子电池",
    "锂电池",
    "正极材料",
    "负极材料",
    "固态电池",
    "储能电站",
    "热失控",
    "数控机床",
    "热误差",
    "减速器",
    "机器视觉",
    "深度学习",
    "神经网络",
    "光伏组件",
    "碳纤维",
    "石墨烯",
    "物联网",
    "区块链",
)
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
_lock = threading.Lock()


@cache
def _tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer, loaded once (about a second) and shared by threads."""
    with _lock:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word in DOMAIN_WORDS:
            tokenizer.add_word(word, freq=200_000)
        return tokenizer


def segment(text: str) -> str:
    """Words of `text` for a whitespace-analyzed field: search-engine mode (long words plus their parts),
    punctuation dropped, lowercased."""
    if not text:
        return ""
    words = (_PUNCTUATION.sub("", word) for word in _tokenizer().cut_for_search(text, HMM=True))
    return " ".join(word.lower() for word in words if word)


def words(text: str) -> list[str]:
    """Words of `text` in order (precise mode), punctuation kept out, for suggestion inputs."""
    return [
        word for word in (_PUNCTUATION.sub("", word) for word in _tokenizer().cut(text, HMM=True)) if word
    ]


def has_latin(text: str) -> bool:
    return any("a" <= char.lower() <= "z" for char in text)
