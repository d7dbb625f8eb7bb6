"""The benchmark commands report what they promise (no timing is asserted)."""

import importlib.util
import json
from pathlib import Path

import pytest

from azera.bench.memory import DatasetError, bench_memory, format_report, load_dataset
from azera.cli import main
from azera.config import PROJECT_ROOT

DATA = Path(__file__).parent / "data"
TINY = {
    "conversations": [
        {
            "id": "a",
            "sessions": [
                {
                    "id": "a1",
                    "time": "2026-01-01T10:00:00Z",
                    "turns": [
                        {"id": "a1t1", "speaker": "user", "text": "My cat is called Miso."},
                        {"id": "a1t2", "speaker": "assistant", "text": "Miso is a lovely name."},
                        {"id": "a1t3", "speaker": "user", "text": "I work as a baker in Ghent."},
                    ],
                }
            ],
        },
        {
            "id": "b",
            "sessions": [
                {
                    "id": "b1",
                    "time": "2026-02-01T10:00:00Z",
                    "turns": [
                        {"id": "b1t1", "speaker": "user", "text": "My cat is called Pixel."},
                        {"id": "b1t2", "speaker": "user", "text": "I work as a nurse in Oslo."},
                    ],
                }
            ],
        },
    ],
    "questions": [
        {"conversation": "a", "question": "What is my cat's name?", "evidence": ["a1t1"]},
        {"conversation": "b", "question": "Where do I work?", "evidence": ["b1t2"]},
    ],
}


def test_bench_memory_reports_every_mode_without_leaks(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    report = bench_memory(path, k=2)
    assert report["memories"] == 5 and report["questions"] == 2
    assert set(report["modes"]) >= {"hybrid", "lexical_only", "semantic_only"}
    for mode in report["modes"].values():
        assert mode["cross_conversation_results"] == 0
        assert 0.0 <= mode["mrr"] <= mode["recall_any@2"] <= 1.0
    assert report["modes"]["hybrid"]["recall_any@2"] == 1.0


def test_bench_memory_sums_up_each_question_category(tmp_path: Path) -> None:
    questions = [
        {**TINY["questions"][0], "category": "named"},
        {**TINY["questions"][1], "category": "paraphrase"},
        {"conversation": "b", "question": "What is Pixel?", "evidence": ["b1t1"], "category": "named"},
    ]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({**TINY, "questions": questions}))
    report = bench_memory(path, k=2)
    hybrid = report["modes"]["hybrid"]
    assert hybrid["questions"] == 3
    assert {name: row["questions"] for name, row in hybrid["by_category"].items()} == {"named": 2, "paraphrase": 1}
    assert hybrid["by_category"]["named"]["recall_any@2"] == 1.0
    table = format_report(report).splitlines()
    assert any(line.split()[:3] == ["hybrid", "named", "2"] for line in table)
    assert any(line.split()[:3] == ["lexical_only", "all", "3"] for line in table)


def test_bad_turns_index_and_are_recalled(tmp_path: Path) -> None:
    """Empty, duplicated, very long and non-English turns: indexed without errors, and each still recalled."""
    long_turn = "We talked about the weather for a while. " * 400 + "The spare key is under the blue flowerpot."
    turns = [
        ("t1", ""),
        ("t2", "   "),
        ("t3", "I bought a red kayak last summer."),
        ("t4", "I bought a red kayak last summer."),
        ("t5", long_turn),
        ("t6", "Mi abuela vive en Valparaíso y cultiva tomates."),
        ("t7", "我的妹妹在上海学习钢琴。"),
        ("t8", "Моя собака боится грозы."),
        ("t9", "🎉🎉🎉"),
    ]
    data = {
        "conversations": [
            {
                "id": "bad",
                "sessions": [
                    {
                        "id": "s1",
                        "time": "2026-03-01T10:00:00Z",
                        "turns": [{"id": i, "speaker": "user", "text": t} for i, t in turns],
                    }
                ],
            }
        ],
        "questions": [
            {"conversation": "bad", "question": "What colour is my kayak?", "evidence": ["t3", "t4"]},
            {"conversation": "bad", "question": "Where is the spare key?", "evidence": ["t5"]},
            {"conversation": "bad", "question": "¿Dónde vive tu abuela?", "evidence": ["t6"]},
            {"conversation": "bad", "question": "妹妹在上海学习什么？", "evidence": ["t7"]},
            {"conversation": "bad", "question": "Чего боится собака?", "evidence": ["t8"]},
        ],
    }
    (tmp_path / "bad.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = bench_memory(tmp_path / "bad.json", k=3)
    assert report["memories"] == 7  # the two empty turns are not memories; everything else is
    hybrid = report["modes"]["hybrid"]
    assert hybrid["recall_any@3"] == 1.0, hybrid
    assert hybrid["questions_with_nothing"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "Expecting value"),
        ('{"questions": []}', "expected an object with 'conversations'"),
        ('{"conversations": [{"id": "a", "sessions": [{"id": "s", "turns": []}]}], "questions": []}', "needs 'time'"),
        (
            json.dumps({**TINY, "questions": [{"conversation": "a", "question": "q", "evidence": ["nope"]}]}),
            "unknown turns",
        ),
    ],
)
def test_malformed_datasets_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)


def test_cli_bench_memory_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "memory"]) == 2
    assert "--dataset" in capsys.readouterr().err
    assert main(["bench", "memory", "--dataset", str(tmp_path / "missing.json")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_shipped_datasets_are_valid() -> None:
    data = load_dataset(DATA / "recall_synthetic.json")
    assert len(data["questions"]) >= 40 and len(data["conversations"]) == 3
    longterm = load_dataset(DATA / "recall_longterm.json")
    assert len(longterm["questions"]) >= 100 and len(longterm["conversations"]) == 4
    assert all(question["category"] for question in longterm["questions"])


def test_both_sources_count_on_the_long_term_set() -> None:
    """Paraphrased questions need semantic search, questions naming someone need word search."""
    report = bench_memory(DATA / "recall_longterm.json", k=10)
    modes = report["modes"]
    recall = {mode: modes[mode]["recall_any@10"] for mode in ("hybrid", "semantic_only", "lexical_only")}
    assert recall["hybrid"] > recall["lexical_only"], recall
    named = {mode: modes[mode]["by_category"]["named"]["recall_any@10"] for mode in recall}
    assert named["hybrid"] > named["semantic_only"], named  # the name that embeddings blur, bm25 finds
    assert all(mode["cross_conversation_results"] == 0 for mode in modes.values())


LOCOMO = PROJECT_ROOT.parent / "shared" / "data" / "locomo-dev.json"


@pytest.mark.skipif(
    not LOCOMO.exists(), reason="../shared/data/locomo-dev.json (LoCoMo, CC BY-NC) is not beside the repo"
)
def test_hybrid_beats_each_single_source_on_a_real_conversation(tmp_path: Path) -> None:
    """One LoCoMo conversation (two people over months): real questions, real evidence turns."""
    data = json.loads(LOCOMO.read_text(encoding="utf-8"))
    first = data["conversations"][0]["id"]
    part = {
        "conversations": [data["conversations"][0]],
        "questions": [q for q in data["questions"] if q["conversation"] == first],
    }
    (tmp_path / "slice.json").write_text(json.dumps(part), encoding="utf-8")
    modes = bench_memory(tmp_path / "slice.json", k=10)["modes"]
    recall = {mode: modes[mode]["recall_any@10"] for mode in modes}
    assert recall["hybrid"] > recall["semantic_only"] and recall["hybrid"] > recall["lexical_only"], recall
    # The conversation stage (answers inherit their question's score, …) earns its place on real talk.
    assert recall["hybrid"] > recall["hybrid_without_context"], recall
    assert recall["lexical_with_context"] > recall["lexical_only"], recall
    assert all(mode["cross_conversation_results"] == 0 for mode in modes.values())


def test_long_term_dataset_is_what_its_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_recall_longterm", DATA / "make_recall_longterm.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.build() == json.loads((DATA / "recall_longterm.json").read_text(encoding="utf-8"))


def test_bench_retrieval_reports_percentiles(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "retrieval", "--memories", "300,600", "--queries", "5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    small, large = report["sizes"]
    assert (small["memories"], large["memories"]) == (300, 600) and report["growth"]["memories"] == 2.0
    recall = large["recall"]
    assert set(recall["cache_hit"]) == {"p50_ms", "p95_ms"} and set(recall["cache_miss"]) == {"p50_ms", "p95_ms"}
    assert set(recall["per_source"]) == {"embedding", "semantic", "lexical", "cosines_of_word_finds", "sql_and_fusion"}
    # Indexing time is accounted for by stage, the embedder's share of it included.
    assert 0 < large["share_of_embedder"] <= 1 and large["stages_seconds"]["embed"] > 0
    assert large["disk_mb"]["semantic"] > 0 and large["rss_mb"] > 0


def test_bench_index_reports_indexing_without_recall(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "index", "--memories", "200"]) == 0
    out = capsys.readouterr().out
    assert "200 memories (4 personas)" in out and "embedder alone" in out and "recall" not in out
    with pytest.raises(SystemExit):
        main(["bench", "index", "--memories", "ten"])
