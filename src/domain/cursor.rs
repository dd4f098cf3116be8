//! Where a source left off, kept in the store between polls and across restarts.

use serde::{Deserialize, Serialize};

/// A source's position. Each source uses the fields its network offers; the store saves the
/// cursor in the same transaction as the mentions fetched up to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The network's own position (a newest id, a timestamp, a page token).
    pub position: Option<String>,
    /// HTTP validators for conditional GET.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}
