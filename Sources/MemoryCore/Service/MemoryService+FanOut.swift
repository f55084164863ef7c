import Foundation
import MemoryStorage

/// Agent-, app- and run-wide operations: a filter that pins no user names the partitions to read through the
/// scope directory (``PartitionStore/partitions(tenant:carrying:)``); each is read through the partition and
/// index caches, in parallel, the whole filter applied in each, and the results merged.
extension MemoryService {
    /// The partitions a filter-scoped read (search, list, export) opens, at most
    /// ``MemoryServiceOptions/maxFanOutPartitions``.
    ///
    /// - a filter pinning a `user_id` reads that user's partition only (no I/O to decide);
    /// - one pinning only `agent_id` / `app_id` / `run_id` reads the partitions the scope directory names for
    ///   all of them (and the partition the most specific of them owns);
    /// - an `OR` or an `in` list of pinned alternatives reads the union;
    /// - `"*"` on a scope id with nothing narrower reads every partition of the tenant: admin role only.
    func partitions(for filter: MemoryFilter, _ context: RequestContext) async throws -> [PartitionKey] {
        let keys: [PartitionKey]
        if case .unscoped = filter.scopeTargets {} else {
            try BoundUserRule.check(targets: filter.scopeTargets, context, verb: "reads")
        }
        switch filter.scopeTargets {
        case .unscoped:
            throw MemoryServiceError.invalid(
                "filters must include at least one of user_id, agent_id, app_id, run_id (an equality, an `in` list "
                    + "or an OR of them)", code: "missing_entity_id")
        case .everything:
            guard context.isAdmin else { throw Self.wildcardNeedsAdmin("reads") }
            keys = try await store.partitions(tenant: context.tenant)
        case .anyOf(let alternatives):
            keys = try await partitions(carryingAnyOf: alternatives, tenant: context.tenant)
        }
        guard keys.count <= options.maxFanOutPartitions else {
            throw MemoryServiceError.invalid(
                "these filters reach \(keys.count) partitions, more than the \(options.maxFanOutPartitions) one request "
                    + "may read; narrow them (add a user_id, or an agent_id / app_id / run_id)",
                code: "too_many_partitions")
        }
        return keys
    }

    /// The 403 for a tenant-wide `"*"` without the admin role; `verb` says what the request would do.
    static func wildcardNeedsAdmin(_ verb: String) -> MemoryServiceError {
        MemoryServiceError(
            .forbidden, code: "wildcard_needs_admin",
            detail: "\"*\" as the only scope id \(verb) every partition of the tenant and needs an API key with the "
                + "admin role; name the user_id, agent_id, app_id or run_id instead")
    }

    /// The union, without repeats, of the partitions that may hold memories carrying each set of ids.
    func partitions(carryingAnyOf alternatives: [MemoryScopes], tenant: String) async throws -> [PartitionKey] {
        var seen = Set<PartitionKey>()
        var result: [PartitionKey] = []
        for scopes in alternatives {
            for key in try await partitions(carrying: scopes, tenant: tenant) where seen.insert(key).inserted {
                result.append(key)
            }
        }
        return result
    }

    /// The partitions that may hold a memory carrying every id of `scopes`: the user's partition when a user is
    /// named; else the partitions the scope directory lists for all the named agent / app / run ids, plus the
    /// partition of the most specific of them (memories without a user live there).
    func partitions(carrying scopes: MemoryScopes, tenant: String) async throws -> [PartitionKey] {
        guard let owner = scopes.owner else { return [] }
        let own = PartitionKey(tenant: tenant, owner: owner)
        if owner.kind == .user { return [own] }
        let pinned = [OwnerKind.agent, .app, .run].compactMap { kind in scopes[kind].map { PartitionOwner(kind: kind, id: $0) } }
        let store = self.store
        let listings = try await withThrowingTaskGroup(of: [PartitionKey].self) { group in
            for scope in pinned {
                group.addTask { try await store.partitions(tenant: tenant, carrying: scope) }
            }
            var all: [[PartitionKey]] = []
            for try await listing in group { all.append(listing) }
            return all
        }
        var common: Set<PartitionKey>? = nil
        for listing in listings { common = common.map { $0.intersection(listing) } ?? Set(listing) }
        common?.remove(own)
        let others = (common ?? []).sorted { ($0.owner.kind.rawValue, $0.owner.id) < ($1.owner.kind.rawValue, $1.owner.id) }
        return [own] + others
    }

    /// `transform` applied to the latest state of each partition, ``MemoryServiceOptions/fanOutConcurrency``
    /// at a time, results in the order of `keys`. One partition is read inline.
    func mapPartitions<T: Sendable>(
        _ keys: [PartitionKey], _ transform: @escaping @Sendable (PartitionState) async throws -> T
    ) async throws -> [T] {
        let store = self.store
        return try await forEachPartition(keys) { key in try await transform(try await store.read(key)) }
    }

    /// `body` run for each partition, ``MemoryServiceOptions/fanOutConcurrency`` at a time, results in the order
    /// of `keys`. The first error cancels the rest and is thrown.
    func forEachPartition<T: Sendable>(
        _ keys: [PartitionKey], _ body: @escaping @Sendable (PartitionKey) async throws -> T
    ) async throws -> [T] {
        if keys.isEmpty { return [] }  // e.g. an admin's "*" over a tenant with no partition yet
        if keys.count == 1 { return [try await body(keys[0])] }
        let width = max(1, min(options.fanOutConcurrency, keys.count))
        return try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: keys.count)
            var next = 0
            while next < width {
                let i = next
                group.addTask { (i, try await body(keys[i])) }
                next += 1
            }
            while let (i, value) = try await group.next() {
                results[i] = value
                if next < keys.count {
                    let j = next
                    group.addTask { (j, try await body(keys[j])) }
                    next += 1
                }
            }
            return results.compactMap { $0 }
        }
    }

    /// The best `query.topK` hits over `keys`: each partition searched with the whole query (through the index
    /// cache; the query-only work — vector quantisation, tokenising, time and subject parsing — done once for
    /// all), the hits merged by fused score (ties by memory id, so the order is stable; ``FanOutHitMerge``).
    func searchPartitions(_ keys: [PartitionKey], _ query: SearchQuery) async throws -> [SearchHit] {
        let indexCache = self.indexCache
        let prepared = PreparedSearchQuery(query)
        let perPartition = try await mapPartitions(keys) { state in
            await indexCache.index(for: state).search(query, prepared: prepared)
        }
        if perPartition.count == 1 { return perPartition[0] }
        return FanOutHitMerge.best(query.topK, of: perPartition)
    }

    /// Erases every memory carrying all of `scopes` (a `"*"` value: any id of that kind) in every partition that
    /// may hold one, and returns how many were erased. Partitions are erased independently: a request that fails
    /// halfway has erased some, and repeating it erases the rest (its count then covers only the rest).
    func eraseCarrying(_ scopes: MemoryScopes, _ context: RequestContext) async throws -> Int {
        var exact = scopes
        var wildcards: [OwnerKind] = []
        for kind in OwnerKind.allCases where scopes[kind] == "*" {
            exact[kind] = nil
            wildcards.append(kind)
        }
        let keys: [PartitionKey]
        if exact.isEmpty {
            guard context.isAdmin else { throw Self.wildcardNeedsAdmin("erases") }
            keys = try await store.partitions(tenant: context.tenant)
        } else {
            keys = try await partitions(carrying: exact, tenant: context.tenant)
        }
        let anyId = Set(wildcards)
        let counts = try await forEachPartition(keys) { key in
            try await self.purgeAll(key, context) { m in
                OwnerKind.allCases.allSatisfy { kind in
                    guard let wanted = scopes[kind] else { return true }
                    return anyId.contains(kind) ? m.scopes[kind] != nil : m.scopes[kind] == wanted
                }
            }
        }
        let erased = counts.reduce(0, +)
        logger.info("erase by scope", metadata: [
            "tenant": .string(context.tenant), "request_id": .string(context.requestId),
            "partitions": .stringConvertible(keys.count), "deleted": .stringConvertible(erased),
        ])
        return erased
    }

    /// Whether any partition holds or held memories of this agent, app or run id (a directory entry or its own
    /// partition): what tells "entity not found" from "nothing left to delete".
    func entityIsKnown(_ scope: PartitionOwner, _ context: RequestContext) async throws -> Bool {
        let own = PartitionKey(tenant: context.tenant, owner: scope)
        if try await store.partitions(tenant: context.tenant, idHintHex: own.owner.idHintHex).contains(own) { return true }
        guard scope.kind != .user else { return false }
        return try await !store.partitions(tenant: context.tenant, carrying: scope).isEmpty
    }
}

extension MemoryService {
    /// The compaction sweep's last step: prunes the scope directory of each tenant swept
    /// (``PartitionStore/pruneScopeDirectory(tenant:)``). Never throws: failures are logged and counted.
    func pruneScopeDirectories(of tenants: Set<String>, into summary: inout CompactionSummary) async {
        for tenant in tenants.sorted() {
            do {
                let report = try await store.pruneScopeDirectory(tenant: tenant)
                if report.entries > 0 {
                    summary.messages.append("scope directory of tenant \(tenant.prefix(64)): \(report.entries) stale entries pruned")
                }
            } catch {
                summary.failed += 1
                summary.messages.append("scope directory pruning of tenant \(tenant.prefix(64)) failed: \(error)")
                logger.error("scope directory pruning failed; entries stay (extra entries are harmless) and the next run retries",
                             metadata: ["tenant": .string(String(tenant.prefix(64))), "error": .string("\(error)")])
            }
        }
    }
}
