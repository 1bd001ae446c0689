"""Saved searches: kept in corpus/.watches.json, run after each update, reporting what is new."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from conftest import COVERAGE_EXTRA, write_doc
from coverage_search import CorpusError, QueryError, add_watch, list_watches, remove_watch
from coverage_search.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def folders(small_corpus: Path, build_index) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    return small_corpus, build_index(small_corpus)


def test_add_list_remove_with_filters_kept(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = folders
    where = ("--corpus", corpus, "--index", index)
    code, out, err = run(capsys, "watch", "add", "Amodei OpenAI", "--outlet", "Axios",
                         "--since", "2026-01-01", *where)  # fmt: skip
    assert code == 0, err
    assert out.startswith("Saved search 1. Amodei OpenAI (outlet Axios, since 2026-01-01)")
    assert "1 matching passages now" in out
    code, out, _ = run(capsys, "watch", "add", "tokenized shares", "--mode", "keyword", *where)
    assert code == 0
    code, out, _ = run(capsys, "watch", "list", "--corpus", corpus)
    assert out.splitlines()[1].startswith("2. tokenized shares (keyword mode) — last run ")
    code, out, _ = run(capsys, "watch", "list", "--corpus", corpus, "--json")
    first = json.loads(out)[0]
    assert (first["outlets"], first["since"], first["seen"]) == (["Axios"], "2026-01-01", 1)
    code, out, _ = run(capsys, "watch", "remove", "1", "--corpus", corpus)
    assert code == 0 and out.startswith("Removed saved search 1. Amodei OpenAI")
    assert [w.question for w in list_watches(corpus)] == ["tokenized shares"]
    assert [w.number for w in list_watches(corpus)] == [1]  # the others move up


def test_a_watch_on_an_outlet_the_index_lacks_says_so_and_is_still_saved(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`search` named a mistyped outlet; `watch add` saved it silently, to watch nothing."""
    corpus, index = folders
    code, out, err = run(capsys, "watch", "add", "Amodei OpenAI", "--outlet", "Axois",
                         "--corpus", corpus, "--index", index)  # fmt: skip
    assert code == 0 and "0 matching passages now" in out
    assert err.startswith("No outlet named 'Axois' in this index; its outlets: ")
    assert "Axios" in err and len(err.splitlines()) == 1
    assert [w.outlets for w in list_watches(corpus)] == [("Axois",)]  # the user's to keep


def test_update_reports_only_passages_new_since_the_last_run(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = folders
    where = ("--corpus", corpus, "--index", index, "--quiet")
    assert run(capsys, "watch", "add", "Why did Dario Amodei leave OpenAI?", *where[:4])[0] == 0
    assert run(capsys, "watch", "add", "tomato sauce", *where[:4])[0] == 0
    body, meta = COVERAGE_EXTRA["techcrunch-split.md"]
    write_doc(corpus, "techcrunch-split.md", body, **meta)

    code, out, err = run(capsys, "update", *where)
    assert code == 0, err
    assert "Saved search 1. Why did Dario Amodei leave OpenAI?: 1 new since " in out
    assert "  - Amodei explains the OpenAI split — TechCrunch, 2026-06-20" in out
    assert "    https://techcrunch.example/amodei-split#:~:text=" in out
    assert "Saved search 2. tomato sauce: nothing new since " in out

    code, out, _ = run(capsys, "update", *where, "--json")
    assert code == 0
    data = json.loads(out)
    assert [(w["number"], w["new"]) for w in data["watches"]] == [(1, []), (2, [])]
    code, out, _ = run(capsys, "watch", "run", *where[:4], "--json")
    assert [len(r["new"]) for r in json.loads(out)] == [0, 0]

    # A rebuild from scratch keeps the saved searches (they live in corpus/, not index/).
    assert run(capsys, "build", *where, "--force")[0] == 0
    assert len(list_watches(corpus)) == 2


def test_without_an_index_the_first_run_reports_everything_it_finds(
    small_corpus: Path,
    build_index,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    index = small_corpus.parent / "index"
    code, out, _ = run(capsys, "watch", "add", "tokenized shares", "--corpus", small_corpus,
                       "--index", index)  # fmt: skip
    assert code == 0 and "matching passages now" not in out
    build_index(small_corpus, index)
    code, out, _ = run(capsys, "watch", "run", "--corpus", small_corpus, "--index", index)
    assert code == 0 and "1 new" in out and "Anthropic warns on tokenized shares" in out


def test_bad_input_is_one_sentence(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = folders
    code, _, err = run(capsys, "watch", "remove", "3", "--corpus", corpus)
    assert code == 1 and err == (
        "coverage-search: There is no saved search 3 (none yet). "
        "List them: coverage-search watch list\n"
    )
    code, _, err = run(capsys, "watch", "add", "  ", "--corpus", corpus, "--index", index)
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "watch", "add", "x", "--since", "June", "--corpus", corpus,
                       "--index", index)  # fmt: skip
    assert code == 2 and "since must be a date" in err
    with pytest.raises(QueryError, match="Unknown mode"):
        add_watch(corpus, "x", mode="fuzzy")
    code, out, _ = run(capsys, "watch", "run", "--corpus", corpus, "--index", index)
    assert code == 0 and out.startswith("No saved searches.")
    (corpus / ".watches.json").write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "watch", "list", "--corpus", corpus)
    assert code == 1 and "is unreadable" in err and err.count("\n") == 1
    with pytest.raises(CorpusError, match="saved searches are lost"):
        remove_watch(corpus, 1)
    (corpus / ".watches.json").write_text('{"watches": [{"question": 5}, {"question": "ok", '
                                          '"seen": "oops", "outlets": [1]}]}')  # fmt: skip
    assert [(w.question, w.seen, w.outlets) for w in list_watches(corpus)] == [("ok", 0, ())]


def test_saves_from_many_threads_all_land(small_corpus: Path) -> None:
    threads = [
        threading.Thread(target=add_watch, args=(small_corpus, f"question {i}")) for i in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(w.question for w in list_watches(small_corpus)) == sorted(
        f"question {i}" for i in range(12)
    )
    assert not [p.name for p in small_corpus.iterdir() if p.name.endswith(".part")]


def test_an_article_already_reported_is_not_new_when_another_passage_of_it_shows(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = folders
    where = ("--corpus", corpus, "--index", index, "--quiet")
    assert run(capsys, "watch", "add", "tokenized shares", *where[:4])[0] == 0
    doc = corpus / "anthropic-tokens.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\nA later paragraph on tokenized shares.\n",
                   encoding="utf-8")  # fmt: skip
    code, out, err = run(capsys, "update", *where)
    assert code == 0, err
    assert "Saved search 1. tokenized shares: nothing new" in out


def test_watch_add_on_a_damaged_index_says_so_instead_of_saving_blind(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = folders
    (index / "CURRENT").write_text("build-that-does-not-exist\n")
    code, _, err = run(capsys, "watch", "add", "tokenized shares", "--corpus", corpus,
                       "--index", index)  # fmt: skip
    assert code != 0 and err.count("\n") == 1 and "coverage-search build" in err
    assert list_watches(corpus) == []


def test_remove_by_question_is_not_shifted_by_another_removal(
    small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for question in ("first question", "Second  Question", "third question"):
        add_watch(small_corpus, question)
    remove_watch(small_corpus, 1)  # another session removes the first one meanwhile
    # By number, "2" would now be the third question; by its question it is still the second.
    gone = remove_watch(small_corpus, "second question")
    assert gone.question == "Second  Question"
    assert [w.question for w in list_watches(small_corpus)] == ["third question"]
    code, out, _ = run(capsys, "watch", "remove", "THIRD question", "--corpus", small_corpus)
    assert code == 0 and "third question" in out and not list_watches(small_corpus)
    code, _, err = run(capsys, "watch", "remove", "nothing like it", "--corpus", small_corpus)
    assert code == 1 and "No saved search asks 'nothing like it'" in err
    assert err.count("\n") == 1
    code, _, err = run(capsys, "watch", "remove", "99999999999999999999999", "--corpus",
                       small_corpus)  # fmt: skip
    assert code == 1 and "There is no saved search" in err


def test_remove_a_search_as_listed_finds_it_wherever_it_moved(small_corpus: Path) -> None:
    """The app removes the `Watch` it showed: the same search with the same filters, saved at
    the same time, even after another window renumbered the list or saved it with filters."""
    add_watch(small_corpus, "first question")
    add_watch(small_corpus, "shared question")
    add_watch(small_corpus, "shared question", outlets=["Reuters"])
    listed = list_watches(small_corpus)
    remove_watch(small_corpus, 1)  # another window
    assert remove_watch(small_corpus, listed[2]).outlets == ("Reuters",)
    assert [(w.question, w.outlets) for w in list_watches(small_corpus)] == [
        ("shared question", ())
    ]
    with pytest.raises(CorpusError, match="'first question' is no longer there"):
        remove_watch(small_corpus, listed[0])


def test_a_newer_file_is_refused_and_entries_it_cannot_read_are_kept(tmp_path: Path) -> None:
    from coverage_search.watch.store import WatchStore

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    state = corpus / ".watches.json"
    newer = {"version": 99, "watches": [{"question": "Anthropic IPO", "schedule": "daily"}]}
    state.write_text(json.dumps(newer), encoding="utf-8")
    with pytest.raises(CorpusError, match="newer coverage-search"):
        WatchStore(corpus)
    assert json.loads(state.read_text(encoding="utf-8")) == newer
    odd = [{"question": 5}, "junk", {"question": "Anthropic IPO"}]
    state.write_text(json.dumps({"version": 1, "watches": odd}), encoding="utf-8")
    assert [w.question for w in WatchStore(corpus).watches()] == ["Anthropic IPO"]
    add_watch(corpus, "OpenAI governance")  # a save writes back what it could not read
    kept = json.loads(state.read_text(encoding="utf-8"))["watches"]
    assert {"question": 5} in kept and "junk" in kept


def test_a_mistyped_corpus_folder_is_refused_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "corpsu" / "deeper"
    with pytest.raises(CorpusError, match=r"No corpus folder at .*check --corpus"):
        add_watch(typo, "Anthropic IPO")
    assert not (tmp_path / "corpsu").exists()
    assert list_watches(typo) == []  # nothing saved there: nothing to list


def test_the_same_search_saved_twice_is_one_saved_search(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = add_watch(corpus, "Anthropic IPO", since="2026-01-01")
    again = add_watch(corpus, "  anthropic   IPO ", since="2026-01-01")
    other = add_watch(corpus, "Anthropic IPO")  # other filters: another search
    assert again.number == first.number and other.number == first.number + 1
    assert [w.question for w in list_watches(corpus)] == ["Anthropic IPO", "Anthropic IPO"]


def test_saving_a_search_again_says_it_is_saved_already(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = folders
    argv = ("watch", "add", "Anthropic IPO, twice", "--corpus", corpus, "--index", index)
    first = run(capsys, *argv)[1]
    assert first.startswith("Saved search ")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("Already saved as search " + first.split()[2])


def test_wrong_arguments_are_one_error_and_save_nothing(tmp_path: Path) -> None:
    """A bad `index` used to raise AttributeError after the search was saved with no baseline,
    so its first run reported everything as new."""
    from coverage_search import QueryError, list_feeds, remove_watch, run_watches

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for index in (b"x", "index", 5):
        with pytest.raises(QueryError, match="open index"):
            add_watch(corpus, "OpenAI governance", index=index)  # type: ignore[arg-type]
    assert list_watches(corpus) == []
    with pytest.raises(QueryError, match="open index"):
        run_watches(None, corpus)  # type: ignore[arg-type]
    for which in (None, 1.5, True, {}):
        with pytest.raises(QueryError, match="number or question"):
            remove_watch(corpus, which)  # type: ignore[arg-type]
    for bad in (None, b"corpus", ""):
        with pytest.raises(QueryError, match="corpus_dir must be a folder path"):
            list_watches(bad)  # type: ignore[arg-type]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for listing in (list_watches, list_feeds):
        with pytest.raises(CorpusError, match="is not a folder: check --corpus"):
            listing(a_file)


def test_saving_a_search_before_any_index_says_what_the_first_run_will_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    code, out, err = run(
        capsys, "watch", "add", "Anthropic IPO", "--corpus", corpus, "--index", tmp_path / "nope"
    )
    assert code == 0 and out.startswith("Saved search 1")
    assert "no index at" in err and "first run reports every article" in err


def test_a_search_saved_as_typed_runs_as_typed(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`watch add --literal` keeps "the ChatGPT maker" from being searched as OpenAI, on every
    run; it is a saved search of its own beside the same words with names."""
    from coverage_search import CoverageIndex, run_watches

    corpus, index = folders
    where = ("--corpus", corpus, "--index", index)
    question = "the ChatGPT maker"
    code, out, err = run(capsys, "watch", "add", question, "--literal", *where)
    assert code == 0, err
    assert out.startswith(f"Saved search 1. {question} (as typed); 0 matching passages now")
    code, out, _ = run(capsys, "watch", "add", question, *where)
    assert code == 0 and out.startswith(f"Saved search 2. {question};")
    # As typed, nothing says "ChatGPT maker"; named, it is OpenAI, which the corpus covers.
    assert [(w.literal, w.seen > 0) for w in list_watches(corpus)] == [(True, False), (False, True)]

    opened = CoverageIndex.open(index)
    asked: list[tuple[str, bool]] = []

    class Recording:  # the real index, with what each search was asked
        engine = opened.engine

        def search(self, query: str, **kwargs: object) -> object:
            asked.append((query, bool(kwargs["aliases"])))
            return opened.search(query, **kwargs)  # type: ignore[arg-type]

    try:
        reports = run_watches(Recording(), corpus)  # type: ignore[arg-type]
    finally:
        opened.close()
    assert asked == [(question, False), (question, True)]
    assert not any(r.error for r in reports)
    with pytest.raises(QueryError, match="literal must be"):
        add_watch(corpus, question, literal="yes")  # type: ignore[arg-type]


def test_the_file_says_version_2_only_while_a_search_is_saved_as_typed(tmp_path: Path) -> None:
    """An older release reads version 1 and refuses 2, rather than dropping `literal` and
    searching "the ChatGPT maker" as OpenAI from then on."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    state = corpus / ".watches.json"
    add_watch(corpus, "Anthropic IPO")
    assert json.loads(state.read_text())["version"] == 1
    add_watch(corpus, "the ChatGPT maker", literal=True)
    assert json.loads(state.read_text())["version"] == 2
    assert [w.literal for w in list_watches(corpus)] == [False, True]
    remove_watch(corpus, "the ChatGPT maker")
    assert json.loads(state.read_text())["version"] == 1


def test_a_run_records_what_it_saw_for_the_search_it_ran_after_a_renumbering(
    small_corpus: Path,
) -> None:
    """Two saves of one question, as typed and not: a run's record lands on the one it ran,
    even when another command's removal moved it to the other's number meanwhile."""
    from coverage_search.watch.store import WatchStore

    typed = add_watch(small_corpus, "OpenAI", literal=True)
    named = add_watch(small_corpus, "OpenAI")
    first = add_watch(small_corpus, "tomato sauce")
    store = WatchStore(small_corpus)
    remove_watch(small_corpus, typed)  # `named` is number 1 now, where `typed` was
    store.record(typed, ["gone#1"])  # removed: nothing is written
    store.record(named, ["doc#abc"])
    by_question = {(w.question, w.literal): w.seen for w in list_watches(small_corpus)}
    assert by_question == {("OpenAI", False): 1, ("tomato sauce", False): 0}
    assert first.number == 3
