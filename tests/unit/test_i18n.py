"""Both languages carry the same keys, so no page can show a raw key in one language only."""
import re

from crm_logic.i18n import LANGUAGES, catalogue, translate


def test_both_languages_have_the_same_keys():
    zh, en = set(catalogue("zh")), set(catalogue("en"))
    assert zh == en, {"only_zh": sorted(zh - en), "only_en": sorted(en - zh)}


def test_placeholders_match_between_languages():
    def fields(text):
        return set(re.findall(r"{(\w+)", text))

    mismatched = [k for k in catalogue("en") if fields(catalogue("en")[k]) != fields(catalogue("zh")[k])]
    assert not mismatched


def test_chinese_catalogue_is_chinese():
    """A Chinese text with no CJK character at all is an untranslated copy of the English one."""
    untranslated = [
        k for k, v in catalogue("zh").items()
        if re.search(r"[A-Za-z]{4,}", v) and not re.search(r"[\u4e00-\u9fff]", v)
        and v == catalogue("en")[k] and len(v) > 12
    ]
    assert not untranslated


def test_missing_key_falls_back_to_the_key_and_params_fill():
    assert translate("no.such.key", "en") == "no.such.key"
    assert "2,357" in translate("common.badge", "en", customers="2,357", first="a", last="b")
    assert set(LANGUAGES) == {"zh", "en"}


def test_a_pinned_language_holds_off_the_script_thread_and_ends_with_its_block():
    """A download built when clicked runs with no session state: it names its language (ui.i18n)."""
    import threading

    from ui.i18n import _pinned, pinned_language, t
    seen = {}

    def build(language):
        with pinned_language(language):
            seen[language] = t("whatif.title")
        seen[language + "_after"] = getattr(_pinned, "language", None)

    for language in ("zh", "en"):
        worker = threading.Thread(target=build, args=(language,))
        worker.start()
        worker.join()
    assert seen == {"zh": "假设分析：如果这样做会怎样", "en": "What if…", "zh_after": None, "en_after": None}
