//! Key layouts. Numbers are big-endian so that sled's byte order is numeric order.

use crate::domain::{MentionKey, Priority, Status};

pub fn number(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}

pub fn read_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let len = bytes.len().min(8);
    buf[8 - len..].copy_from_slice(&bytes[bytes.len() - len..]);
    u64::from_be_bytes(buf)
}

/// `source \0 id`: the NUL keeps "ab"/"c" and "a"/"bc" apart.
pub fn mention_key(key: &MentionKey) -> Vec<u8> {
    joined(key.source.as_bytes(), key.id.as_bytes())
}

pub fn status_prefix(status: Status) -> [u8; 1] {
    [status as u8]
}

pub fn by_status(status: Status, number: u64) -> Vec<u8> {
    let mut key = status_prefix(status).to_vec();
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// The value of a [`by_status`] entry: what "complaints first" sorts by (the complaint flag,
/// then the score), so a list or the digest can pick what to show from the index alone.
pub fn rank(priority: &Priority) -> [u8; 5] {
    let mut rank = [0u8; 5];
    rank[0] = u8::from(priority.complaint);
    rank[1..].copy_from_slice(&priority.score.to_be_bytes());
    rank
}

/// A [`by_status`] value: the [`rank`], then the mention's lane (see
/// `domain::routing::Placement::lane`), so a channel's list and digest are picked from the index
/// alone. Unrouted mentions store the rank only, as before routes existed.
pub fn ranked(priority: &Priority, lane: &str) -> Vec<u8> {
    let mut value = rank(priority).to_vec();
    value.extend_from_slice(lane.as_bytes());
    value
}

/// The lane stored after the rank in a [`by_status`] value ("" for unrouted mentions).
pub fn lane(value: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(value.get(5..).unwrap_or_default())
}

pub type RankOrder = (bool, std::cmp::Reverse<u32>, u64);

/// The sort key "complaints first, the highest score first, then oldest first" for a
/// [`by_status`] entry. Entries from before ranks were stored read as ordinary mentions.
pub fn rank_order(rank: &[u8], number: u64) -> RankOrder {
    let complaint = rank.first() == Some(&1);
    let score = if complaint {
        read_u64(rank.get(1..5).unwrap_or_default()) as u32
    } else {
        0
    };
    (!complaint, std::cmp::Reverse(score), number)
}

pub fn owner_prefix(member_id: &str) -> Vec<u8> {
    let mut key = member_id.as_bytes().to_vec();
    key.push(0);
    key
}

pub fn by_owner(member_id: &str, number: u64) -> Vec<u8> {
    let mut key = owner_prefix(member_id);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// The member id a [`by_owner`] key starts with.
pub fn owner_of(key: &[u8]) -> &[u8] {
    &key[..key.len().saturating_sub(9)]
}

pub fn history(number: u64, seq: u64) -> Vec<u8> {
    let mut key = number.to_be_bytes().to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// `millis since the epoch, number`: big-endian, so a range scan reads a time window. Times
/// before 1970 (never written by earshot) sort first.
pub fn settled(at: chrono::DateTime<chrono::Utc>, number: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&settled_time(at));
    key[8..].copy_from_slice(&number.to_be_bytes());
    key
}

pub fn settled_time(at: chrono::DateTime<chrono::Utc>) -> [u8; 8] {
    u64::try_from(at.timestamp_millis())
        .unwrap_or(0)
        .to_be_bytes()
}

pub fn message(chat: &str, number: u64) -> Vec<u8> {
    joined(chat.as_bytes(), &number.to_be_bytes())
}

/// A storm's summary card in `chat`: `chat \0 "storm" id`, never equal to a [`message`] key
/// (whose second part is 8 bytes long).
pub fn storm_message(chat: &str, storm: u64) -> Vec<u8> {
    let mut second = b"storm".to_vec();
    second.extend_from_slice(&storm.to_be_bytes());
    joined(chat.as_bytes(), &second)
}

/// The `Meta` keys of the mentions whose text is a copy the network's terms limit (see
/// `store::retention`): `copy:` then the number.
pub const COPY_PREFIX: &[u8] = b"copy:";

pub fn copy(number: u64) -> Vec<u8> {
    let mut key = COPY_PREFIX.to_vec();
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// The number stored at the end of a composite key.
pub fn trailing_number(key: &[u8]) -> u64 {
    read_u64(&key[key.len().saturating_sub(8)..])
}

fn joined(first: &[u8], second: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(first.len() + 1 + second.len());
    key.extend_from_slice(first);
    key.push(0);
    key.extend_from_slice(second);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_numerically_and_round_trip() {
        assert!(number(2) < number(10));
        assert!(by_status(Status::Open, 9) < by_status(Status::Open, 10));
        assert!(by_status(Status::Open, u64::MAX) < by_status(Status::Claimed, 1));
        assert_eq!(read_u64(&number(123_456)), 123_456);
        assert_eq!(trailing_number(&by_owner("jane", 42)), 42);
        assert_eq!(owner_of(&by_owner("jane", 42)), b"jane");
    }

    #[test]
    fn a_lane_after_the_rank_leaves_the_order_alone() {
        let priority = Priority {
            score: 7,
            complaint: true,
            reasons: vec![],
        };
        let plain = rank(&priority);
        let routed = ranked(&priority, "slack=C1");
        assert_eq!(rank_order(&plain, 3), rank_order(&routed, 3));
        assert_eq!(lane(&routed), "slack=C1");
        assert_eq!(lane(&plain), "");
        assert_eq!(lane(&[]), "");
    }

    #[test]
    fn composite_keys_cannot_collide() {
        let a = mention_key(&MentionKey::new("ab", "c"));
        let b = mention_key(&MentionKey::new("a", "bc"));
        assert_ne!(a, b);
    }
}
