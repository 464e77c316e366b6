"""Chinese word segmentation shared by the search index, its queries, subscription matching and the `q` of the
catalog lists, so a word is split the same way wherever it is compared. Stock Elasticsearch has no Chinese
word segmenter without plugins: jieba (its Rust build, `rjieba`, about twenty times faster than the Python
one) runs here, and its tokens go to whitespace-analyzed fields next to the `cjk` bigram fields: bigrams give
recall for any substring, words give precision for real terms."""

import re
import threading
from functools import cache

import rjieba

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
#: frequency given to a domain word: high enough to win over its parts
DOMAIN_WORD_FREQUENCY = 200_000
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
_lock = threading.Lock()


@cache
def _tokenizer() -> rjieba.Jieba:
    """One tokenizer per process, loaded once (about 0.1 s), shared by threads (segmentation only reads)."""
    with _lock:
        tokenizer = rjieba.Jieba()
        for word in DOMAIN_WORDS:
            tokenizer.add_word(word, DOMAIN_WORD_FREQUENCY, None)
        return tokenizer


def _without_punctuation(tokens: list[str]) -> list[str]:
    """Tokens with punctuation removed and empty ones dropped. Most tokens are plain words: `isalnum` (what
    `\\w` means for str patterns) keeps them unchanged without running the regex on each."""
    kept = []
    for token in tokens:
        if not token.isalnum():
            token = _PUNCTUATION.sub("", token)
        if token:
            kept.append(token)
    return kept


def search_words(text: str) -> list[str]:
    """Words of `text` in search-engine mode (long words plus their parts: 锂离子电池 also gives 离子 and
    电池), punctuation dropped, lowercased."""
    if not text:
        return []
    return [word.lower() for word in _without_punctuation(_tokenizer().cut_for_search(text, True))]


def segment(text: str) -> str:
    """`search_words` for a whitespace-analyzed field."""
    return " ".join(search_words(text))


def words(text: str) -> list[str]:
    """Words of `text` in order (precise mode), punctuation dropped, case kept."""
    if not text:
        return []
    return _without_punctuation(_tokenizer().cut(text, True))


def has_latin(text: str) -> bool:
    return any("a" <= char.lower() <= "z" for char in text)
