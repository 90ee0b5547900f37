"""The appeal classifier: segmentation, training, the held-out figures, storage, the
retrain command and ``classify()`` with the active model."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pytest
from django.core.management import call_command

from yiwang.events import learning, textseg
from yiwang.events import services as event_services
from yiwang.events.catalog import published_catalog
from yiwang.events.classify import classify, keyword_scores
from yiwang.events.models import ClassifierModel
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event

# Measured with the model of the ADR on the held-out split (897 texts): top-1 86.6 %,
# top-3 96.2 %; on the second held-out set (382 texts): top-1 91.1 %, top-3 98.7 %.
# The floors sit just below: a change that loses accuracy fails here.
TOP1_FLOOR, TOP3_FLOOR = 0.85, 0.95
HELDOUT2_TOP1_FLOOR, HELDOUT2_TOP3_FLOOR = 0.895, 0.975


# --- segmentation ------------------------------------------------------------------------


def test_normalize__full_width_traditional_and_masks():
    text = "ＡＢＣ樓下噪音擾民，電話１３８００１３８０００"
    assert textseg.normalize(text) == "abc楼下噪音扰民,电话☎"
    assert textseg.normalize("XX花园3栋1502房  某某路") == "某花园#栋#房 某路"
    assert textseg.normalize("  ") == ""


def test_words__catalog_keywords_stay_whole():
    text = "地铁口又有走鬼，墙上贴满牛皮癣，一下雨就水浸街"
    plain = textseg.words(text)
    assert "水浸街" not in plain  # jieba alone cuts the colloquial phrase
    tokens = textseg.words(text, ["走鬼", "牛皮癣", "水浸街"])
    assert {"走鬼", "牛皮癣", "水浸街"} <= set(tokens)
    assert "，" not in tokens and "," not in tokens


def test_words__traditional_and_full_width_input_segment_like_simplified():
    assert textseg.words("樓下燒烤攤油煙擾民") == textseg.words("楼下烧烤摊油烟扰民")
    assert textseg.char_ngrams("ＡＢ", 1, 2) == ["a", "b", "ab"]


# --- training and the held-out figures (no database) --------------------------------------


@pytest.fixture(scope="module")
def full_model():
    items = learning.items_from_csv()
    examples, test = learning.training_examples(None, items, history=False)
    return learning.train(examples, items), test, items


def test_split__train_marked_rows_never_move_a_held_out_text():
    rows = learning.load_corpus()
    original = [r for r in rows if r.get("split") != "train"]
    added = [r for r in rows if r.get("split") == "train"]
    assert len(original) == 2196 and len(added) > 800
    _train, test = learning.split_corpus(rows)
    assert test == learning.split_corpus(original)[1]
    assert not {r["text"] for r in added} & {r["text"] for r in test}


def _bigrams(text: str) -> set[str]:
    chars = "".join(c for c in text if c.isalnum())
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def test_heldout2__never_trained_on_and_not_near_a_training_text():
    items = learning.items_from_csv()
    heldout2 = learning.load_corpus(learning.HELDOUT2)
    assert len(heldout2) >= 350
    assert {r["code"] for r in heldout2} == {i.code for i in items}
    training, test = learning.training_examples(None, items, history=False)
    texts = {e.text for e in training}
    assert not texts & {r["text"] for r in heldout2}
    # The texts written after the split was fixed are not near-copies of a held-out text
    # (character-bigram Jaccard < 0.35), so neither figure is inflated by them.
    held = [_bigrams(t) for t in [e.text for e in test] + [r["text"] for r in heldout2]]
    for row in learning.load_corpus():
        if row.get("split") == "train":
            mine = _bigrams(row["text"])
            assert all(len(mine & h) / len(mine | h) < 0.35 for h in held), row["text"]


def test_lexicon__the_shipped_file_reads_and_adds_standard_terms():
    lexicon = textseg.lexicon()
    assert len(lexicon.entries) > 300
    norm = textseg.normalize("隔籬地盤半夜仲開工，老細話冇辦法")  # traditional input
    added = lexicon.expand(norm)
    assert "工地" in added and "老板" in added and "隔壁" in added
    assert lexicon.expand(textseg.normalize("楼下拉圾好多")) == ["垃圾"]  # a typo
    # Longest variant first; a span counts once: 水浸街 is not also 水浸.
    assert lexicon.expand("一落雨就水浸街") == ["积水"]
    assert lexicon.expand("天气不错") == []


def test_lexicon__malformed_line_is_an_error_naming_it(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("# comment\n走鬼\t流动摊贩\tdialect\n只有一列\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":3:"):
        textseg.Lexicon.read(path)


def test_lexicon__stored_with_the_model_and_old_blobs_still_load(full_model):
    model, _test, _items = full_model
    loaded = learning.TextClassifier.from_bytes(model.to_bytes())
    assert loaded.lexicon == model.lexicon and loaded.lexicon.entries
    # A blob of the first format (no lexicon) loads and reads text without one.
    buffer = io.BytesIO()
    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "lexicon"}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps({**meta, "format": "yiwang-textclf-1"}))
    np.savez_compressed(buffer, **arrays)
    old = learning.TextClassifier.from_bytes(buffer.getvalue())
    assert old.lexicon.entries == () and not old.lead
    assert old.rank("楼下大排档把桌子摆到人行道上", 1)


def test_split__deterministic_stratified_and_disjoint():
    rows = learning.load_corpus()
    train, test = learning.split_corpus(rows)
    assert learning.split_corpus(list(reversed(rows))) == (train, test)
    assert not {r["text"] for r in train} & {r["text"] for r in test}
    codes = {r["code"] for r in rows}
    assert len(codes) == 179 and {r["code"] for r in test} == codes
    per_item = {c: sum(r["code"] == c for r in test) for c in codes}
    assert min(per_item.values()) >= 4


def test_small_subset__model_beats_the_keywords_on_held_out_texts():
    items = learning.items_from_csv()[:30]
    codes = {i.code for i in items}
    rows = [r for r in learning.load_corpus() if r["code"] in codes]
    examples, test = learning.training_examples(None, items, corpus_rows=rows,
                                                history=False)
    model = learning.train(examples, items)
    matcher = learning.KeywordMatcher([i.code for i in items], [i.phrases for i in items])
    keyword_hits = model_hits = 0
    for example in test:
        prior = matcher.scores(textseg.normalize(example.text))
        keyword_hits += prior.max() > 0 and items[int(prior.argmax())].code == example.code
        model_hits += model.rank(example.text, 1)[0][0] == example.code
    assert model_hits > keyword_hits + len(test) * 0.1, (model_hits, keyword_hits, len(test))


def test_held_out_accuracy_floor(full_model):
    model, test, _items = full_model
    metrics = learning.evaluate(model, test)
    assert metrics["n_test"] == len(test) >= 850
    assert metrics["top1"] >= TOP1_FLOOR, metrics["top1"]
    assert metrics["top3"] >= TOP3_FLOOR, metrics["top3"]
    assert set(metrics["by_style"]) >= {"sms", "elderly", "dialect", "paraphrase"}


def test_second_held_out_set__accuracy_floor(full_model):
    model, _test, items = full_model
    metrics = learning.evaluate(model, learning.heldout2_examples(items))
    assert metrics["n_test"] >= 350
    assert metrics["top1"] >= HELDOUT2_TOP1_FLOOR, metrics["top1"]
    assert metrics["top3"] >= HELDOUT2_TOP3_FLOOR, metrics["top3"]
    assert {"transcript", "wechat", "elderly", "dialect", "paraphrase"} <= set(
        metrics["by_style"])


@pytest.mark.parametrize(("text", "code"), [
    ("老细三个月冇出粮，打电话都唔听", "060101"),  # boss, wages (Cantonese)
    ("楼上屋企啲水渗落嚟，我间房天花湿晒", "020206"),  # leaking from upstairs
    ("部𨋢困住咗人，开唔到门", "020202"),  # someone stuck in the lift
    ("垃圾屋几日冇人收，臭到离晒谱", "010201"),  # refuse not collected
    ("成条村冇电，雪柜啲嘢坏晒", "120301"),  # power cut
])
def test_dialect_phrasing__maps_to_the_right_item(full_model, text, code):
    model, _test, _items = full_model
    assert model.rank(text, 1)[0][0] == code


def test_first_clause__the_main_problem_is_read_twice():
    norm = textseg.normalize("楼上装修天天敲打，而且工人把水泥袋堆在电梯口")
    assert learning.first_clause(norm) == "楼上装修天天敲打"
    assert learning.first_clause("楼下油烟扰民") == ""  # one clause: nothing to repeat
    augmented = learning.augment(norm, textseg.Lexicon())
    assert augmented.split(learning.SEP) == [norm, "楼上装修天天敲打"]


def test_scores_are_ranked_probabilities(full_model):
    model, _test, _items = full_model
    ranked = model.rank("楼下大排档天天把桌子摆到人行道上", limit=5)
    scores = [s for _code, s in ranked]
    assert ranked[0][0] == "010101"
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores) and sum(scores) <= 1 + 1e-9
    assert model.rank("", 5) == [] and model.rank("!!!", 5) == []


def test_blob_round_trip_without_pickle(full_model):
    model, test, _items = full_model
    blob = model.to_bytes()
    assert blob[:2] == b"PK"  # an npz archive: arrays only, loaded with allow_pickle=False
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        assert data["weights"].dtype == np.float16 and "meta" in data.files
    loaded = learning.TextClassifier.from_bytes(blob)
    for example in test[:200]:
        got, want = loaded.rank(example.text, 3), model.rank(example.text, 3)
        assert [c for c, _ in got] == [c for c, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-6)
    with pytest.raises(ValueError):
        learning.TextClassifier.from_bytes(b"not a model")


def test_prediction_matches_scikit_learn(full_model):
    """The numpy re-implementation scores exactly what the fitted SVM scores."""
    _model, test, items = full_model
    lexicon = textseg.lexicon()
    examples = learning.keyword_examples(items, lexicon)
    normalized = {e.text: learning.augment(textseg.normalize(e.text), lexicon)
                  for e in examples}
    vectorizer, svm = learning._fit_linear(examples, normalized, [i.code for i in items])
    small = learning.train(examples, items, calibrate=False, lexicon=lexicon)
    texts = [textseg.normalize(e.text) for e in test[:50]]
    want = learning._decisions(vectorizer, svm, [learning.augment(t, lexicon) for t in texts],
                               len(items))
    got = np.array([small.decision(t, normalized=True) for t in texts])
    assert np.allclose(got, want, atol=5e-3)  # float16 weights


# --- the deployment (database) ------------------------------------------------------------


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    learning.reset_cache()
    yield district
    learning.reset_cache()


@pytest.mark.django_db
def test_history__dispatched_not_reassigned_events_are_examples(d):
    kept = new_event(d, code="010102", description="天桥上有人摆地摊卖袜子")
    event_services.event_dispatch(actor=d.users["dispatcher"], event=kept, unit=d.street_a)
    new_event(d, code="010103", description="只登记未分拨的")
    moved = new_event(d, code="010104", description="改派过的不算")
    moved = event_services.event_dispatch(actor=d.users["dispatcher"], event=moved,
                                          unit=d.street_a)
    event_services.event_reassign(actor=d.users["dispatcher"], event=moved,
                                  unit=d.street_b, reason="不属于本街道")
    held_out = learning.split_corpus(learning.load_corpus())[1][0]
    copied = new_event(d, code=held_out["code"], description=held_out["text"])
    event_services.event_dispatch(actor=d.users["dispatcher"], event=copied, unit=d.street_a)
    catalog = published_catalog()
    items = learning.catalog_items(catalog)
    assert len(learning.history_examples(catalog, items)) == 2
    examples = learning.history_examples(catalog, items, exclude={held_out["text"]})
    assert [(e.code, e.source, e.channel) for e in examples] == [
        ("010102", "history", "hotline")]
    assert "天桥上有人摆地摊卖袜子" in examples[0].text
    training, _test = learning.training_examples(catalog, items)
    assert sum(e.source == "history" for e in training) == 1  # the copy never leaks


@pytest.mark.django_db
def test_events_train__stores_activates_and_classify_uses_it(d, monkeypatch):
    catalog = published_catalog()
    text = "楼顶那块大牌子被风吹得晃来晃去"  # no catalog keyword in it
    assert classify(text) == keyword_scores(text, catalog)[:5]
    out = io.StringIO()
    call_command("events_train", stdout=out)
    row = ClassifierModel.objects.get()
    assert row.active and row.version == 1 and row.catalog == catalog
    assert "classifier v1" in out.getvalue() and "activated" in out.getvalue()
    m = row.metrics
    assert m["top1"] >= TOP1_FLOOR and m["top3"] >= TOP3_FLOOR and m["n_test"] >= 850
    assert {"trained_at", "by_style", "by_channel", "libraries", "heldout2"} <= set(m)
    assert m["heldout2"]["n_test"] >= 350 and m["heldout2"]["top1"] >= HELDOUT2_TOP1_FLOOR
    assert m["model"]["lexicon_entries"] > 300
    assert m["libraries"]["scikit-learn"] and row.training_size > 4000

    model = learning.active_model(catalog)
    assert model.version == 1 and learning.active_model(catalog) is model  # cached
    suggestions = classify(text)
    assert suggestions == model.predict(text, limit=5)
    assert keyword_scores(text, catalog) == [] and suggestions  # no keyword, still ranked
    assert classify("天桥底下每天都有人铺块布卖袜子手机壳")[0].code == "010102"
    assert 0 < sum(s.score for s in suggestions) <= 1


@pytest.mark.django_db
def test_events_train__refuses_a_worse_model_unless_forced(d, monkeypatch):
    call_command("events_train", stdout=io.StringIO())
    good = ClassifierModel.objects.get(active=True)
    original = learning.training_examples

    def catalog_only(*args, **kwargs):
        examples, test = original(*args, **kwargs)
        return [e for e in examples if e.source == "catalog"], test

    monkeypatch.setattr(learning, "training_examples", catalog_only)
    out = io.StringIO()
    call_command("events_train", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["version"] == 2 and report["activated"] is False
    assert report["metrics"]["activation"]["previous"]["version"] == 1
    assert report["metrics"]["top1"] < good.metrics["top1"]
    assert ClassifierModel.objects.get(active=True).pk == good.pk
    assert learning.active_model(good.catalog).version == 1

    call_command("events_train", "--force", stdout=io.StringIO())
    assert ClassifierModel.objects.get(active=True).version == 3
    assert learning.active_model(good.catalog).version == 3


@pytest.mark.django_db
def test_keyword_index__follows_a_republished_catalog_with_the_same_id(d):
    """The keyword index is cached per catalog *content*, not per id: a catalog
    published again (here: the same row, new keywords, new publication time) is read
    afresh, never from a stale index."""
    catalog = published_catalog()
    text = "小区门口有人卖煎饼果子"
    assert keyword_scores(text, catalog) == []
    item = catalog.categories.get(code="010102")
    item.keywords = [*item.keywords, "卖煎饼果子"]
    item.save(update_fields=["keywords"])
    assert keyword_scores(text, catalog) == []  # same catalog state: the cached index
    catalog.published_at = catalog.published_at + dt.timedelta(seconds=1)
    catalog.save(update_fields=["published_at"])
    assert [s.code for s in keyword_scores(text, catalog)] == ["010102"]
