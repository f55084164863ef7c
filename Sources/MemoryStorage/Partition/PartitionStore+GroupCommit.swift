import Foundation

extension PartitionStore {
    /// One seat in a group: a member, and whether it is the leader (whose body runs here, not via its mailbox).
    private struct Seat {
        let member: CommitMember
        let isLeader: Bool
    }

    /// Leads one group commit (see ``GroupCommitQueues``) and returns the leader's own outcome.
    ///
    /// The group is the leader plus every writer queued for the partition. On the latest state, each member in
    /// turn decides its batch on the state left by the members before it (so bodies stay pure functions of the
    /// state they see, exactly as if the writes had run one after another). The records of all members then go
    /// in one `appendBlock` at the expected position — one blob append, one flush — and only when it returns is
    /// any member acknowledged. A lost race (another process appended first), a sealed segment, a missing
    /// manifest: everyone decides again on the newer state. Any other failure fails every member still waiting:
    /// none is acknowledged. A member whose decision needs nothing appended and comes before any appending
    /// member is answered at once (its state is durable). Members that would push the append past
    /// ``BlobStore/maxAppendBlockBytes`` go back to the head of the queue and form the next group.
    func leadGroup(_ key: PartitionKey, leader: CommitMember,
                   compute: (PartitionState) -> CommitContribution) async -> CommitOutcome {
        var leaderOutcome: CommitOutcome? = nil
        func finish(_ seat: Seat, _ outcome: CommitOutcome) {
            if seat.isLeader { leaderOutcome = outcome } else { seat.member.inbox.send(.finished(outcome)) }
        }
        var group = [Seat(member: leader, isLeader: true)] + commits.takePending(key).map { Seat(member: $0, isLeader: false) }
        var sealedSegment: String? = nil
        var attempt = 0
        while !group.isEmpty {
            attempt += 1
            guard attempt <= max(1, options.maxWriteAttempts) else {
                logger.warning("write gave up after too many lost append races",
                               metadata: ["partition": "\(key)", "attempts": "\(options.maxWriteAttempts)",
                                          "requests": "\(group.count)"])
                let error = PartitionStoreError.contention(partition: key.description, attempts: options.maxWriteAttempts)
                for seat in group { finish(seat, .failed(error)) }
                break
            }
            do {
                var c = try await current(key)
                // Decide, member by member, on the state the members before left.
                var state = c.state
                var batches: [LogBatch] = []
                var frames: [Data] = []
                var bytes = 0
                var waiting: [Seat] = []
                var appendSpace: EmbeddingSpace? = nil
                decide: for (i, seat) in group.enumerated() {
                    if let space = seat.member.space, let stored = c.manifest?.embeddingSpace, stored != space {
                        finish(seat, .failed(PartitionStoreError.embeddingSpaceMismatch(
                            partition: key.description, stored: stored, requested: space)))
                        continue
                    }
                    let contribution = seat.isLeader ? compute(state) : await ask(seat.member, state)
                    switch contribution {
                    case .append(let batch, let frame):
                        if !frames.isEmpty, bytes + frame.count > blobs.maxAppendBlockBytes {
                            // Too much for one append: this member and the rest wait for the next group.
                            commits.putBack(key, group[i...].map(\.member))
                            logger.debug("group commit split at the append size limit",
                                         metadata: ["partition": "\(key)", "requests": "\(frames.count)",
                                                    "deferred": "\(group.count - i)", "bytes": "\(bytes)"])
                            break decide
                        }
                        state.apply(batch)
                        batches.append(batch)
                        frames.append(frame)
                        bytes += frame.count
                        waiting.append(seat)
                        if appendSpace == nil { appendSpace = seat.member.space }
                    case .nothing:
                        if frames.isEmpty { finish(seat, .committed(state)) } else { waiting.append(seat) }
                    }
                }
                group = waiting
                guard !frames.isEmpty else { break }

                guard let manifest = c.manifest, let etag = c.manifestETag, let active = manifest.active else {
                    try await createPartition(key, space: appendSpace)
                    continue
                }
                if let appendSpace, manifest.embeddingSpace == nil {
                    var m = manifest
                    m.embeddingSpace = appendSpace
                    try await replaceManifest(key, m, etag: etag)
                    continue
                }
                if c.damaged[active.name] != nil || sealedSegment == active.name {
                    // The active segment cannot take appends (corrupt tail, or sealed without a successor): start a
                    // new generation.
                    try await rotate(key, manifest, etag: etag)
                    continue
                }
                let expected = c.offsets[active.name] ?? 0
                // The directory first: an entry may then be extra (the append fails or never happens), never missing.
                for batch in batches { try await ensureScopeEntries(for: batch, in: key) }
                let block = frames.count == 1 ? frames[0] : frames.reduce(into: Data(capacity: bytes)) { $0.append($1) }
                do {
                    let r = try await blobs.appendBlock(key.prefix + active.name, data: block, expectedPosition: expected)
                    c.state = state
                    c.offsets[active.name] = r.offset + block.count
                    cache.put(key, c)
                    for seat in group { finish(seat, .committed(state)) }
                    group = []
                } catch BlobStoreError.appendPositionMismatch {
                    await backoff(attempt)
                } catch BlobStoreError.sealed {
                    sealedSegment = active.name
                } catch BlobStoreError.notFound {
                    try await ignoringExists { try await self.blobs.createAppendBlob(key.prefix + active.name, condition: .ifNoneMatchAny) }
                } catch let e as BlobStoreError {
                    throw PartitionStoreError.storage(partition: key.description, underlying: e)
                }
            } catch {
                if group.count > 1 {
                    logger.warning("group commit failed; no request of the group was acknowledged",
                                   metadata: ["partition": "\(key)", "requests": "\(group.count)", "error": "\(error)"])
                }
                for seat in group { finish(seat, .failed(error)) }
                group = []
            }
        }
        commits.handOff(key)
        return leaderOutcome ?? .failed(PartitionStoreError.contention(partition: key.description, attempts: attempt))
    }

    /// Has a waiting member decide its batch on `state`.
    private func ask(_ member: CommitMember, _ state: PartitionState) async -> CommitContribution {
        let reply = Mailbox<CommitContribution>()
        member.inbox.send(.compute(StateHandoff(state), reply: reply))
        return await reply.receive()
    }
}
