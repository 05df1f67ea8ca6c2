"""The app's "Bewering controleren" mode, the parts that need no Streamlit: splitting a pasted
paragraph into the sentences to check, the verdict badge, the source quote with the deciding
value marked and the claim's value beside it, and the texts. `app.py` draws them.

Every piece of claim or document text goes through `app_support.escape` before markup is added,
as in the rest of the app.
"""
from __future__ import annotations

from docqa.app_support import CLOSE, block, escape

MAX_SENTENCES = 20  # a pasted article is checked sentence by sentence; beyond this the rest is left, with a notice
MIN_SENTENCE_CHARS = 12  # "Zie ook:" or a lone heading is not a claim

VERDICT_STYLE = {  # badge colours: green, red, grey; the text says it too (not colour alone)
    "supported": ("#dcfce7", "#166534", "✔"),
    "contradicted": ("#fee2e2", "#991b1b", "✘"),
    "not_found": ("#f3f4f6", "#374151", "?"),
}
MISMATCH_OPEN = '<mark class="dq-source-value" style="background-color:#fecaca;color:inherit;padding:0 .1em;border-bottom:2px solid #b91c1c">'
MATCH_OPEN = '<mark class="dq-source-value" style="background-color:#bbf7d0;color:inherit;padding:0 .1em;border-bottom:2px solid #15803d">'

CLAIM_TEXTS = {
    "nl": {
        "page_check": "Bewering controleren",
        "check_head": "Bewering controleren",
        "check_intro": "Plak een zin of een alinea. Elke zin wordt met de documenten vergeleken: elk getal, "
                       "bedrag, percentage, jaartal, datum, organisatie en elke richting (stijging, daling). "
                       "\"Klopt\" alleen als de bronzin alles bevestigt.",
        "check_input": "Bewering(en)", "check_button": "Controleren",
        "check_empty": "Lege invoer: plak een zin om te controleren.",
        "check_cut": "Alleen de eerste {n} zinnen zijn gecontroleerd; plak de rest apart.",
        "verdict_supported": "klopt volgens de bron", "verdict_contradicted": "klopt niet volgens de bron",
        "verdict_not_found": "niet gevonden in de documenten",
        "source_sentence": "Bronzin", "claim_says": "bewering: {value}",
        "details": "Vergeleken details", "col_kind": "soort", "col_claim": "bewering", "col_source": "bron",
        "col_status": "uitkomst",
        "status_match": "klopt", "status_mismatch": "wijkt af", "status_absent": "niet gevonden",
        "kind_number": "aantal", "kind_count": "aantal", "kind_percentage": "percentage", "kind_amount": "bedrag",
        "kind_date": "datum", "kind_year": "jaar", "kind_period": "periode", "kind_clock": "tijdstip", "kind_organisation": "organisatie",
        "kind_direction": "richting", "kind_polarity": "stopt / gaat door", "kind_target": "gehaald / niet gehaald", "kind_ratio": "verhouding",
        "compare": "Ook over dit onderwerp",
        "nearest": "Dichtstbijzijnde passages: lees zelf na",
        "check_error": "Deze bewering kan zo niet worden gecontroleerd.",
    },
    "en": {
        "page_check": "Check a claim",
        "check_head": "Check a claim",
        "check_intro": "Paste a sentence or a paragraph. Each sentence is compared with the documents: every "
                       "number, amount, percentage, year, date, organisation and direction (rise, fall). "
                       "\"Supported\" only when the source sentence confirms all of it.",
        "check_input": "Claim(s)", "check_button": "Check",
        "check_empty": "Empty input: paste a sentence to check.",
        "check_cut": "Only the first {n} sentences were checked; paste the rest separately.",
        "verdict_supported": "supported by the source", "verdict_contradicted": "contradicted by the source",
        "verdict_not_found": "not found in the documents",
        "source_sentence": "Source sentence", "claim_says": "claim: {value}",
        "details": "Details compared", "col_kind": "kind", "col_claim": "claim", "col_source": "source",
        "col_status": "outcome",
        "status_match": "matches", "status_mismatch": "differs", "status_absent": "not found",
        "kind_number": "number", "kind_count": "number", "kind_percentage": "percentage", "kind_amount": "amount",
        "kind_date": "date", "kind_year": "year", "kind_period": "period", "kind_clock": "time of day", "kind_organisation": "organisation",
        "kind_direction": "direction", "kind_polarity": "stops / continues", "kind_target": "met / missed", "kind_ratio": "ratio",
        "compare": "Also on this topic",
        "nearest": "Nearest passages: read for yourself",
        "check_error": "This claim cannot be checked like this.",
    },
}


def split_claims(text: str, limit: int = MAX_SENTENCES) -> tuple[list[str], bool]:
    """The sentences of a pasted paragraph, in order, and whether some were left beyond `limit`.
    The checker's own sentence rule is used, so "€ 4,9 mln. in 2023" or "ca. 12" is not cut."""
    from docqa.qa.claims import sentence_spans

    pieces = []
    for line in str(text or "").splitlines():  # a line break ends a sentence too (a pasted list, a heading)
        pieces += [" ".join(line[a:b].split()) for a, b in sentence_spans(line)]
    pieces = [p for p in pieces if p]
    sentences = [p for p in pieces if len(p) >= MIN_SENTENCE_CHARS] or pieces  # one short claim is still a claim
    return sentences[:limit], len(sentences) > limit


def verdict_badge_html(T: dict, verdict: str, confidence_text: str = "") -> str:
    bg, fg, sign = VERDICT_STYLE[verdict]
    extra = f" · {escape(confidence_text)}" if confidence_text else ""
    return (f'<span class="dq-verdict" data-verdict="{verdict}" style="background:{bg};color:{fg};'
            f'border-radius:.4em;padding:.15em .6em;font-weight:600;white-space:nowrap">'
            f"{sign} {escape(T['verdict_' + verdict])}{extra}</span>")


def _find(haystack: str, needle: str, start: int = 0) -> int:
    needle = " ".join(str(needle).split())
    if not needle:
        return -1
    at = haystack.find(needle, start)
    return at if at >= 0 else haystack.lower().find(needle.lower(), start)


def quote_html(T: dict, quote: str, details, verdict: str) -> str:
    """The source sentence, escaped, with the source values that decided the verdict marked: a
    differing value in red with the claim's value beside it, matching values in green."""
    wanted = [d for d in details if d.source_value and (d.status == "mismatch" or
                                                        (verdict == "supported" and d.status == "match"))]
    marks = []
    for d in wanted:
        at = _find(quote, d.source_value)
        while at >= 0 and any(a < at + len(d.source_value) and at < b for a, b, _ in marks):
            at = _find(quote, d.source_value, at + 1)
        if at < 0:
            continue
        marks.append((at, at + len(" ".join(d.source_value.split())), d))
    marks.sort(key=lambda m: m[0])
    out, pos = [], 0
    for a, b, d in marks:
        out.append(escape(quote[pos:a]))
        if d.status == "mismatch":
            said = T["claim_says"].format(value=d.claim_value)
            out.append(f"{MISMATCH_OPEN}{escape(quote[a:b])}{CLOSE}"
                       f' <span class="dq-claim-value" style="font-size:.85em;color:#991b1b;white-space:nowrap">'
                       f"({escape(said)})</span>")
        else:
            out.append(f"{MATCH_OPEN}{escape(quote[a:b])}{CLOSE}")
        pos = b
    out.append(escape(quote[pos:]))
    return "".join(out)


def detail_rows(T: dict, details) -> list[dict]:
    none = "—"
    return [{T["col_kind"]: T.get(f"kind_{d.kind}", d.kind), T["col_claim"]: d.claim_value or none,
             T["col_source"]: d.source_value or none, T["col_status"]: T[f"status_{d.status}"]} for d in details]


def claim_head_html(T: dict, result, confidence_text: str) -> str:
    return block(f"{verdict_badge_html(T, result.verdict, confidence_text)} "
                 f'<span class="dq-claim">{escape(result.claim)}</span>')


__all__ = ["CLAIM_TEXTS", "MAX_SENTENCES", "claim_head_html", "detail_rows", "quote_html", "split_claims",
           "verdict_badge_html"]
