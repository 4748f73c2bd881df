// parafit under mpirun: the same answer, bit for bit, for any number of ranks and threads, and
// failures on one rank that stop every rank with one clear message instead of a hang.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <vector>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

#ifdef PARAFIT_MPIEXEC
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string make_data(const std::string& dir, std::size_t rows) {
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows " + std::to_string(rows) +
                                 " --x-range 0:5 --noise 0.05 --seed 4 --out '" + dir + "/d.csv'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return dir + "/d.csv";
}

TEST(CliMpi, SameDigitsAndJsonForAnyRanksAndThreads) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 50000);
  const auto one = run_parafit("fit --data '" + data + "' --model exp-decay --threads 1 --json '" + dir + "/one.json'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  json reference = json::parse(read_file(dir + "/one.json"));
  reference.erase("run");
  for (const auto& [ranks, threads] : std::vector<std::pair<int, int>>{{1, 2}, {2, 1}, {3, 2}, {4, 1}}) {
    const std::string js = dir + "/r" + std::to_string(ranks) + "t" + std::to_string(threads) + ".json";
    const auto r = run_mpi(ranks, "fit --data '" + data + "' --model exp-decay --threads " + std::to_string(threads) +
                                      " --json '" + js + "'", dir);
    ASSERT_EQ(r.code, 0) << ranks << " ranks\n" << r.err;
    EXPECT_EQ(r.out, one.out) << ranks << " ranks x " << threads << " threads";
    json doc = json::parse(read_file(js));
    EXPECT_EQ(doc["run"]["ranks"], ranks);
    doc.erase("run");
    EXPECT_EQ(doc, reference) << ranks << " ranks x " << threads << " threads";
  }
}

TEST(CliMpi, NpyShardsGiveTheSameAnswerAsTheCsv) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 30000);
  ASSERT_EQ(run_parafit("convert --data '" + data + "' --out '" + dir + "/npy'", dir).code, 0);
  const auto csv = run_parafit("fit --data '" + data + "' --model exp-decay --json '" + dir + "/csv.json'", dir);
  ASSERT_EQ(csv.code, 0) << csv.err;
  const auto npy = run_mpi(3, "fit --data '" + dir + "/npy' --model exp-decay --json '" + dir + "/npy.json'", dir);
  ASSERT_EQ(npy.code, 0) << npy.err;
  json a = json::parse(read_file(dir + "/csv.json")), b = json::parse(read_file(dir + "/npy.json"));
  for (auto* doc : {&a, &b}) {
    doc->erase("run");
    (*doc)["data"].erase("source");
  }
  EXPECT_EQ(a, b);
}

TEST(CliMpi, ABadLineInTheLastShardStopsEveryRank) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 20000);
  // Damage a line near the end of the file: it lies in the last rank's byte range.
  std::string text = read_file(data);
  const std::size_t at = text.rfind('\n', text.size() - 200) + 1;
  const std::size_t line = std::size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n')) + 1;
  text.insert(at, "oops");
  write_file(dir + "/bad.csv", text);
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_mpi(3, "fit --data '" + dir + "/bad.csv' --model exp-decay", dir);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "rank 2: " + dir + "/bad.csv:" + std::to_string(line) + ":")) << r.err;
  // One message, from rank 0, not one per rank (mpirun may add its own lines about exit codes).
  std::size_t messages = 0;
  for (std::size_t at = r.err.find("parafit: error:"); at != std::string::npos; at = r.err.find("parafit: error:", at + 1))
    ++messages;
  EXPECT_EQ(messages, 1u) << r.err;
}

TEST(CliMpi, AFileMissingOnOneRankStopsEveryRank) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 5000);
  const auto r = run_mpi(3, "fit --data '" + data + "' --model exp-decay", dir, "PARAFIT_TESTING_HIDE_DATA_RANK=1");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "rank 1: cannot open")) << r.err;
}

TEST(CliMpi, AFitThatFailsStopsEveryRank) {
  const auto dir = scratch_dir();
  // log(x) is undefined for the negative x at the end of the file, in the last rank's rows.
  std::string text = "x,y\n";
  for (int i = 1; i <= 3000; ++i) text += std::to_string(i) + "," + std::to_string(1 + 2 * std::log(i)) + "\n";
  text += "-1,0\n";
  write_file(dir + "/neg.csv", text);
  const auto r = run_mpi(3, "fit --data '" + dir + "/neg.csv' --model log --start a=1,b=1", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "data row 3001")) << r.err;
}

TEST(CliMpi, ARowOnAnotherRankThatBreaksTheStartIsNamedByFileAndLine) {
  const auto dir = scratch_dir();
  // 20,000 rows: with chunks of 8192 rows, row 19,001 lies on rank 2 of 3, not on rank 0, which
  // prints the message.
  std::string text = "x,y\n";
  for (int i = 1; i <= 20000; ++i)
    text += std::to_string(i) + "," + (i == 19001 ? std::string("1e300") : std::to_string(1 + 2 * std::log(i))) + "\n";
  write_file(dir + "/outlier.csv", text);
  const auto r = run_mpi(3, "fit --data '" + dir + "/outlier.csv' --model log --start a=1,b=2", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "data row 19001 (" + dir + "/outlier.csv:19002)")) << r.err;
  EXPECT_TRUE(contains(r.err, "y = 1e+300")) << r.err;
}

TEST(CliMpi, ARankThatDiesEndsTheJobWithinSeconds) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 20000);
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_mpi(3, "fit --data '" + data + "' --model exp-decay", dir,
                         "PARAFIT_TESTING_EXIT_RANK=1 PARAFIT_TESTING_EXIT_AFTER=6");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 124) << "timed out: a rank hung";
  EXPECT_TRUE(contains(r.err, "rank 1: exiting on purpose")) << r.err;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A rank killed by SIGKILL cannot say a word: mpirun sees it die and ends the job (Open MPI 4.1:
// about 1.4 s here, start-up included). Its line, naming the rank and the signal, is the one
// message; no other rank adds an error of its own.
TEST(CliMpi, ARankKilledBySigkillEndsTheJobWithinSeconds) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 20000);
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_mpi(3, "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 50", dir,
                         "PARAFIT_TESTING_KILL_RANK=1 PARAFIT_TESTING_AT_STEP=5");
  const double took = seconds_since(start);
  EXPECT_LT(took, 10.0) << r.err;
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_NE(r.code, 124) << "timed out: a rank hung";
  EXPECT_TRUE(contains(r.err, "rank 1: killing itself with SIGKILL after step 5")) << r.err;
  EXPECT_TRUE(contains(r.err, "process rank 1")) << r.err;
  EXPECT_TRUE(contains(r.err, "signal 9")) << r.err;
  EXPECT_EQ(count_of(r.err, "parafit: error"), 0u) << r.err;
  std::fprintf(stderr, "SIGKILL of rank 1 of 3: the job ended after %.2f s\n", took);
}

// A rank that hangs (stops answering without dying): the rank waiting for it gives up after
// --rank-timeout, names it, and ends the job; one parafit message, whichever rank hangs.
TEST(CliMpi, AHungRankIsNamedAfterTheRankTimeout) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 20000);
  for (const auto& [ranks, hung] : std::vector<std::pair<int, int>>{{3, 2}, {2, 0}}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_mpi(ranks, "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 50 --rank-timeout 2",
                           dir, "PARAFIT_TESTING_HANG_RANK=" + std::to_string(hung) + " PARAFIT_TESTING_AT_STEP=5");
    const double took = seconds_since(start);
    EXPECT_LT(took, 10.0) << r.err;
    EXPECT_GE(took, 2.0) << r.err;
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains(r.err, "timed out after 2000 ms: rank " + std::to_string(hung) + " does not answer")) << r.err;
    EXPECT_TRUE(contains(r.err, "--rank-timeout")) << r.err;
    EXPECT_EQ(count_of(r.err, "parafit: error:"), 1u) << r.err;
    std::fprintf(stderr, "rank %d of %d hung, --rank-timeout 2: the job ended after %.2f s\n", hung, ranks, took);
  }
}

// The parameter server (--sync ssp:S): a worker or a server that hangs is named within the 10 s
// its default rank timeout allows, and one that dies ends the job at once; one parafit message.
TEST(CliMpi, AParameterServerEndsEveryRankWhenAWorkerOrServerHangsOrDies) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 20000);
  const std::string args = "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 50 --sync ssp:1";
  struct Case {
    std::string env, expect;
    int code;
  };
  const std::vector<Case> cases = {
      // rank 2 of 3 is the server: it hangs as it sends its 20th result. Both workers wait for it
      // and time out together; the one that does not report leaves without MPI_Finalize too
      // (run_main.cpp: otherwise mpirun could deadlock ending the job).
      {"PARAFIT_TESTING_HANG_RANK=2 PARAFIT_TESTING_HANG_OP=isend PARAFIT_TESTING_AT_STEP=20",
       "timed out after 10000 ms: rank 2 does not answer", 1},
      {"PARAFIT_TESTING_HANG_RANK=1 PARAFIT_TESTING_AT_STEP=5", "timed out after 10000 ms: rank 1 does not answer", 1},
      {"PARAFIT_TESTING_EXIT_RANK=2 PARAFIT_TESTING_EXIT_OP=isend PARAFIT_TESTING_EXIT_AFTER=20",
       "exiting on purpose in isend 20", -1},
      {"PARAFIT_TESTING_EXIT_RANK=0 PARAFIT_TESTING_EXIT_OP=isend PARAFIT_TESTING_EXIT_AFTER=20",
       "exiting on purpose in isend 20", -1},
  };
  for (const Case& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_mpi(3, args, dir, c.env);
    const double took = seconds_since(start);
    // The message's "timed out after 10000 ms" is the 10 s bound; the wall time also counts mpirun's
    // start, the data and the steps before the hang, and its teardown, which a loaded 2-core machine
    // stretches (17.7 s seen while another build ran): a liveness bound, not the 10 s claim.
    EXPECT_LT(took, 30.0) << c.env << "\n" << r.err;
    if (c.code >= 0) {
      EXPECT_EQ(r.code, c.code) << c.env << "\n" << r.err;
      EXPECT_EQ(count_of(r.err, "parafit: error:"), 1u) << r.err;
    } else {
      EXPECT_NE(r.code, 0) << c.env << "\n" << r.err;
    }
    EXPECT_TRUE(contains(r.err, c.expect)) << c.env << "\n" << r.err;
    std::fprintf(stderr, "ssp:1, %s: the job ended after %.2f s\n", c.env.c_str(), took);
  }
}

// PARAFIT_RANK_TIMEOUT sets the timeout when the flag is not given.
TEST(CliMpi, TheRankTimeoutComesFromTheEnvironmentToo) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 20000);
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_mpi(2, "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 50", dir,
                         "PARAFIT_RANK_TIMEOUT=1.5 PARAFIT_TESTING_HANG_RANK=1 PARAFIT_TESTING_AT_STEP=3");
  EXPECT_LT(seconds_since(start), 10.0) << r.err;
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "timed out after 1500 ms: rank 1 does not answer")) << r.err;
}

// Tensor parallelism (--tensor-parallel T) under mpirun: 2 slices train to one rank's weights to
// rounding, a second data-parallel position changes no bit, and a slice that hangs or dies ends
// every rank with one message (the hung rank named by its number in the job).
TEST(CliMpi, TensorParallelSlicesAgreeWithOneRankAndEndTogetherWhenOneFails) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 4000);
  const std::string args = "train --data '" + data + "' --model mlp:16,12,8 --precision float64 --batch 64";
  const auto weights = [&](const std::string& file) {
    std::ifstream in(dir + "/" + file);
    return json::parse(in)["weights"].get<std::vector<double>>();
  };
  const auto one = run_mpi(1, args + " --epochs 2 --save '" + dir + "/one.model'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  const auto t2 = run_mpi(2, args + " --epochs 2 --tensor-parallel 2 --save '" + dir + "/t2.model'", dir);
  ASSERT_EQ(t2.code, 0) << t2.err;
  EXPECT_TRUE(contains(t2.out, "Grid:        1 data-parallel x 1 pipeline stage(s) x 2 tensor-parallel rank(s)")) << t2.out;
  const auto d2 = run_mpi(4, args + " --epochs 2 --tensor-parallel 2 --save '" + dir + "/d2.model'", dir);
  ASSERT_EQ(d2.code, 0) << d2.err;
  const std::vector<double> w1 = weights("one.model"), w2 = weights("t2.model");
  ASSERT_EQ(w1.size(), w2.size());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < w1.size(); ++i) {
    diff = std::max(diff, std::abs(w1[i] - w2[i]));
    scale = std::max(scale, std::abs(w1[i]));
  }
  EXPECT_LT(diff, 1e-12 * scale);
  EXPECT_EQ(weights("d2.model"), w2);
  // Faults on a 2 x 2 grid: rank 1 is slice 1 of position 0, rank 2 slice 0 of position 1.
  for (const int hung : {1, 2}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_mpi(4, args + " --epochs 50 --tensor-parallel 2 --rank-timeout 2", dir,
                           "PARAFIT_TESTING_HANG_RANK=" + std::to_string(hung) + " PARAFIT_TESTING_AT_STEP=5");
    EXPECT_LT(seconds_since(start), 30.0) << r.err;
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains(r.err, "rank " + std::to_string(hung) + " does not answer")) << r.err;
    EXPECT_EQ(count_of(r.err, "parafit: error:"), 1u) << r.err;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_mpi(4, args + " --epochs 50 --tensor-parallel 2", dir,
                         "PARAFIT_TESTING_KILL_RANK=3 PARAFIT_TESTING_AT_STEP=5");
  EXPECT_LT(seconds_since(start), 30.0) << r.err;
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_NE(r.code, 124) << "timed out: a rank hung";
  EXPECT_TRUE(contains(r.err, "process rank 3")) << r.err;
  EXPECT_EQ(count_of(r.err, "parafit: error"), 0u) << r.err;
}

// Pipeline parallelism under mpirun: 2 and 3 stages give one rank's bits with the micro-batches
// accumulated, the plan is printed, and a stage that hangs or dies ends every rank with one message.
TEST(CliMpi, PipelineStagesGiveOneRanksBitsAndEndTogetherWhenOneFails) {
  const auto dir = scratch_dir();
  const std::string data = make_data(dir, 4000);
  const std::string args = "train --data '" + data + "' --model mlp:16,12,8 --precision float64";
  const auto weights = [&](const std::string& file) {
    std::ifstream in(dir + "/" + file);
    return json::parse(in)["weights"].get<std::vector<double>>();
  };
  const auto one = run_mpi(1, args + " --epochs 2 --batch 16 --accum 4 --save '" + dir + "/one.model'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  for (const std::string grid : {"2 --pipeline-schedule gpipe", "3 --recompute", "4 --tensor-parallel 2"}) {
    const int ranks = grid[0] == '4' ? 4 : grid[0] - '0';
    const std::string stages = grid[0] == '4' ? "2" + grid.substr(1) : grid;
    const auto r = run_mpi(ranks, args + " --epochs 2 --batch 64 --micro-batches 4 --pipeline-stages " + stages +
                                      " --save '" + dir + "/p.model'",
                           dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "stage 1: layer")) << r.out;
    if (grid[0] == '4') {  // tensor slices inside the stages: to rounding
      const std::vector<double> a = weights("p.model"), b = weights("one.model");
      for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << i;
    } else {
      EXPECT_EQ(weights("p.model"), weights("one.model")) << grid;
    }
  }
  // Per-part checkpoints, gathered into an ordinary model file by resuming the finished run on the
  // same grid with --save (no step is taken): the same file as the run's own --save.
  const std::string grid = args + " --epochs 2 --batch 64 --micro-batches 4 --pipeline-stages 2 --tensor-parallel 2";
  ASSERT_EQ(run_mpi(4, grid + " --checkpoint '" + dir + "/ck' --save '" + dir + "/direct.model'", dir).code, 0);
  const auto gathered = run_mpi(4, grid + " --resume '" + dir + "/ck' --save '" + dir + "/gathered.model'", dir);
  ASSERT_EQ(gathered.code, 0) << gathered.err;
  EXPECT_EQ(weights("gathered.model"), weights("direct.model"));
  for (const int hung : {1, 2}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_mpi(3, args + " --epochs 50 --batch 64 --micro-batches 4 --pipeline-stages 3 --rank-timeout 2",
                           dir, "PARAFIT_TESTING_HANG_RANK=" + std::to_string(hung) + " PARAFIT_TESTING_AT_STEP=5");
    EXPECT_LT(seconds_since(start), 30.0) << r.err;
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains(r.err, "rank " + std::to_string(hung) + " does not answer")) << r.err;
    EXPECT_EQ(count_of(r.err, "parafit: error:"), 1u) << r.err;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_mpi(3, args + " --epochs 50 --batch 64 --micro-batches 4 --pipeline-stages 3", dir,
                         "PARAFIT_TESTING_KILL_RANK=2 PARAFIT_TESTING_AT_STEP=5");
  EXPECT_LT(seconds_since(start), 30.0) << r.err;
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_NE(r.code, 124) << "timed out: a rank hung";
  EXPECT_TRUE(contains(r.err, "process rank 2")) << r.err;
  EXPECT_EQ(count_of(r.err, "parafit: error"), 0u) << r.err;
}
#else
TEST(CliMpi, SkippedWithoutMpi) { GTEST_SKIP() << "parafit was built without MPI"; }
#endif

// --rank-timeout and PARAFIT_RANK_TIMEOUT are checked on every run, MPI or not: a bad value is a
// usage error naming the flag or the variable, and --help says what they do.
TEST(CliRankTimeout, BadValuesAreUsageErrorsAndHelpExplains) {
  const auto dir = scratch_dir();
  const auto has = [](const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; };
  for (const char* cmd : {"fit", "train"}) {
    const auto help = run_parafit(std::string(cmd) + " --help", dir);
    EXPECT_TRUE(has(help.out, "--rank-timeout")) << help.out;
    EXPECT_TRUE(has(help.out, "PARAFIT_RANK_TIMEOUT")) << help.out;
    const auto negative = run_parafit(std::string(cmd) + " --data none.csv --model exp-decay --rank-timeout -1", dir);
    EXPECT_EQ(negative.code, 2) << negative.err;
    EXPECT_TRUE(has(negative.err, "--rank-timeout: '-1' is not a number of seconds in [0, 1e+06]")) << negative.err;
  }
  write_file(dir + "/d.csv", "x,y\n0,3\n1,1.4\n2,0.7\n3,0.55\n4,0.51\n");
  ::setenv("PARAFIT_RANK_TIMEOUT", "soon", 1);
  const auto bad = run_parafit("fit --data '" + dir + "/d.csv' --model exp-decay", dir);
  ::setenv("PARAFIT_RANK_TIMEOUT", "-3", 1);
  const auto negative = run_parafit("fit --data '" + dir + "/d.csv' --model exp-decay", dir);
  ::setenv("PARAFIT_RANK_TIMEOUT", "5", 1);
  const auto good = run_parafit("fit --data '" + dir + "/d.csv' --model exp-decay", dir);
  ::unsetenv("PARAFIT_RANK_TIMEOUT");
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_TRUE(has(bad.err, "PARAFIT_RANK_TIMEOUT: 'soon' is not a finite number")) << bad.err;
  EXPECT_EQ(negative.code, 2) << negative.err;
  EXPECT_TRUE(has(negative.err, "PARAFIT_RANK_TIMEOUT: '-3' is not a number of seconds in [0, 1e+06]")) << negative.err;
  EXPECT_EQ(good.code, 0) << good.err;
}

}  // namespace
}  // namespace parafit::testing
