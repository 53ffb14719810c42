// Shard specs and the rank a cluster engine gave the process, read from its environment.
#include "flagscan/cli/shards.hpp"
#include "flagscan/net/text.hpp"

#include <algorithm>
#include <charconv>
#include <vector>
#include <cstdlib>

namespace flagscan {
namespace {

std::optional<std::uint64_t> whole_number(std::string_view text) { return parse_whole<std::uint64_t>(text); }

// One variable as a number: nothing when unset, an error naming it when set to garbage.
Result<std::optional<std::uint64_t>> number_variable(const EnvLookup& env, const std::string& name) {
    const auto text = env(name);
    if (!text) return std::optional<std::uint64_t>{};
    const auto value = whole_number(*text);
    if (!value) return Error{"--shard auto: bad " + name + " '" + *text + "' (not a number)"};
    return std::optional<std::uint64_t>{*value};
}

// A rank variable and its size variable, both needed once the rank is set.
Result<std::optional<ShardChoice>> rank_and_size(const EnvLookup& env, const std::string& rank_name,
                                                 const std::string& size_name) {
    auto rank = number_variable(env, rank_name);
    if (!rank) return Error{rank.error()};
    if (!*rank) return std::optional<ShardChoice>{};
    auto size = number_variable(env, size_name);
    if (!size) return Error{size.error()};
    if (!*size) return Error{"--shard auto: " + rank_name + " is set but " + size_name + " is not"};
    if (**size == 0 || **rank >= **size)
        return Error{"--shard auto: " + rank_name + "=" + std::to_string(**rank) + " is not below " + size_name + "=" +
                     std::to_string(**size)};
    return std::optional<ShardChoice>{ShardChoice{Shard{**rank, **size}, rank_name}};
}

// A Slurm job array (sbatch --array=MIN-MAX[:STEP]): task ids need not start at 0, nor step by 1.
Result<std::optional<ShardChoice>> slurm_array(const EnvLookup& env) {
    auto id = number_variable(env, "SLURM_ARRAY_TASK_ID");
    if (!id) return Error{id.error()};
    if (!*id) return std::optional<ShardChoice>{};
    auto count = number_variable(env, "SLURM_ARRAY_TASK_COUNT");
    auto min = number_variable(env, "SLURM_ARRAY_TASK_MIN");
    auto step = number_variable(env, "SLURM_ARRAY_TASK_STEP");
    for (const auto* part : {&count, &min, &step})
        if (!*part) return Error{part->error()};
    if (!*count || !*min) return Error{"--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN is not"};
    const std::uint64_t stride = step->value_or(1);
    if (**id < **min || stride == 0 || (**id - **min) % stride != 0)
        return Error{"--shard auto: SLURM_ARRAY_TASK_ID=" + std::to_string(**id) + " is not MIN + k * STEP of the array "
                     "(give the array as --array=A-B or A-B:S)"};
    const std::uint64_t index = (**id - **min) / stride;
    if (**count == 0 || index >= **count)
        return Error{"--shard auto: SLURM_ARRAY_TASK_ID=" + std::to_string(**id) + " is task " + std::to_string(index + 1) +
                     " of an array of SLURM_ARRAY_TASK_COUNT=" + std::to_string(**count) +
                     " (a list of ids with gaps cannot be split evenly: give --array=A-B or A-B:S)"};
    return std::optional<ShardChoice>{ShardChoice{Shard{index, **count}, "SLURM_ARRAY_TASK_ID"}};
}

// Slurm: an array task, a task of a multi-task step, or both (each array task runs NTASKS tasks).
Result<std::optional<ShardChoice>> slurm(const EnvLookup& env) {
    auto array = slurm_array(env);
    if (!array) return Error{array.error()};
    if (*array && !env("SLURM_NTASKS")) return *array;  // a batch script of one task: SLURM_PROCID alone is 0
    auto task = rank_and_size(env, "SLURM_PROCID", "SLURM_NTASKS");
    if (!task) return Error{task.error()};
    if (!*array || !*task) return *array ? *array : *task;
    const Shard a = (*array)->shard, t = (*task)->shard;
    if (t.count == 1) return *array;
    return std::optional<ShardChoice>{
        ShardChoice{Shard{a.index * t.count + t.index, a.count * t.count}, "SLURM_ARRAY_TASK_ID and SLURM_PROCID"}};
}

// Kubernetes Indexed Job: the index only; the count is the Job's completions, given as --shard-count.
Result<std::optional<ShardChoice>> kubernetes(const EnvLookup& env, std::optional<std::uint64_t> count) {
    auto index = number_variable(env, "JOB_COMPLETION_INDEX");
    if (!index) return Error{index.error()};
    if (!*index) return std::optional<ShardChoice>{};
    if (!count) return Error{"--shard auto: JOB_COMPLETION_INDEX gives the index but not the count: add --shard-count N (the Job's completions)"};
    if (**index >= *count)
        return Error{"--shard auto: JOB_COMPLETION_INDEX=" + std::to_string(**index) + " is not below --shard-count " +
                     std::to_string(*count)};
    return std::optional<ShardChoice>{ShardChoice{Shard{**index, *count}, "JOB_COMPLETION_INDEX"}};
}

}  // namespace

EnvLookup system_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        return value != nullptr ? std::optional<std::string>{value} : std::nullopt;
    };
}

Result<Shard> parse_shard_spec(std::string_view text) {
    const std::string given{text};
    const auto slash = text.find('/');
    const Error bad{"bad --shard '" + given + "': use I/N, shard I of N counted from 1 (1/4 .. 4/4), or auto"};
    if (slash == std::string_view::npos) return bad;
    const std::uint64_t index = whole_number(text.substr(0, slash)).value_or(0);
    const std::uint64_t count = whole_number(text.substr(slash + 1)).value_or(0);
    if (!whole_number(text.substr(0, slash)) || !whole_number(text.substr(slash + 1))) return bad;
    if (count == 0) return Error{"bad --shard '" + given + "': the number of shards must be at least 1"};
    if (index == 0 || index > count)
        return Error{"bad --shard '" + given + "': I/N counts from 1 (masscan's spelling): 1/" + std::to_string(count) +
                     " .. " + std::to_string(count) + "/" + std::to_string(count)};
    return Shard{index - 1, count};
}

Result<Shard> parse_zmap_shard(std::string_view index_text, std::string_view count_text) {
    const auto index = whole_number(index_text);
    const auto count = whole_number(count_text);
    if (!count || *count == 0) return Error{"bad --shards '" + std::string(count_text) + "': give the number of shards, 1 or more"};
    if (!index || *index >= *count)
        return Error{"bad --shard '" + std::string(index_text) + "' with --shards " + std::to_string(*count) +
                     ": zmap's shard index counts from 0 (0 .. " + std::to_string(*count - 1) + ")"};
    return Shard{*index, *count};
}

Result<ShardChoice> shard_from_environment(const EnvLookup& env, std::optional<std::uint64_t> count) {
    if (count && *count == 0) return Error{"--shard-count must be at least 1"};
    using Finder = std::function<Result<std::optional<ShardChoice>>()>;
    const Finder engines[] = {
        [&] { return rank_and_size(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"); },
        [&] { return rank_and_size(env, "PMI_RANK", "PMI_SIZE"); },
        [&] { return slurm(env); },
        [&] { return kubernetes(env, count); },
    };
    for (const auto& engine : engines) {
        auto found = engine();
        if (!found) return Error{found.error()};
        if (!*found) continue;
        if (count && *count != (*found)->shard.count)
            return Error{"--shard auto: " + (*found)->source + " gives " + std::to_string((*found)->shard.count) +
                         " shards but --shard-count says " + std::to_string(*count)};
        return **found;
    }
    return Error{"--shard auto: no rank in the environment (looked for OMPI_COMM_WORLD_RANK, PMI_RANK, "
                 "SLURM_ARRAY_TASK_ID, SLURM_PROCID, JOB_COMPLETION_INDEX)"};
}

AddressSet shard_hosts(const AddressSet& hosts, std::uint64_t seed, Shard shard) {
    const ShardWalk walk(hosts.size(), seed, shard);
    std::vector<std::uint64_t> indices;
    indices.reserve(walk.size());
    for (std::uint64_t step = 0; step < walk.size(); ++step) indices.push_back(walk(step));
    std::sort(indices.begin(), indices.end());  // ascending: each add extends the last range or appends one
    AddressSet owned;
    for (const std::uint64_t index : indices) owned.add(hosts.at(index));
    return owned;
}

std::string shard_text(Shard shard) { return std::to_string(shard.index + 1) + "/" + std::to_string(shard.count); }

std::string describe_shard(const ShardChoice& choice) {
    return "shard " + shard_text(choice.shard) + (choice.source.empty() ? "" : " (from " + choice.source + ")");
}

}  // namespace flagscan
