// Shards of one scan: --shard I/N (masscan), --shards N --shard I (zmap), and --shard auto (the
// rank a cluster engine gave the process: MPI, Slurm, Kubernetes Indexed Jobs).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "flagscan/net/result.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/permutation.hpp"

namespace flagscan {

// The environment as a lookup, so the rank logic is a pure function of it (tests pass a map).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// getenv(3): the process's own environment.
EnvLookup system_environment();

// Which shard this process is, and where that came from.
struct ShardChoice {
    Shard shard{};       // 0-based index inside, whatever the spelling
    std::string source;  // the variable(s) the rank came from ("OMPI_COMM_WORLD_RANK"); "" : the command line
};

// masscan's "I/N", 1-based: "1/4" .. "4/4" are the shards {0,4} .. {3,4}.
Result<Shard> parse_shard_spec(std::string_view text);
// zmap's --shards N --shard I, 0-based: I in 0 .. N-1.
Result<Shard> parse_zmap_shard(std::string_view index, std::string_view count);

// --shard auto: the first engine whose variables are set, in this order:
//   MPI:        OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE, then PMI_RANK / PMI_SIZE
//   Slurm:      SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP) /
//               SLURM_ARRAY_TASK_COUNT, and SLURM_PROCID / SLURM_NTASKS; both (an array of
//               multi-task jobs): array task a, task p is shard a * NTASKS + p of COUNT * NTASKS
//   Kubernetes: JOB_COMPLETION_INDEX (0-based), with `count` (--shard-count, the Job's completions)
// `count`, when given with another engine, must agree with the size it gives. Errors are one
// line naming the variable ("bad SLURM_PROCID 'x'", "JOB_COMPLETION_INDEX needs --shard-count N").
Result<ShardChoice> shard_from_environment(const EnvLookup& env, std::optional<std::uint64_t> count);

// The hosts shard `shard` owns when a scan is split by host (discovery runs first): host i of
// `hosts` belongs to the shard whose walk over the seeded permutation of [0, hosts.size())
// visits it (targets/permutation.hpp ShardWalk), so the shards' host sets partition `hosts`.
// Holds this shard's hosts: O(hosts / N) memory.
AddressSet shard_hosts(const AddressSet& hosts, std::uint64_t seed, Shard shard);

// "2/4": masscan's 1-based spelling, as the outputs and the start line give it.
std::string shard_text(Shard shard);
// "shard 2/4" or "shard 2/4 (from OMPI_COMM_WORLD_RANK)".
std::string describe_shard(const ShardChoice& choice);

}  // namespace flagscan
