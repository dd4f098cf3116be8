//! One paging loop for every listing: cursor tokens (`after`, `next_token`, `cursor`, the
//! Graph API's `paging.cursors.after`), page numbers and forward `min_id` walks alike. The
//! caller reads each page in its own loop body and says whether to go on; the pager holds the
//! page limit and tells when it cut a walk short.
//!
//! ```ignore
//! let mut pages = PAGER.pages();
//! while let Some(token) = pages.next_page() {
//!     let page = read(token).await?;          // token: None for the first page
//!     pages.turn(match page.next { Some(next) => Turn::Next(next), None => Turn::Stop });
//! }
//! if pages.cut_short() { /* more than one poll reads: say so */ }
//! ```

/// What a page says about the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// Read the page this token names (a cursor, a page number, an id) next.
    Next(String),
    /// Done: the listing ended, or reached what was seen last time.
    Stop,
}

#[derive(Debug, Clone, Copy)]
pub struct Pager {
    /// Pages per walk: bounds one poll's requests; the rest waits for the next poll.
    pub max_pages: usize,
}

/// One walk in progress.
#[derive(Debug)]
pub struct Paged {
    max_pages: usize,
    read: usize,
    next: Option<Turn>,
}

impl Pager {
    pub const fn new(max_pages: usize) -> Pager {
        Pager { max_pages }
    }

    pub fn pages(&self) -> Paged {
        Paged {
            max_pages: self.max_pages,
            read: 0,
            next: None,
        }
    }
}

impl Paged {
    /// The token of the page to read next (`Some(None)` for the first), or `None` when the walk
    /// is over: the last page said stop, or the limit is reached.
    pub fn next_page(&mut self) -> Option<Option<String>> {
        if self.read >= self.max_pages {
            return None;
        }
        let token = match self.next.take() {
            None if self.read == 0 => None,
            Some(Turn::Next(token)) => Some(token),
            None | Some(Turn::Stop) => {
                self.next = Some(Turn::Stop);
                return None;
            }
        };
        self.read += 1;
        Some(token)
    }

    /// What the page just read says about the next.
    pub fn turn(&mut self, turn: Turn) {
        self.next = Some(turn);
    }

    /// The page limit stopped the walk while the listing went on.
    pub fn cut_short(&self) -> bool {
        matches!(self.next, Some(Turn::Next(_)))
    }

    pub fn read(&self) -> usize {
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_tokens_until_stop_or_the_limit() {
        let mut pages = Pager::new(10).pages();
        let mut seen = Vec::new();
        while let Some(token) = pages.next_page() {
            seen.push(token.clone());
            pages.turn(match token.as_deref() {
                None => Turn::Next("b".into()),
                Some("b") => Turn::Next("c".into()),
                _ => Turn::Stop,
            });
        }
        assert_eq!(seen, vec![None, Some("b".into()), Some("c".into())]);
        assert_eq!(pages.read(), 3);
        assert!(!pages.cut_short());

        let mut pages = Pager::new(2).pages();
        while pages.next_page().is_some() {
            pages.turn(Turn::Next("more".into()));
        }
        assert_eq!(pages.read(), 2);
        assert!(pages.cut_short());

        let mut pages = Pager::new(5).pages();
        assert_eq!(pages.next_page(), Some(None));
        assert_eq!(
            pages.next_page(),
            None,
            "a page that says nothing ends the walk"
        );
    }
}
