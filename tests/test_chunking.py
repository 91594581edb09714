from bot.finnish import split_sentences
from ingest.chunking import chunk_blocks, embedding_text
from ingest.loaders import Block


def sentence(i: int, words: int = 12) -> str:
    return f"Lause {i} kertoo kunnan ilmastotyöstä " + " ".join(["asiaa"] * (words - 6)) + " esim. mm. nyt."


def test_chunks_hold_whole_sentences_within_bounds():
    text = " ".join(sentence(i) for i in range(80))
    chunks = chunk_blocks([Block(text, ("1. Luku",), 3)], min_words=150, max_words=300, overlap_words=40)
    assert len(chunks) > 3
    for chunk in chunks[:-1]:
        assert 150 <= len(chunk.text.split()) <= 300
    for chunk in chunks:
        assert chunk.text.startswith("Lause ")
        assert chunk.text.endswith("nyt.")
        assert chunk.headings == ("1. Luku",)
        assert chunk.page == 3


def test_overlap_repeats_the_last_sentence_of_the_previous_chunk():
    text = " ".join(sentence(i) for i in range(60))
    first, second = chunk_blocks([Block(text)], 150, 300, 40)[:2]
    a, b = split_sentences(first.text), split_sentences(second.text)
    shared = [s for s in b if s in a]
    assert shared and shared == a[-len(shared) :] == b[: len(shared)]
    assert 0 < sum(len(s.split()) for s in shared) <= 40


def test_sections_are_not_mixed_when_long_enough():
    a = " ".join(sentence(i) for i in range(20))
    b = " ".join(sentence(100 + i) for i in range(20))
    chunks = chunk_blocks([Block(a, ("Päästöt",)), Block(b, ("Rahoitus",))], 150, 300, 40)
    assert {c.headings for c in chunks} == {("Päästöt",), ("Rahoitus",)}
    for chunk in chunks:
        numbers = {int(s.split()[1]) for s in split_sentences(chunk.text)}
        assert all(n < 100 for n in numbers) or all(n >= 100 for n in numbers)


def test_short_sections_share_a_chunk_and_name_both_headings():
    chunks = chunk_blocks([Block(sentence(1), ("Kunta lyhyesti",)), Block(sentence(2), ("Päästöt",))], 150, 300, 40)
    assert len(chunks) == 1
    assert chunks[0].headings == ("Kunta lyhyesti",)
    assert "Päästöt" in embedding_text("Laukaa", chunks[0])
    assert embedding_text("Laukaa", chunks[0]).startswith("Laukaa > Kunta lyhyesti")


def test_chunk_ids_are_stable_and_change_with_text():
    blocks = [Block(" ".join(sentence(i) for i in range(5)))]
    a = chunk_blocks(blocks)[0]
    b = chunk_blocks(blocks)[0]
    c = chunk_blocks([Block(blocks[0].text + " Uusi lause tässä.")])[0]
    assert a.chunk_id("x.md") == b.chunk_id("x.md") != c.chunk_id("x.md")
