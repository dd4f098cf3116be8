//! Every word a lexicon names, interned once at load: a post's words are looked up once each,
//! and from then on patterns, negators and contrasts compare small numbers, not strings.

use rustc_hash::FxHashMap;

use super::pattern::WordClasses;

/// A word's number in its lexicon's vocabulary.
pub type WordId = u32;

/// The id of a word the lexicon does not name: it equals no pattern's word.
pub const UNKNOWN: WordId = WordId::MAX;

/// What the lexicon knows about one word.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub classes: WordClasses,
    pub negator: bool,
    pub contrast: bool,
    pub conditional: bool,
}

/// A word that only a pattern names has the default entry: no class, not a negator, a
/// contrast or a conditional.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    ids: FxHashMap<String, WordId>,
    entries: Vec<Entry>,
}

impl Vocabulary {
    /// The id of a folded word, added if it is new.
    pub fn intern(&mut self, word: &str) -> WordId {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        // Lexicon files hold thousands of words, far from 2^32.
        let id = self.entries.len() as WordId;
        self.ids.insert(word.to_string(), id);
        self.entries.push(Entry::default());
        id
    }

    /// What the lexicon knows about a folded word, added if it is new.
    pub fn entry_mut(&mut self, word: &str) -> &mut Entry {
        let id = self.intern(word);
        &mut self.entries[id as usize]
    }

    /// The id of a folded word of a post, or [`UNKNOWN`].
    pub fn id(&self, word: &str) -> WordId {
        self.ids.get(word).copied().unwrap_or(UNKNOWN)
    }

    /// The entry of an id from [`Vocabulary::id`]; none for [`UNKNOWN`].
    pub fn entry(&self, id: WordId) -> Option<&Entry> {
        self.entries.get(id as usize)
    }

    /// Every word, with its id.
    pub fn words(&self) -> impl Iterator<Item = (&str, WordId)> {
        self.ids.iter().map(|(word, id)| (word.as_str(), *id))
    }

    /// How many words there are: ids run from 0 to this.
    pub fn word_count(&self) -> usize {
        self.entries.len()
    }
}
