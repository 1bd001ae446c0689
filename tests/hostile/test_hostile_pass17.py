"""Hostile pass 17: environment variables set to blanks, QA files of invisible text, and more.

COVERAGE_SEARCH_CACHE=' ' exported the model (143 MB) into a folder named ' ' in the current
folder; the other variables set to blanks already counted as unset. A QA answer_span of
zero-width characters was held by every passage.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
from hostile_support import (
    REPO,
    assert_damage_message,
    assert_one_line_error,
    build_corpus,
    cli,
    live_build,
    make_corpus,
    network_guard,
    run_module,
)

from http_fixture import OTHER_PARAGRAPHS, WIRE_PARAGRAPHS, Route, Site, article_html, serve

__all__ = ["network_guard"]  # the fixture, imported for use here


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("pass17"))


@pytest.mark.parametrize("value", [" ", "\t "])
def test_an_index_or_corpus_variable_set_to_blanks_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Set to nothing they were ./index and ./corpus; set to blanks every verb said
    "index_dir must be a folder path, not empty text", naming no variable."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", value)
    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", value)
    code, _out, err = cli("stats")
    assert code == 1 and "No index at index." in err, err
    code, out, err = cli("watch", "list")
    assert code == 0 and "No saved searches" in out, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_app_takes_blank_folder_variables_for_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COVERAGE_SEARCH_INDEX", " ")
    monkeypatch.setenv("COVERAGE_SEARCH_CORPUS", " ")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(str(m.value) for m in (*at.error, *at.warning, *at.info))
    assert "empty text" not in shown and "index" in shown, shown


def test_an_engine_uri_variable_set_to_blanks_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COVERAGE_SEARCH_ENGINE_URI=' ' stopped `build --engine milvus` with "A Milvus Lite
    database must be a file named like milvus.db ..., not ' '" instead of the default."""
    pytest.importorskip("milvus_lite")
    monkeypatch.setenv("COVERAGE_SEARCH_ENGINE_URI", " ")
    corpus = make_corpus(tmp_path / "corpus")
    argv = ("--corpus", corpus, "--index", tmp_path / "index", "--engine", "milvus", "--quiet")
    code, _out, err = cli("build", *argv)
    assert code == 0, err
    code, out, err = cli("search", "Amodei", "--index", tmp_path / "index", "-k", "1")
    assert code == 0 and "Amodei" in out, err


@pytest.mark.parametrize("value", [" ", "\t"])
def test_a_cache_variable_set_to_blanks_is_unset(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COVERAGE_SEARCH_CACHE", value)
    done = run_module(
        ["search", "Amodei", "--index", str(built["index"]), "-k", "1"], cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-300:]
    assert list(tmp_path.iterdir()) == [], "nothing is written into the current folder"


@pytest.mark.parametrize(
    "text",
    # pass 19: controls and direction marks passed the file check and failed when asked
    ["\u200b", "\ufeff\u00ad", "\u200c \u2060", "\x00", "\x07\x1b", "\u200e", "\u2066\u2069"],
)
@pytest.mark.parametrize("field", ["question", "answer_span"])
def test_a_qa_field_of_invisible_characters_is_refused_by_its_line(
    built: dict[str, Path], tmp_path: Path, field: str, text: str
) -> None:
    """A span of zero-width spaces normalized to "", which every passage holds: the question
    scored as found at rank 1 and quoted. A question of them, or of controls or direction
    marks, failed only when asked ("Type a question..."), naming neither file nor line."""
    row = {"question": "When did Amodei leave OpenAI?", "answer_span": "December 2020"}
    row[field] = text
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(row) + "\n", encoding="utf-8")
    code, out, err = cli("eval", "--qa", qa, "--index", built["index"], "--quiet")
    message = assert_one_line_error(code, err)
    assert f'qa.jsonl:1 needs a non-empty "{field}"' in message and not out


def test_the_api_refuses_an_invisible_span(built: dict[str, Path]) -> None:
    from coverage_search import EvalDataError, QAQuestion, evaluate_qa

    question = QAQuestion(question="When did Amodei leave OpenAI?", answer_span="\u200b\u200b")
    with pytest.raises(EvalDataError, match="needs a non-empty question and answer_span"):
        evaluate_qa([question], index_dir=built["index"], progress=False)


def test_a_corpus_document_with_only_a_title_is_indexed(tmp_path: Path) -> None:
    """A BEIR document with a title and no text (TREC-COVID has thousands) was written as a
    file of front matter alone, which the build skips: it was silently left out of the index."""
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"_id": "t1", "title": "Tomato harvest doubles in the valley", "text": ""},
        {"_id": "t2", "title": "", "text": "Garlic prices rose sharply in the spring."},
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    row = {"question": "What doubled in the valley?", "answer_span": "harvest doubles"}
    qa.write_text(json.dumps(row) + "\n", encoding="utf-8")
    code, out, err = cli("eval", "--qa", qa, "--corpus", corpus, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["documents"] == 2, report
    assert report["overall"]["passage_top5"] == 1, report


# A JSON escape of half a UTF-16 pair decodes to a lone surrogate, which UTF-8 cannot encode.
LONE = "\\ud800"


def test_a_lone_surrogate_in_a_beir_corpus_line_is_no_crash(tmp_path: Path) -> None:
    """Writing the document as a Markdown file raised UnicodeEncodeError ("unexpected")."""
    corpus = tmp_path / "corpus.jsonl"
    text = f"Tomato harvest doubles {LONE} in the valley."
    corpus.write_text(f'{{"_id": "t1{LONE}", "title": "T{LONE}", "text": "{text}"}}\n')
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "What doubled in the valley?", "answer_span": "harvest doubles"}\n')
    code, out, err = cli("eval", "--qa", qa, "--corpus", corpus, "--json")
    assert code == 0, err
    assert json.loads(out)["documents"] == 1


def test_a_lone_surrogate_in_a_qa_line_prints_as_json(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a C.UTF-8 locale stdout escapes surrogates only of bytes (surrogateescape), so
    --json raised UnicodeEncodeError on the question echoed in the outcomes."""
    monkeypatch.setenv("PYTHONIOENCODING", "utf-8:surrogateescape")  # what C.UTF-8 gives
    qa = tmp_path / "qa.jsonl"
    line = {"question": "When did Amodei leave OpenAI?", "answer_span": "December 2020"}
    raw = json.dumps(line).replace("OpenAI?", f"OpenAI {LONE}?")
    qa.write_text(raw.replace('2020"}', f'2020", "split": "s{LONE}"}}') + "\n")
    done = run_module(["eval", "--qa", str(qa), "--index", str(built["index"]), "--json"])
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-300:]
    report = json.loads(done.stdout)
    assert report["outcomes"][0]["question"] == "When did Amodei leave OpenAI \ufffd?"


def test_a_lone_surrogate_in_the_saved_searches_file_is_no_crash(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """A hand edit's \\ud800 made every `watch run` and `watch add` raise UnicodeEncodeError
    when the file was saved again."""
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / ".watches.json").write_text(
        f'{{"version": 1, "watches": [{{"question": "Amodei {LONE}", "outlets": ["{LONE}"]}}]}}'
    )
    code, _out, err = cli("watch", "run", "--corpus", corpus, "--index", built["index"])
    assert code == 0, err
    code, _out, err = cli("watch", "add", "OpenAI", "--corpus", corpus, "--index", built["index"])
    assert code == 0, err
    saved = json.loads((corpus / ".watches.json").read_text(encoding="utf-8"))
    assert [w["question"] for w in saved["watches"]] == ["Amodei \ufffd", "OpenAI"]


def test_a_lone_surrogate_in_the_feeds_file_is_no_crash(tmp_path: Path) -> None:
    """`feeds --unsubscribe` saved the file again and raised UnicodeEncodeError."""
    corpus = make_corpus(tmp_path / "corpus")
    feeds = {"http://127.0.0.1:9/a.xml": {"title": f"T{LONE}", "seen": [LONE]}, "x": {}}
    text = json.dumps({"version": 1, "feeds": feeds}).replace("\\\\", "\\")
    (corpus / ".feeds.json").write_text(text)
    code, _out, err = cli("feeds", "--unsubscribe", "x", "--corpus", corpus)
    assert code == 0, err
    code, out, err = cli("feeds", "--corpus", corpus)
    assert code == 0 and "T\ufffd" in out, err
    assert list(json.loads((corpus / ".feeds.json").read_text())["feeds"]) == [
        "http://127.0.0.1:9/a.xml"
    ]


@pytest.mark.usefixtures("network_guard")
def test_a_url_with_letters_past_ascii_is_fetched_as_a_browser_does(tmp_path: Path) -> None:
    """`add http://host/café.html` (as an address bar shows it) said "could not connect ('ascii'
    codec can't encode character ...)": the path is sent percent-encoded as UTF-8."""
    page = article_html("Café society", WIRE_PARAGRAPHS, site_name="Wire").encode()
    other = article_html("Tokyo", OTHER_PARAGRAPHS, site_name="Wire").encode()
    site = Site(routes={"/caf%C3%A9.html": Route(body=page), "/x.html": Route(body=other)})
    corpus = tmp_path / "corpus"
    with serve(site):
        for url in (site.url("/café.html"), site.url("/x.html?q=日本")):
            code, out, err = cli("add", url, "--corpus", corpus, "--index", tmp_path / "i")
            assert code == 0, err
            assert "added" in out
    assert site.hits["/caf%C3%A9.html"] == 1 and site.hits["/x.html"] == 1


@pytest.mark.parametrize("field", ["corpus_path", "built_at", "model"])
def test_a_manifest_holding_half_a_character_is_damage_a_build_repairs(
    built: dict[str, Path], tmp_path: Path, field: str
) -> None:
    """A hand edit's \\ud800 in manifest.json raised UnicodeEncodeError from every verb."""
    index = tmp_path / "index"
    shutil.copytree(built["index"], index)
    manifest = live_build(index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data[field] += "\ud800"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    for verb in (("stats",), ("search", "Amodei"), ("ask", "Why did Amodei leave?")):
        assert_damage_message(*cli(*verb, "--index", index)[::2])
    code, _out, err = cli("build", "--corpus", built["corpus"], "--index", index, "--quiet")
    assert code == 0, err
    assert cli("stats", "--index", index)[0] == 0


def test_a_manifest_of_a_corpus_path_not_utf8_is_no_damage(tmp_path: Path) -> None:
    """A build records such a path with the halves \\udc80-\\udcff: that is no damage."""
    corpus = make_corpus(tmp_path / "corpus-\udcff")
    code, _out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index", "--quiet")
    assert code == 0, err
    code, out, err = cli("search", "Amodei", "--index", tmp_path / "index", "-k", "1")
    assert code == 0 and "Amodei" in out, err


FIELDS = {
    "span a number": {"answer_span": 5},
    "question None": {"question": None},
    "doc_id a number": {"doc_id": 5},
    "kind a list": {"kind": ["why"]},
    "split a dict": {"split": {"a": 1}},
}


@pytest.mark.parametrize("case", list(FIELDS))
def test_the_api_refuses_question_fields_of_wrong_types(built: dict[str, Path], case: str) -> None:
    """They raised TypeError or AttributeError (a question None: QueryError only when asked)."""
    from coverage_search import EvalDataError, QAQuestion, evaluate_qa

    fields = {"question": "When did Amodei leave OpenAI?", "answer_span": "December 2020"}
    question = QAQuestion(**{**fields, **FIELDS[case]})  # type: ignore[arg-type]
    with pytest.raises(EvalDataError, match=r"^Question 1 "):
        evaluate_qa([question], index_dir=built["index"], progress=False)


def test_the_api_refuses_an_empty_off_topic_question(built: dict[str, Path]) -> None:
    from coverage_search import EvalDataError, QAQuestion, evaluate_qa

    question = QAQuestion(question="When did Amodei leave OpenAI?", answer_span="December 2020")
    with pytest.raises(EvalDataError, match="Off-topic question 2 is empty"):
        evaluate_qa([question], refusals=["Who won?", " \u200b"], index_dir=built["index"])


@pytest.mark.usefixtures("network_guard")
def test_a_url_added_with_letters_past_ascii_is_one_address_with_its_encoded_form(
    tmp_path: Path,
) -> None:
    """Added as "/café.html", the article was not found by "/caf%C3%A9.html", the spelling a
    request sends (and a browser copies): `remove` said no document matches."""
    page = article_html("Café society", WIRE_PARAGRAPHS, site_name="Wire").encode()
    site = Site(routes={"/caf%C3%A9.html": Route(body=page)})
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    with serve(site):
        code, _out, err = cli("add", site.url("/café.html"), "--corpus", corpus, "--index", index)
        assert code == 0, err
        code, out, err = cli(
            "add", site.url("/caf%C3%A9.html"), "--corpus", corpus, "--index", index
        )
        assert code == 0 and "already in the corpus" in out, err
    assert site.hits["/caf%C3%A9.html"] == 1, "the second spelling is known without a fetch"
    code, out, err = cli(
        "remove", site.url("/caf%C3%A9.html"), "--corpus", corpus, "--index", index, "--quiet"
    )
    assert code == 0 and "removed" in out, err
    assert not list(corpus.glob("*.md"))


@pytest.mark.usefixtures("network_guard")
@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_charset_label_naming_the_undefined_codec_is_passed_over(
    tmp_path: Path, where: str
) -> None:
    """charset=undefined names Python's codec that refuses everything with UnicodeError (not
    UnicodeDecodeError): the page was refused as "no article text in the page (decoding with
    'undefined' codec failed ...)"; an unknown label is passed over, as a browser does."""
    meta = "undefined" if where == "meta" else "windows-1252"
    page = article_html("Café society", WIRE_PARAGRAPHS, site_name="Wire", charset_meta=meta)
    body = page.encode("cp1252")  # é as one byte: not UTF-8, so the labels are read
    kind = "text/html; charset=undefined" if where == "header" else "text/html"
    site = Site(routes={"/a.html": Route(body=body, content_type=kind)})
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    with serve(site):
        code, out, err = cli("add", site.url("/a.html"), "--corpus", corpus, "--index", index)
    assert code == 0 and "added" in out, err
    assert "Café society" in next(corpus.glob("*.md")).read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["a file", "a live index"])
def test_a_refused_keep_index_leaves_nothing_beside_it(
    built: dict[str, Path], tmp_path: Path, target: str
) -> None:
    """The corpus was written into <keep-index>-corpus before the index folder was refused:
    `--keep-index /` wrote /-corpus at the root of the disk."""
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"_id": "d", "text": "Tomato harvest doubles in the valley."}\n')
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "What doubled?", "answer_span": "harvest doubles"}\n')
    keep = tmp_path / "keep"
    if target == "a file":
        keep.write_text("notes\n")
    else:
        shutil.copytree(built["index"], keep)
    code, _out, err = cli("eval", "--qa", qa, "--corpus", corpus, "--keep-index", keep, "--quiet")
    assert_one_line_error(code, err)
    assert not (tmp_path / "keep-corpus").exists()


def test_evaluate_refuses_a_live_index_before_writing_the_corpus(
    built: dict[str, Path], tmp_path: Path
) -> None:
    from coverage_search import EvalDataError, evaluate, load_beir

    (tmp_path / "c.jsonl").write_text('{"_id": "d", "text": "Tomato harvest doubles."}\n')
    (tmp_path / "q.jsonl").write_text('{"_id": "q", "text": "tomato harvest"}\n')
    (tmp_path / "r.tsv").write_text("q\td\t1\n")
    data = load_beir(tmp_path / "c.jsonl", tmp_path / "q.jsonl", tmp_path / "r.tsv")
    keep = tmp_path / "keep"
    shutil.copytree(built["index"], keep)
    with pytest.raises(EvalDataError):
        evaluate(data, index_dir=keep, corpus_dir=tmp_path / "corpus", progress=False)
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize("mark", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200d"])
def test_an_invisible_character_inside_a_word_of_the_query_is_dropped(
    built: dict[str, Path], mark: str
) -> None:
    """ "Amo\u200bdei" (pasted from a web page) was two keyword terms, "amo" and "dei", and
    the unknown-names rule called "Amo" a name the coverage never mentions."""
    from coverage_search import CoverageIndex
    from coverage_search.query.names import unknown_names
    from coverage_search.query.search import clean_query

    with contextlib.closing(CoverageIndex.open(built["index"])) as index:
        plain = index.search("Amodei Solana", mode="keyword", k=3)
        marked = index.search(f"Amo{mark}dei Sol{mark}ana", mode="keyword", k=3)
        assert plain and [h.passage_id for h in marked] == [h.passage_id for h in plain]
        question = f"Why did Amo{mark}dei leave OpenAI?"
        assert unknown_names(index.engine, clean_query(question)) == []
        assert index.answer(question).found


def test_keep_index_with_an_index_is_refused_not_ignored(
    built: dict[str, Path], tmp_path: Path
) -> None:
    from coverage_search import EvalDataError, QAQuestion, evaluate_qa

    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "When did Amodei leave?", "answer_span": "December"}\n', "utf-8")
    kept = tmp_path / "kept"
    argv = ["eval", "--qa", qa, "--index", built["index"], "--keep-index", kept]
    text = assert_one_line_error(*cli(*argv)[::2], codes=(1, 2))
    assert "--keep-index" in text and not kept.exists()
    question = QAQuestion(question="When did Amodei leave?", answer_span="December")
    with pytest.raises(EvalDataError, match="keep_index"):
        evaluate_qa([question], index_dir=built["index"], keep_index=kept, progress=False)
    assert not kept.exists()


def test_a_corpus_that_repeats_a_document_id_is_refused_by_its_line(tmp_path: Path) -> None:
    """The later line replaced the earlier silently: a span only in the first copy was then
    reported as "not in document", and the first document was left out of the index."""
    from coverage_search import EvalDataError
    from coverage_search.evaluation.beir import load_corpus

    corpus = tmp_path / "corpus.jsonl"
    rows = [{"_id": "d1", "text": "Amodei left."}, {"_id": "d2", "text": "Other."}]
    rows.append({"_id": "d1", "text": "A second d1."})
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(EvalDataError, match=r"corpus.jsonl:3 repeats the id 'd1' of line 1"):
        load_corpus(corpus)


@pytest.mark.parametrize("label", ["unicode_escape", "raw-unicode-escape", "ibm037", "cp500"])
def test_a_charset_label_no_browser_knows_decodes_no_escapes(label: str) -> None:
    """A page not in UTF-8 labelled unicode_escape had its backslash sequences decoded
    ("C:\\new" lost its backslash and gained a line break); one labelled with an EBCDIC code
    page (ibm037), which no browser knows either, came out as other letters altogether."""
    from coverage_search.ingest.decoding import decode_body

    text = "Caf\xe9 paths: C:\\new\\table and 1+1-2 \\u0041"
    body = f'<html><meta charset="{label}"><p>{text}</p></html>'.encode("cp1252")
    decoded = decode_body(body, label, url="http://127.0.0.1/a.html")
    assert text.removeprefix("Caf\xe9") in decoded  # é is the detector's guess; no escapes


def test_an_outlet_the_index_lacks_is_named_in_a_short_line(built: dict[str, Path]) -> None:
    """A 5,000-character --outlet (a pasted page) was echoed whole in the notice."""
    long_name = "Wire" * 1250
    code, _out, err = cli("search", "Amodei", "--outlet", long_name, "--index", built["index"])
    assert code == 0 and "No outlet named 'WireWire" in err and len(err) < 600, err


@pytest.mark.parametrize(
    ("typed", "searched"),
    [("\u200b" * 4000 + "hello", "hello"), ("\u00ad" * 3999 + " x", "x"), ("\u200b hi", "hi")],
)
def test_a_query_is_checked_as_it_is_searched(typed: str, searched: str) -> None:
    """The emptiness check looked at the text as typed; the marks inside words were dropped
    after it and after the cut, so "\u200b" * 4000 + "hello" was searched as ""."""
    from coverage_search import QueryError
    from coverage_search.query.search import clean_query

    assert clean_query(typed) == searched
    with pytest.raises(QueryError):
        clean_query("\u200b\u00ad \ufeff" * 100)
