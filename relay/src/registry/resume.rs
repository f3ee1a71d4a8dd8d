//! What a `resume` gets, decided from what the store knows: pure, so every rule of
//! PROTOCOL.md's "Resume" section is a unit test here.

use super::store::{Lookup, StreamMeta};
use crate::protocol::ResumeTarget;

/// The answer to a `resume` (or to a `chat_message` whose client id was already accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `resumed {recovered: true}`, then every frame after the offset and the live ones.
    Attach(StreamMeta),
    /// `resumed {recovered: true}` and nothing more: the client already applied the
    /// terminal frame.
    UpToDate(StreamMeta),
    /// `resumed {recovered: false}`: nothing (of this owner and session) to resume.
    Lost,
    /// `resumed {recovered: false}` and `error` `stream_expired`: the generation was known
    /// but the frames after the offset are no longer kept.
    Expired(StreamMeta),
}

/// Decides a resume of `target` from `offset` (the last offset the client applied).
///
/// - By id: the generation if the frames after `offset` are kept (running or finished;
///   nothing to send when `offset` is already its terminal frame's);
///   `Expired` if it is known but they are not; `Lost` if it is unknown.
/// - By conversation: only a generation still running is attached to (a finished one was
///   either seen by the client or belongs to another page); otherwise `Lost`.
pub fn decide(target: ResumeTarget<'_>, lookup: Lookup, offset: u64) -> Decision {
    let by_conversation = matches!(target, ResumeTarget::Conversation(_));
    match lookup {
        Lookup::Unknown => Decision::Lost,
        Lookup::Expired(_) if by_conversation => Decision::Lost,
        Lookup::Expired(meta) => Decision::Expired(meta),
        Lookup::Live { finished: true, .. } if by_conversation => Decision::Lost,
        Lookup::Live {
            meta,
            last_offset,
            finished: true,
            ..
        } if offset >= last_offset => Decision::UpToDate(meta),
        Lookup::Live {
            meta, first_kept, ..
        } => {
            if offset.saturating_add(1) >= first_kept {
                Decision::Attach(meta)
            } else {
                Decision::Expired(meta)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenId;
    use crate::registry::store::Scope;

    fn meta() -> StreamMeta {
        StreamMeta {
            scope: Scope {
                owner: TokenId(0),
                session_id: "s".into(),
            },
            message_id: "msg_1".into(),
            client_message_id: Some("c-1".into()),
            conversation_id: "conv".into(),
        }
    }

    fn live(first_kept: u64, last_offset: u64, finished: bool) -> Lookup {
        Lookup::Live {
            meta: meta(),
            first_kept,
            last_offset,
            finished,
        }
    }

    const BY_ID: ResumeTarget<'static> = ResumeTarget::MessageId("msg_1");
    const BY_CLIENT_ID: ResumeTarget<'static> = ResumeTarget::ClientMessageId("c-1");
    const BY_CONVERSATION: ResumeTarget<'static> = ResumeTarget::Conversation("conv");

    #[test]
    fn a_kept_generation_is_attached_from_any_offset_it_still_holds() {
        for target in [BY_ID, BY_CLIENT_ID] {
            assert_eq!(
                decide(target, live(1, 5, false), 0),
                Decision::Attach(meta())
            );
            assert_eq!(
                decide(target, live(1, 5, false), 3),
                Decision::Attach(meta())
            );
            assert_eq!(
                decide(target, live(1, 5, true), 4),
                Decision::Attach(meta())
            );
            assert_eq!(
                decide(target, live(1, 5, true), 5),
                Decision::UpToDate(meta())
            );
            assert_eq!(
                decide(target, live(5, 5, true), 7),
                Decision::UpToDate(meta())
            );
            // Running: frames beyond the offset are still to come.
            assert_eq!(
                decide(target, live(1, 5, false), 7),
                Decision::Attach(meta())
            );
            // Finished and buffered: the rest and the terminal frame.
            assert_eq!(
                decide(target, live(1, 9, true), 4),
                Decision::Attach(meta())
            );
        }
    }

    #[test]
    fn frames_dropped_by_the_bounds_mean_expired() {
        assert_eq!(
            decide(BY_ID, live(4, 9, false), 3),
            Decision::Attach(meta())
        );
        assert_eq!(
            decide(BY_ID, live(4, 9, false), 2),
            Decision::Expired(meta())
        );
        assert_eq!(
            decide(BY_CLIENT_ID, live(4, 9, true), 0),
            Decision::Expired(meta())
        );
    }

    #[test]
    fn unknown_is_lost_and_known_but_dropped_is_expired() {
        assert_eq!(decide(BY_ID, Lookup::Unknown, 0), Decision::Lost);
        assert_eq!(
            decide(BY_CLIENT_ID, Lookup::Expired(meta()), 2),
            Decision::Expired(meta())
        );
    }

    #[test]
    fn by_conversation_only_a_running_generation_is_attached() {
        assert_eq!(
            decide(BY_CONVERSATION, live(1, 3, false), 0),
            Decision::Attach(meta())
        );
        assert_eq!(decide(BY_CONVERSATION, live(1, 3, true), 0), Decision::Lost);
        assert_eq!(
            decide(BY_CONVERSATION, Lookup::Expired(meta()), 0),
            Decision::Lost
        );
        assert_eq!(decide(BY_CONVERSATION, Lookup::Unknown, 0), Decision::Lost);
    }
}
