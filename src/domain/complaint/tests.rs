//! The detector on the shipped lexicons, case by case: each row is a post, the language tag a
//! network would give (or none), whether a person would call it a complaint, and a reason that
//! must be among those given (or "" when none is expected).

use super::*;

fn shipped() -> Lexicon {
    Lexicon::shipped().expect("the shipped lexicon loads")
}

fn check(rows: &[(&str, Option<&str>, bool, &str)]) {
    let lexicon = shipped();
    for (text, tag, complaint, reason) in rows {
        let priority = lexicon.score(text, *tag);
        assert_eq!(priority.complaint, *complaint, "{text:?}: {priority:?}");
        if !reason.is_empty() {
            assert!(
                priority.reasons.iter().any(|r| r.starts_with(reason)),
                "{text:?}: expected a reason starting {reason:?}, got {:?}",
                priority.reasons
            );
        }
    }
}

#[test]
fn patterns_catch_complaints_without_textbook_words() {
    check(&[
        (
            "still no package after two weeks",
            Some("en"),
            true,
            "not delivered",
        ),
        (
            "the lids leak & nobody at the company answers",
            Some("en"),
            true,
            "no reply",
        ),
        (
            "charged twice for one box",
            Some("en"),
            true,
            "charged wrongly",
        ),
        (
            "stopped working after two months",
            Some("en"),
            true,
            "stopped working",
        ),
        (
            "on hold for an hour, then cut off",
            Some("en"),
            true,
            "waiting",
        ),
        (
            "my kettle overheated and the handle melted",
            Some("en"),
            true,
            "safety",
        ),
        (
            "cancelling my subscription today",
            Some("en"),
            true,
            "leaving",
        ),
        (
            "hun klantenservice reageert nooit",
            Some("nl"),
            true,
            "geen reactie",
        ),
        ("al een week geen reactie", Some("nl"), true, ""),
        ("is na drie dagen al stuk", Some("nl"), true, "stuk"),
        (
            "dubbel afgeschreven deze maand",
            Some("nl"),
            true,
            "verkeerd afgeschreven",
        ),
        ("Nooit meer Acme.", Some("nl"), true, "weggaan"),
        (
            "Het apparaat wordt gloeiend heet, dat is gevaarlijk",
            Some("nl"),
            true,
            "gevaarlijk",
        ),
    ]);
}

#[test]
fn negation_turns_single_words_around() {
    check(&[
        ("not bad at all", Some("en"), false, ""),
        ("honestly not disappointed", Some("en"), false, ""),
        ("love the new lids, finally no leaks", Some("en"), false, ""),
        ("not happy with the new blend", Some("en"), true, ""),
        ("echt niet slecht", Some("nl"), false, ""),
        ("helemaal niet teleurgesteld", Some("nl"), false, ""),
        (
            "ik ben niet blij met de nieuwe melange, bitter en slap",
            Some("nl"),
            true,
            "",
        ),
    ]);
}

#[test]
fn contrast_keeps_the_point_after_the_but() {
    check(&[
        (
            "nice packaging but it arrived broken and leaking",
            Some("en"),
            true,
            "broken",
        ),
        (
            "Had an issue with my order but they fixed it the same day, thanks!",
            Some("en"),
            false,
            "",
        ),
        (
            "Great coffee as always. But the lids leak every single morning.",
            Some("en"),
            true,
            "",
        ),
        (
            "Mooie verpakking, maar de mok zat er in stukken in",
            Some("nl"),
            true,
            "",
        ),
        (
            "Er ging iets mis maar het is dezelfde dag rechtgezet",
            Some("nl"),
            false,
            "",
        ),
    ]);
}

#[test]
fn sarcasm_is_read_as_a_complaint() {
    check(&[
        ("thanks for nothing acme", Some("en"), true, "sarcasm"),
        (
            "great job, shipped to my old address again",
            Some("en"),
            true,
            "",
        ),
        (
            "wow, love paying for express and getting it a week later 🙄",
            Some("en"),
            true,
            "",
        ),
        ("bedankt voor niks", Some("nl"), true, "sarcasme"),
        ("Top hoor, weer een week te laat", Some("nl"), true, ""),
    ]);
}

#[test]
fn ordinary_mentions_are_not_flagged() {
    check(&[
        ("Love the new Acme coffee", Some("en"), false, ""),
        ("Is Acme open on Sunday?", Some("en"), false, ""),
        (
            "My refund from Acme came through in two days, very smooth",
            Some("en"),
            false,
            "",
        ),
        (
            "Waiting for my order like a kid on Christmas eve",
            Some("en"),
            false,
            "",
        ),
        (
            "Acme opent een nieuwe winkel in Utrecht",
            Some("nl"),
            false,
            "",
        ),
        ("Heeft Acme studentenkorting?", Some("nl"), false, ""),
    ]);
}

#[test]
fn the_language_is_found_when_the_network_gives_none() {
    check(&[
        (
            "Mijn bestelling is na twee weken nog steeds niet binnen en niemand reageert",
            None,
            true,
            "",
        ),
        (
            "My order still has not arrived after two weeks and nobody replies to my emails",
            None,
            true,
            "",
        ),
        // Mixed: a Dutch post with English loan words, and the other way round.
        (
            "Mijn order is still not delivered, al twee weken geen reactie",
            None,
            true,
            "",
        ),
        // Another language: the shared signals and English loan words still apply.
        (
            "Meine Bestellung ist ein scam, wo ist mein refund 😡",
            Some("de"),
            true,
            "angry emoji",
        ),
        ("Die Bestellung kam pünktlich, danke", Some("de"), false, ""),
    ]);
}

#[test]
fn emoji_only_and_empty_posts() {
    check(&[
        ("😡😡😡", None, true, "angry emoji"),
        ("🙄 👎", None, true, ""),
        ("❤️☕", None, false, ""),
        ("", None, false, ""),
        ("   \n ", Some("en"), false, ""),
    ]);
}

#[test]
fn very_long_posts_are_read_in_bounded_time_and_still_flagged() {
    let lexicon = shipped();
    let filler =
        "The weather was fine and we walked along the canal to the station. ".repeat(2_000);
    let late = format!("Nobody answers the phone. {filler}");
    assert!(lexicon.score(&late, None).complaint);
    let neutral = lexicon.score(&filler, Some("en"));
    assert!(!neutral.complaint, "{neutral:?}");
}

#[test]
fn a_flag_quotes_the_writer_and_stays_short() {
    let lexicon = shipped();
    let priority = lexicon.score("Still no package, and NOBODY answers the phone", Some("en"));
    let flag = priority.flag().expect("a complaint");
    assert!(flag.contains("\"Still no package\""), "{flag}");
    assert!(flag.contains("\"NOBODY answers\""), "{flag}");
    let long = lexicon.score(&format!("nobody {} answers", "very".repeat(30)), Some("en"));
    assert!(long
        .reasons
        .iter()
        .all(|reason| reason.chars().count() < 80));
}

#[test]
fn a_lexicon_is_refused_with_what_is_wrong_in_it() {
    let read = |name: &str| -> Result<String, String> {
        match name {
            "en.toml" => Ok("complaint_at = 2\n".into()),
            "bad.toml" => Ok("[[complaint]]\nweight = 3\npatterns = [\"x\"]\n".into()),
            "neg.toml" => Ok("[[praise]]\nweight = -1\npatterns = [\"x\"]\n".into()),
            "class.toml" => Ok("[classes]\nt = [\"two words\"]\n".into()),
            _ => Err(format!("cannot read {name}")),
        }
    };
    let cases = [
        ("question = 1", "complaint_at is missing"),
        ("complaint_at = 0", "above 0"),
        (
            "complaint_at = 3\n[languages]\neng = \"en.toml\"",
            "two-letter",
        ),
        (
            "complaint_at = 3\n[languages]\nen = \"en.toml\"",
            "belongs in the main lexicon",
        ),
        (
            "complaint_at = 3\n[languages]\nen = \"bad.toml\"",
            "needs a `reason`",
        ),
        (
            "complaint_at = 3\n[languages]\nen = \"neg.toml\"",
            "above 0",
        ),
        (
            "complaint_at = 3\n[languages]\nen = \"class.toml\"",
            "single words",
        ),
        (
            "complaint_at = 3\n[languages]\nen = \"gone.toml\"",
            "cannot read gone.toml",
        ),
        (
            "complaint_at = 3\nfallback = [\"fr\"]",
            "not one of the languages",
        ),
        ("complaint_at = 3\nwords = []", "unknown field"),
        (
            "complaint_at = 3\n[[complaint]]\nreason = \"meh\"\nweight = 1\nsymbols = [\"xD\"]",
            "starts with a letter or digit",
        ),
        (
            "complaint_at = 3\n[[complaint]]\nreason = \"meh\"\nweight = 1\nsymbols = [\" !!\"]",
            "starts with a space",
        ),
    ];
    for (main, says) in cases {
        let error = Lexicon::load(main, read).unwrap_err();
        assert!(error.contains(says), "{main:?}: {error}");
    }
}

#[test]
fn a_quote_keeps_the_writers_words_on_one_line_and_is_cut_with_an_ellipsis() {
    let cases = [
        ("nobody\n  answers", "nobody answers"),
        // 40 characters exactly: whole.
        (
            "aaaaaaaaa bbbbbbbbb ccccccccc dddddddddd",
            "aaaaaaaaa bbbbbbbbb ccccccccc dddddddddd",
        ),
        // 41: the first 39, then the ellipsis; a space before the cut is not kept.
        (
            "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd e",
            "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd…",
        ),
        (
            "ééééééééé ééééééééé ééééééééé ééééééééé é",
            "ééééééééé ééééééééé ééééééééé ééééééééé…",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(quote(text), expected, "{text:?}");
    }
}

#[test]
fn chatter_that_names_the_brand_in_passing_is_not_flagged() {
    check(&[
        // Titles and names are not the writer's words.
        (
            "Now playing: \"No Reply\" by The Beatles, with an Acme latte",
            Some("en"),
            false,
            "",
        ),
        (
            "Broken Social Scene playing in the Acme café, perfect Sunday",
            Some("en"),
            false,
            "",
        ),
        // ... but Title Case throughout is a style, and still read.
        (
            "Still No Reply From Acme After Two Weeks",
            Some("en"),
            true,
            "no reply",
        ),
        // Handles and links say nothing.
        (
            "how to use our @glitch starter with Acme https://example.com/error/404",
            Some("en"),
            false,
            "",
        ),
        // A tip or hypothesis counts half.
        (
            "Pro tip: if your Acme machine makes a grinding noise, check the hopper",
            Some("en"),
            false,
            "",
        ),
        (
            "my Acme machine makes a grinding noise",
            Some("en"),
            true,
            "stopped working",
        ),
        // Light signs alone do not add up to a complaint.
        (
            "Great, great news: Acme is opening a café in our town!!!",
            Some("en"),
            false,
            "",
        ),
        (
            "the Acme beans are bad again",
            Some("en"),
            true,
            "wrong or missing",
        ),
        // "Last time", a duration, a changelog: not leaving, waiting or failing.
        (
            "the last time I was in Leeds I stopped at the Acme café",
            Some("en"),
            false,
            "",
        ),
        (
            "that was the last time I order from Acme",
            Some("en"),
            true,
            "leaving",
        ),
        (
            "No complaints, the Acme kettle has been going strong for four years",
            Some("en"),
            false,
            "",
        ),
        (
            "Bug fixes: the Acme app no longer shows an error on login",
            Some("en"),
            false,
            "",
        ),
        (
            "the Acme app crashes every time I pay",
            Some("en"),
            true,
            "site or app fails",
        ),
        (
            "Geen klachten, de Acme waterkoker doet het al vier jaar prima",
            Some("nl"),
            false,
            "",
        ),
        (
            "Dat was de laatste keer dat ik bij Acme bestel",
            Some("nl"),
            true,
            "weggaan",
        ),
    ]);
}
