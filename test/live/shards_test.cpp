// Live shards: 4 processes started by mpirun (--shard auto from OMPI_COMM_WORLD_RANK), by hand
// with Slurm's or a Kubernetes Indexed Job's variables, or with --shard I/N, scan the lab; after
// `flagscan merge` their outputs are exactly the single process's result, each shard ran about
// a quarter, and no process wrote another's file.
#include "live_support.hpp"

#include <cstdlib>
#include <functional>
#include <filesystem>

namespace flagscan::live {
namespace {

constexpr int kRanks = 4;
const std::vector<std::string> kPorts{"-p", "1-200"};
// -Pn also scans the lab's dropped hosts, whose silent ports cost timeouts: fewer ports.
const std::vector<std::string> kPortsPn{"-p", "1-60", "-Pn"};

std::string subnet() { return lab_address(16) + "/28"; }  // routed into the lab (not on-link)

std::string quoted(const std::vector<std::string>& args) {
    std::string text;
    for (const auto& arg : args) text += " '" + arg + "'";
    return text;
}

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// mpirun as root, its own traffic kept on loopback (--mca btl self: ranks never talk; oob over lo).
std::vector<std::string> mpirun(const std::vector<std::string>& command) {
    std::vector<std::string> argv{"env", "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "mpirun",
                                  "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self", "--mca",
                                  "oob_tcp_if_include", "lo", "-n", std::to_string(kRanks)};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

// Four processes at once, each with its own variables (ENV(i)), the way Slurm or Kubernetes would.
std::vector<std::string> by_hand(const std::function<std::string(int)>& env, const std::vector<std::string>& command) {
    std::string script;
    for (int i = 0; i < kRanks; ++i) script += "env " + env(i) + quoted(command) + " & ";
    return {"sh", "-c", script + "wait"};
}

class Shards : public LabTest {
protected:
    // flagscan ARGS over the subnet, once whole (single) and once launched by LAUNCH in 4 shards;
    // both results as verdict maps, the shard outputs' port lines and hosts counted per file.
    void expect_shards_equal_single(const std::vector<std::string>& args, const std::vector<std::string>& shard_args,
                                    const std::function<std::vector<std::string>(const std::vector<std::string>&)>& launch) {
        const TempDir dir;
        std::vector<std::string> single{flagscan_bin(), "-n", "--seed", "7", "-oJ", dir.path() + "/single.jsonl"};
        single.insert(single.end(), args.begin(), args.end());
        single.push_back(subnet());
        const ProcessResult whole = run_process(single, std::chrono::seconds(120));
        ASSERT_EQ(whole.exit_code, 0) << whole.describe();

        std::vector<std::string> sharded{flagscan_bin(), "-n", "--seed", "7", "-oJ", dir.path() + "/out.{shard}.jsonl"};
        sharded.insert(sharded.end(), args.begin(), args.end());
        sharded.insert(sharded.end(), shard_args.begin(), shard_args.end());
        sharded.push_back(subnet());
        const ProcessResult shards = run_process(launch(sharded), std::chrono::seconds(180));
        ASSERT_EQ(shards.exit_code, 0) << shards.describe();

        std::vector<std::string> merge{flagscan_bin(), "merge"};
        std::uint64_t total = 0;
        std::vector<std::uint64_t> per_shard;
        for (int i = 1; i <= kRanks; ++i) {
            const std::string path = dir.path() + "/out." + std::to_string(i) + "-of-4.jsonl";
            ASSERT_TRUE(std::filesystem::exists(path)) << path << "\n" << shards.describe();
            merge.push_back(path);
            std::uint64_t decided = 0;
            for (const auto& host : read_scan_output(path).hosts)
                for (const auto& [state, count] : host.counts) decided += static_cast<std::uint64_t>(count);
            per_shard.push_back(decided);
            total += decided;
        }
        merge.insert(merge.end(), {"-o", dir.path() + "/merged.jsonl"});
        const ProcessResult merged = run_process(merge, std::chrono::seconds(30));
        ASSERT_EQ(merged.exit_code, 0) << merged.describe();

        std::vector<PortKey> duplicates;
        const ScanOutput one = read_scan_output(dir.path() + "/single.jsonl");
        const ScanOutput combined = read_scan_output(dir.path() + "/merged.jsonl");
        EXPECT_TRUE(combined.errors.empty()) << combined.errors.front();
        const VerdictMap expected = verdicts_of(one, duplicates), got = verdicts_of(combined, duplicates);
        EXPECT_TRUE(duplicates.empty());
        EXPECT_FALSE(expected.empty());
        EXPECT_EQ(describe_differences(states_only(expected), states_only(got)), "");
        EXPECT_EQ(combined.hosts.size(), one.hosts.size());
        for (const std::uint64_t share : per_shard)  // about a quarter each
            EXPECT_NEAR(static_cast<double>(share), static_cast<double>(total) / kRanks, total / 8.0) << "shares of " << total;
    }
};

TEST_F(Shards, MpirunFourRanksMergeToTheSingleProcessResult) {
    if (!have_mpirun()) GTEST_SKIP() << "mpirun is not installed (package openmpi-bin)";
    expect_shards_equal_single(kPorts, {"--shard", "auto"}, mpirun);
}

// -Pn to routed hosts: no discovery, so the shards split the port scan's walk (every 4th probe).
TEST_F(Shards, MpirunSplitsTheProbesWithoutDiscovery) {
    if (!have_mpirun()) GTEST_SKIP() << "mpirun is not installed (package openmpi-bin)";
    expect_shards_equal_single(kPortsPn, {"--shard", "auto"}, mpirun);
}

TEST_F(Shards, SlurmVariablesByHand) {
    expect_shards_equal_single(kPorts, {"--shard", "auto"}, [](const std::vector<std::string>& command) {
        return by_hand([](int i) { return "SLURM_PROCID=" + std::to_string(i) + " SLURM_NTASKS=4"; }, command);
    });
}

TEST_F(Shards, SlurmArrayFromOneByHand) {
    expect_shards_equal_single(kPorts, {"--shard", "auto"}, [](const std::vector<std::string>& command) {
        return by_hand([](int i) {
            return "SLURM_ARRAY_TASK_ID=" + std::to_string(i + 1) + " SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=4 SLURM_ARRAY_TASK_COUNT=4";
        }, command);
    });
}

TEST_F(Shards, KubernetesIndexedJobByHand) {
    expect_shards_equal_single(kPortsPn, {"--shard", "auto", "--shard-count", "4"}, [](const std::vector<std::string>& command) {
        return by_hand([](int i) { return "JOB_COMPLETION_INDEX=" + std::to_string(i); }, command);
    });
}

TEST_F(Shards, WithoutSeedRefused) {
    const ProcessResult refused = run_process({flagscan_bin(), "-n", "--shard", "1/4", "-p", "80", subnet()}, std::chrono::seconds(10));
    EXPECT_EQ(refused.exit_code, 1) << refused.describe();
    EXPECT_NE(refused.err.find("--seed"), std::string::npos) << refused.describe();
}

}  // namespace
}  // namespace flagscan::live
