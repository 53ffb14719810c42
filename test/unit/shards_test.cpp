// Unit tests for shards: --shard I/N and zmap's spelling, --shard auto per engine (MPI, Slurm,
// Kubernetes) from a given environment, the refusals, and shard_hosts' partition of the hosts.
#include "flagscan/cli/shards.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "flagscan/cli/options.hpp"

namespace flagscan {
namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        const auto found = values.find(name);
        return found == values.end() ? std::nullopt : std::optional<std::string>{found->second};
    };
}

Shard auto_shard(std::map<std::string, std::string> values, std::optional<std::uint64_t> count = std::nullopt,
                 std::string* source = nullptr) {
    auto choice = shard_from_environment(env_of(std::move(values)), count);
    EXPECT_TRUE(choice.ok()) << choice.error();
    if (!choice) return Shard{99, 99};
    if (source) *source = choice->source;
    return choice->shard;
}

std::string auto_error(std::map<std::string, std::string> values, std::optional<std::uint64_t> count = std::nullopt) {
    auto choice = shard_from_environment(env_of(std::move(values)), count);
    return choice ? "accepted" : choice.error();
}

TEST(ShardSpec, MasscanSpellingCountsFromOne) {
    EXPECT_EQ(*parse_shard_spec("1/4"), (Shard{0, 4}));
    EXPECT_EQ(*parse_shard_spec("4/4"), (Shard{3, 4}));
    EXPECT_EQ(*parse_shard_spec("1/1"), (Shard{0, 1}));
    for (const char* bad : {"0/4", "5/4", "1/0", "x", "", "1/", "/4", "1/4/2", "-1/4", "1 /4", "2"})
        EXPECT_FALSE(parse_shard_spec(bad).ok()) << bad;
    EXPECT_NE(parse_shard_spec("0/4").error().find("counts from 1"), std::string::npos);
}

TEST(ShardSpec, ZmapSpellingCountsFromZero) {
    EXPECT_EQ(*parse_zmap_shard("0", "4"), (Shard{0, 4}));
    EXPECT_EQ(*parse_zmap_shard("3", "4"), (Shard{3, 4}));
    EXPECT_FALSE(parse_zmap_shard("4", "4").ok());
    EXPECT_FALSE(parse_zmap_shard("0", "0").ok());
    EXPECT_FALSE(parse_zmap_shard("a", "4").ok());
    EXPECT_EQ(shard_text(Shard{1, 4}), "2/4");
    EXPECT_EQ(describe_shard(ShardChoice{Shard{1, 4}, "OMPI_COMM_WORLD_RANK"}), "shard 2/4 (from OMPI_COMM_WORLD_RANK)");
}

TEST(ShardAuto, OpenMpiAndPmi) {
    std::string source;
    EXPECT_EQ(auto_shard({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "4"}}, std::nullopt, &source), (Shard{2, 4}));
    EXPECT_EQ(source, "OMPI_COMM_WORLD_RANK");
    EXPECT_EQ(auto_shard({{"PMI_RANK", "0"}, {"PMI_SIZE", "3"}}, std::nullopt, &source), (Shard{0, 3}));
    EXPECT_EQ(source, "PMI_RANK");
    // MPI launched inside a Slurm allocation: the MPI rank wins
    EXPECT_EQ(auto_shard({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}),
              (Shard{1, 2}));
    EXPECT_NE(auto_error({{"OMPI_COMM_WORLD_RANK", "x"}, {"OMPI_COMM_WORLD_SIZE", "4"}}).find("bad OMPI_COMM_WORLD_RANK 'x'"), std::string::npos);
    EXPECT_NE(auto_error({{"OMPI_COMM_WORLD_RANK", "1"}}).find("OMPI_COMM_WORLD_SIZE is not"), std::string::npos);
    EXPECT_NE(auto_error({{"PMI_RANK", "4"}, {"PMI_SIZE", "4"}}).find("not below"), std::string::npos);
    EXPECT_NE(auto_error({{"PMI_RANK", "0"}, {"PMI_SIZE", "0"}}), "accepted");
    EXPECT_NE(auto_error({{"PMI_RANK", "0"}, {"PMI_SIZE", "3"}}, 4).find("--shard-count says 4"), std::string::npos);
}

TEST(ShardAuto, SlurmTasksAndArrays) {
    std::string source;
    EXPECT_EQ(auto_shard({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}}, std::nullopt, &source), (Shard{3, 4}));
    EXPECT_EQ(source, "SLURM_PROCID");
    // --array=1-4: ids from 1
    const std::map<std::string, std::string> array{{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                                                   {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"}};
    EXPECT_EQ(auto_shard(array, std::nullopt, &source), (Shard{0, 4}));
    EXPECT_EQ(source, "SLURM_ARRAY_TASK_ID");
    auto last = array;
    last["SLURM_ARRAY_TASK_ID"] = "4";
    EXPECT_EQ(auto_shard(last), (Shard{3, 4}));
    // --array=10-40:10
    EXPECT_EQ(auto_shard({{"SLURM_ARRAY_TASK_ID", "30"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_MIN", "10"},
                          {"SLURM_ARRAY_TASK_STEP", "10"}}),
              (Shard{2, 4}));
    // a batch script of an array: SLURM_PROCID 0 without SLURM_NTASKS is not a second split
    auto batch = array;
    batch["SLURM_PROCID"] = "0";
    EXPECT_EQ(auto_shard(batch), (Shard{0, 4}));
    // an array of 2 jobs of 3 tasks each: 6 shards
    EXPECT_EQ(auto_shard({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "2"}, {"SLURM_ARRAY_TASK_MIN", "0"},
                          {"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "3"}}),
              (Shard{5, 6}));
    EXPECT_NE(auto_error({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}).find("SLURM_ARRAY_TASK_MIN"), std::string::npos);
    EXPECT_NE(auto_error({{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"}}), "accepted");
    EXPECT_NE(auto_error({{"SLURM_ARRAY_TASK_ID", "zz"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"}}).find("bad SLURM_ARRAY_TASK_ID"),
              std::string::npos);
    EXPECT_NE(auto_error({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", ""}}).find("bad SLURM_NTASKS"), std::string::npos);
}

TEST(ShardAuto, KubernetesIndexedJobNeedsTheCount) {
    std::string source;
    EXPECT_EQ(auto_shard({{"JOB_COMPLETION_INDEX", "2"}}, 4, &source), (Shard{2, 4}));
    EXPECT_EQ(source, "JOB_COMPLETION_INDEX");
    EXPECT_NE(auto_error({{"JOB_COMPLETION_INDEX", "2"}}).find("--shard-count"), std::string::npos);
    EXPECT_NE(auto_error({{"JOB_COMPLETION_INDEX", "4"}}, 4).find("not below"), std::string::npos);
    EXPECT_NE(auto_error({{"JOB_COMPLETION_INDEX", "-1"}}, 4).find("bad JOB_COMPLETION_INDEX"), std::string::npos);
    EXPECT_NE(auto_error({}).find("no rank in the environment"), std::string::npos);
}

Result<CommandLine> parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& arg : args) argv.push_back(arg.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), env_of(std::move(env)));
}

TEST(ShardOptions, ParsedIntoTheConfig) {
    auto line = parse({"--shard", "2/4", "--seed", "7", "-p", "80", "10.0.0.0/24"});
    ASSERT_TRUE(line.ok()) << line.error();
    EXPECT_EQ(line->config.shard.shard, (Shard{1, 4}));
    line = parse({"--shards", "4", "--shard", "1", "--seed", "7", "10.0.0.1"});
    ASSERT_TRUE(line.ok()) << line.error();
    EXPECT_EQ(line->config.shard.shard, (Shard{1, 4}));
    line = parse({"--shard", "auto", "--seed", "7", "10.0.0.1", "-oJ", "out.{shard}.jsonl"}, {{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}});
    ASSERT_TRUE(line.ok()) << line.error();
    EXPECT_EQ(line->config.shard.shard, (Shard{3, 4}));
    EXPECT_EQ(line->config.shard.source, "SLURM_PROCID");
    EXPECT_EQ(line->config.json_path, "out.4-of-4.jsonl");
    EXPECT_EQ(line->config.resume_file, "flagscan.4-of-4.resume");
    line = parse({"--shard", "auto", "--shard-count", "3", "--seed", "7", "10.0.0.1"}, {{"JOB_COMPLETION_INDEX", "0"}});
    ASSERT_TRUE(line.ok()) << line.error();
    EXPECT_EQ(line->config.shard.shard, (Shard{0, 3}));
}

TEST(ShardOptions, Refusals) {
    EXPECT_NE(parse({"--shard", "2/4", "10.0.0.1"}).error().find("--seed"), std::string::npos);
    EXPECT_NE(parse({"--shard", "0/4", "--seed", "1", "10.0.0.1"}).error().find("counts from 1"), std::string::npos);
    EXPECT_FALSE(parse({"--shard", "auto", "--seed", "1", "10.0.0.1"}).ok());
    EXPECT_FALSE(parse({"--shards", "4", "--seed", "1", "10.0.0.1"}).ok());
    EXPECT_FALSE(parse({"--shard", "1/4", "--shard-count", "4", "--seed", "1", "10.0.0.1"}).ok());
    EXPECT_FALSE(parse({"--shard", "1/4", "--seed", "1", "--max-rate", "10", "--max-rate-total", "40", "10.0.0.1"}).ok());
}

TEST(ShardOptions, MaxRateTotalIsSharedByTheShards) {
    auto line = parse({"--shard", "3/4", "--seed", "1", "--max-rate-total", "1000", "10.0.0.1"});
    ASSERT_TRUE(line.ok()) << line.error();
    EXPECT_DOUBLE_EQ(line->config.timing.max_rate, 250.0);
    line = parse({"--max-rate-total", "1000", "10.0.0.1"});  // no shards: one process takes it all
    ASSERT_TRUE(line.ok()) << line.error();
    EXPECT_DOUBLE_EQ(line->config.timing.max_rate, 1000.0);
}

// After discovery a shard owns whole hosts: the N host sets partition the targets.
TEST(ShardHosts, PartitionTheHosts) {
    AddressSet hosts;
    hosts.add(Ipv4Range{*Ipv4::parse("10.0.0.0"), *Ipv4::parse("10.0.0.99")});
    hosts.add(Ipv4Range{*Ipv4::parse("10.0.5.7"), *Ipv4::parse("10.0.5.9")});
    std::set<std::uint32_t> seen;
    std::uint64_t total = 0;
    for (std::uint64_t index = 0; index < 4; ++index) {
        const AddressSet owned = shard_hosts(hosts, 7, Shard{index, 4});
        EXPECT_NEAR(static_cast<double>(owned.size()), 103.0 / 4, 1.0);
        for (std::uint64_t i = 0; i < owned.size(); ++i) {
            EXPECT_TRUE(hosts.contains(owned.at(i)));
            EXPECT_TRUE(seen.insert(owned.at(i).value()).second);
        }
        total += owned.size();
    }
    EXPECT_EQ(total, hosts.size());
}

}  // namespace
}  // namespace flagscan
