//! What `send_offsets_to_transaction` takes: the consumer group's metadata (as a plain value,
//! since kiel has no consumer) and the offsets to commit.
//!
//! # References
//! - KIP-447 (the group's generation and member id fence zombie consumers), Java
//!   `ConsumerGroupMetadata.java`, `OffsetAndMetadata.java`

/// The consumer group whose offsets a transaction commits: what the consumer that read the
/// input knows of its membership. With only `group_id` set, the coordinator checks nothing
/// more (as Java's `new ConsumerGroupMetadata(groupId)`); with the generation and member id
/// of a live consumer, a zombie consumer's offsets are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// The group id.
    pub group_id: String,
    /// The consumer's generation, or -1.
    pub generation_id: i32,
    /// The consumer's member id, or empty.
    pub member_id: String,
    /// The consumer's static membership id (`group.instance.id`), if any.
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// A group known only by its id.
    pub fn new(group_id: impl Into<String>) -> Self {
        Self {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }

    /// With the consumer's generation and member id.
    pub fn with_member(mut self, generation_id: i32, member_id: impl Into<String>) -> Self {
        self.generation_id = generation_id;
        self.member_id = member_id.into();
        self
    }
}

/// One partition's offset to commit: the offset of the next record the group will read
/// (the last one processed + 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOffset {
    /// The topic that was read.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// The next offset to read.
    pub offset: i64,
    /// The leader epoch of the last record read, if known.
    pub leader_epoch: Option<i32>,
    /// Metadata kept with the offset.
    pub metadata: Option<String>,
}

impl PartitionOffset {
    /// `offset` of `topic`-`partition`.
    pub fn new(topic: impl Into<String>, partition: i32, offset: i64) -> Self {
        Self {
            topic: topic.into(),
            partition,
            offset,
            leader_epoch: None,
            metadata: None,
        }
    }
}
