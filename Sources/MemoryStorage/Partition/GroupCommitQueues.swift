import Foundation
import Synchronization

/// One writer waiting in a partition's commit queue: where to reach it, and the embedding space it writes.
struct CommitMember: Sendable {
    let inbox = Mailbox<CommitStep>()
    let space: EmbeddingSpace?
}

/// What the leader of a group tells a member.
enum CommitStep: Sendable {
    /// Lead the next group (``PartitionStore/leadGroup(_:leader:compute:)``).
    case lead
    /// Decide your batch on the state in `state` (durable state plus the batches of the members before you in
    /// this group) and answer on `reply`. May come again for the same request when the group's append must be
    /// redone.
    case compute(StateHandoff, reply: Mailbox<CommitContribution>)
    /// Your request is over: the group's append is durable (or was not needed), or it failed.
    case finished(CommitOutcome)
}

/// Lends a state to a member without keeping a second reference to it: the member takes it out (``take()``)
/// and drops it before answering, so that the leader's copy is again the only one and applying the next
/// member's batch changes it in place instead of copying every memory of the partition.
final class StateHandoff: Sendable {
    private let slot: Mutex<PartitionState?>

    init(_ state: PartitionState) { slot = Mutex(state) }

    func take() -> PartitionState {
        guard let state = slot.withLock({ $0.take() }) else { preconditionFailure("group commit: a state was taken twice") }
        return state
    }
}

/// A member's answer to ``CommitStep/compute(_:reply:)``.
enum CommitContribution: Sendable {
    /// Append this batch, already encoded (and checked) as one log record.
    case append(LogBatch, frame: Data)
    /// Nothing to append: the body skipped, threw, or its batch was refused. The member keeps its own answer.
    case nothing
}

/// How a group ended for one member.
enum CommitOutcome: Sendable {
    /// Everything the group appended is durable; `state` includes it.
    case committed(PartitionState)
    /// Nothing of the group was acknowledged.
    case failed(any Error)
}

/// The per-process commit queues, one per partition with a writer: the first writer to arrive leads a group,
/// writers arriving while it works wait in `pending` and form the next group, whose leader is the first of them.
/// So at most one group per partition appends at a time in this process, and each append carries every request
/// that queued meanwhile (group commit: one blob append and one flush for many requests). Other processes are
/// still coordinated by expected-position appends only.
final class GroupCommitQueues: Sendable {
    /// A partition is in the dictionary while a leader works on it; `pending` are the writers waiting.
    private let queues = Mutex<[PartitionKey: [CommitMember]]>([:])

    /// Queues `member`; true when it leads (no group was active), false when it must wait for a message.
    func join(_ key: PartitionKey, _ member: CommitMember) -> Bool {
        queues.withLock { q in
            if q[key] == nil {
                q[key] = []
                return true
            }
            q[key]!.append(member)
            return false
        }
    }

    /// The waiting writers, oldest first, taken out of the queue (the leader's group).
    func takePending(_ key: PartitionKey) -> [CommitMember] {
        queues.withLock { q in
            let taken = q[key] ?? []
            if q[key] != nil { q[key] = [] }
            return taken
        }
    }

    /// Puts members a group could not carry back at the head of the queue, in their order.
    func putBack(_ key: PartitionKey, _ members: [CommitMember]) {
        guard !members.isEmpty else { return }
        queues.withLock { q in q[key] = members + (q[key] ?? []) }
    }

    /// Ends the calling leader's turn: the oldest waiting writer leads next, or the queue is dropped.
    func handOff(_ key: PartitionKey) {
        let next: CommitMember? = queues.withLock { q in
            guard var pending = q[key], !pending.isEmpty else {
                q[key] = nil
                return nil
            }
            let first = pending.removeFirst()
            q[key] = pending
            return first
        }
        next?.inbox.send(.lead)
    }

    /// How many writers wait for the partition (tests use it to know a group has formed).
    func pendingCount(_ key: PartitionKey) -> Int {
        queues.withLock { $0[key]?.count ?? 0 }
    }
}
