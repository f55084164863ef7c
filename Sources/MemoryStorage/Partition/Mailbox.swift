import Synchronization

/// A one-message channel from one task to another: ``send(_:)`` never waits, ``receive()`` waits until a message
/// is there. Group commit uses it to pass work between a partition's writers (``GroupCommitQueues``); the protocol
/// there guarantees at most one message is outstanding per mailbox, which `send` checks.
final class Mailbox<Message: Sendable>: Sendable {
    private enum Slot {
        case empty
        case full(Message)
        case waiting(CheckedContinuation<Message, Never>)
    }

    private let slot = Mutex<Slot>(.empty)

    func send(_ message: Message) {
        let waiter: CheckedContinuation<Message, Never>? = slot.withLock { s in
            switch s {
            case .empty:
                s = .full(message)
                return nil
            case .waiting(let c):
                s = .empty
                return c
            case .full:
                preconditionFailure("group commit: a second message was sent before the first was received")
            }
        }
        waiter?.resume(returning: message)
    }

    func receive() async -> Message {
        await withCheckedContinuation { (c: CheckedContinuation<Message, Never>) in
            let ready: Message? = slot.withLock { s in
                switch s {
                case .full(let m):
                    s = .empty
                    return m
                case .empty:
                    s = .waiting(c)
                    return nil
                case .waiting:
                    preconditionFailure("group commit: two tasks wait on one mailbox")
                }
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}
